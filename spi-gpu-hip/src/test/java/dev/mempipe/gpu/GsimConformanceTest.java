package dev.mempipe.gpu;

import dev.mempipe.goldentests.ApplyContract;
import dev.mempipe.goldentests.DeviceContract;
import dev.mempipe.goldentests.PrepareContract;
import dev.mempipe.goldentests.RelevancyContract;
import dev.mempipe.goldentests.RetrievalContract;
import dev.mempipe.spi.Backend;
import org.junit.jupiter.api.Nested;

/**
 * The conformance kit on the GPU backend over gsim (PrepareContract: its only GPU op is the tiled project): the kernel source built with g++, driven through the
 * unchanged CUDA binding, at warp size 32 (NVIDIA; blocks of 128 threads) and 64 (AMD; blocks of 256), GPU
 * threads as fibers; the retrieval contract (whose top-k and threshold kernels use atomics) also with one OS
 * thread per GPU thread. Ops the backend does not declare are reported as skipped by the kit. Sizes are the
 * kit's defaults ({@code -Dmempipe.kit.scale} scales them up).
 */
class GsimConformanceTest {

    @Nested
    class RetrievalOsThreads extends RetrievalContract {
        @Override
        protected Backend backend() {
            return Gsim.backendOnOsThreads(32);
        }
    }

    @Nested
    class PrepareWarp32 extends PrepareContract {
        @Override
        protected Backend backend() {
            return Gsim.backend(32);
        }
    }

    @Nested
    class PrepareWarp64 extends PrepareContract {
        @Override
        protected Backend backend() {
            return Gsim.backend(64);
        }
    }

    @Nested
    class RelevancyWarp32 extends RelevancyContract {
        @Override
        protected Backend backend() {
            return Gsim.backend(32);
        }
    }

    @Nested
    class RetrievalWarp32 extends RetrievalContract {
        @Override
        protected Backend backend() {
            return Gsim.backend(32);
        }
    }

    @Nested
    class ApplyWarp32 extends ApplyContract {
        @Override
        protected Backend backend() {
            return Gsim.backend(32);
        }
    }

    @Nested
    class DeviceWarp32 extends DeviceContract {
        @Override
        protected Backend backend() {
            return Gsim.backend(32);
        }
    }

    @Nested
    class RelevancyWarp64 extends RelevancyContract {
        @Override
        protected Backend backend() {
            return Gsim.backend(64);
        }
    }

    @Nested
    class RetrievalWarp64 extends RetrievalContract {
        @Override
        protected Backend backend() {
            return Gsim.backend(64);
        }
    }

    @Nested
    class ApplyWarp64 extends ApplyContract {
        @Override
        protected Backend backend() {
            return Gsim.backend(64);
        }
    }

    @Nested
    class DeviceWarp64 extends DeviceContract {
        @Override
        protected Backend backend() {
            return Gsim.backend(64);
        }
    }
}
