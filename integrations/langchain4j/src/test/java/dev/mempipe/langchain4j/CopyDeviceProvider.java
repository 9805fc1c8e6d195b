package dev.mempipe.langchain4j;

import dev.mempipe.goldentests.SeparateCopyDevice;
import dev.mempipe.ops.SimdBackend;
import dev.mempipe.spi.Availability;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.BackendProvider;

/**
 * A test-only backend registered through ServiceLoader from this module's test resources: the kit's
 * {@link SeparateCopyDevice} (pinned data lives in a copy of its own, as in GPU memory) over the SIMD ops. Its
 * priority is far below the CPU backend's, so it is chosen only when {@code -Dmempipe.backend=test-copy-device}
 * asks for it.
 */
public final class CopyDeviceProvider implements BackendProvider {
    public static final String NAME = "test-copy-device";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return -1000;
    }

    @Override
    public Availability availability() {
        return Availability.available("test backend");
    }

    @Override
    public Backend create() {
        return new SeparateCopyDevice(NAME, new SimdBackend());
    }
}
