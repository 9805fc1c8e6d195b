package dev.mempipe.goldentests.example;

import dev.mempipe.goldentests.ConcurrencyContract;
import dev.mempipe.goldentests.DeviceContract;
import dev.mempipe.goldentests.GoldenCasesContract;
import dev.mempipe.goldentests.HardwareEdgeContract;
import dev.mempipe.goldentests.LifecycleContract;
import dev.mempipe.goldentests.RelevancyContract;
import dev.mempipe.goldentests.RetrievalContract;
import dev.mempipe.spi.Backend;
import org.junit.jupiter.api.Nested;

/** The README's example backend through every contract that has a test for dot, topK or gather. */
class ThreeOpBackendConformanceTest {
    @Nested
    class Relevancy extends RelevancyContract {
        @Override
        protected Backend backend() {
            return new ThreeOpBackend();
        }
    }

    @Nested
    class Retrieval extends RetrievalContract {
        @Override
        protected Backend backend() {
            return new ThreeOpBackend();
        }
    }

    @Nested
    class Device extends DeviceContract {
        @Override
        protected Backend backend() {
            return new ThreeOpBackend();
        }
    }

    @Nested
    class HardwareEdges extends HardwareEdgeContract {
        @Override
        protected Backend backend() {
            return new ThreeOpBackend();
        }
    }

    @Nested
    class Concurrency extends ConcurrencyContract {
        @Override
        protected Backend backend() {
            return new ThreeOpBackend();
        }
    }

    @Nested
    class Lifecycle extends LifecycleContract {
        @Override
        protected Backend backend() {
            return new ThreeOpBackend();
        }
    }

    @Nested
    class Golden extends GoldenCasesContract {
        @Override
        protected Backend backend() {
            return new ThreeOpBackend();
        }
    }
}
