package dev.mempipe.goldentests;

import dev.mempipe.spi.Backend;
import org.junit.jupiter.api.Nested;

/**
 * The kit against {@link Float32Backend}, a correct backend with real f32 rounding: every property must hold,
 * which shows that the kit's error bounds leave room for honest f32 and vector implementations.
 */
class Float32ConformanceTest {

    @Nested
    class Prepare extends PrepareContract {
        @Override
        protected Backend backend() {
            return new Float32Backend();
        }
    }

    @Nested
    class Relevancy extends RelevancyContract {
        @Override
        protected Backend backend() {
            return new Float32Backend();
        }
    }

    @Nested
    class Apply extends ApplyContract {
        @Override
        protected Backend backend() {
            return new Float32Backend();
        }
    }
}
