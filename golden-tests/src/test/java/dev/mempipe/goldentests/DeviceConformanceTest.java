package dev.mempipe.goldentests;

import dev.mempipe.spi.Backend;
import org.junit.jupiter.api.Nested;

/**
 * The device contract against the oracle (whose pins are the host identity) and against a device that keeps a
 * separate copy of pinned data (whose answers depend on refresh being called): both must pass.
 */
class DeviceConformanceTest {

    @Nested
    class Oracle extends DeviceContract {
        @Override
        protected Backend backend() {
            return new ScalarBackend();
        }
    }

    @Nested
    class SeparateCopy extends DeviceContract {
        @Override
        protected Backend backend() {
            return new SeparateCopyDevice("separate-copy", new ScalarBackend());
        }
    }
}
