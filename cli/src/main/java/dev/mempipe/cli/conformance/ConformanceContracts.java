package dev.mempipe.cli.conformance;

import dev.mempipe.goldentests.ApplyContract;
import dev.mempipe.goldentests.ConcurrencyContract;
import dev.mempipe.goldentests.DeviceContract;
import dev.mempipe.goldentests.GoldenCasesContract;
import dev.mempipe.goldentests.HardwareEdgeContract;
import dev.mempipe.goldentests.LifecycleContract;
import dev.mempipe.goldentests.PrepareContract;
import dev.mempipe.goldentests.RelevancyContract;
import dev.mempipe.goldentests.RetrievalContract;
import dev.mempipe.spi.Backend;

/**
 * The kit's contracts bound to the backend chosen on the command line ({@link ConformanceTarget}): the same
 * one-method subclasses a backend's own test suite writes. They live in main code because the command launches
 * them from its jar; nothing else runs them.
 */
final class ConformanceContracts {
    private ConformanceContracts() {
    }

    static final class Prepare extends PrepareContract {
        @Override
        protected Backend backend() {
            return ConformanceTarget.newBackend();
        }
    }

    static final class Relevancy extends RelevancyContract {
        @Override
        protected Backend backend() {
            return ConformanceTarget.newBackend();
        }
    }

    static final class Retrieval extends RetrievalContract {
        @Override
        protected Backend backend() {
            return ConformanceTarget.newBackend();
        }
    }

    static final class Apply extends ApplyContract {
        @Override
        protected Backend backend() {
            return ConformanceTarget.newBackend();
        }
    }

    static final class GoldenCases extends GoldenCasesContract {
        @Override
        protected Backend backend() {
            return ConformanceTarget.newBackend();
        }
    }

    static final class Device extends DeviceContract {
        @Override
        protected Backend backend() {
            return ConformanceTarget.newBackend();
        }
    }

    static final class HardwareEdges extends HardwareEdgeContract {
        @Override
        protected Backend backend() {
            return ConformanceTarget.newBackend();
        }
    }

    static final class Concurrency extends ConcurrencyContract {
        @Override
        protected Backend backend() {
            return ConformanceTarget.newBackend();
        }
    }

    static final class Lifecycle extends LifecycleContract {
        @Override
        protected Backend backend() {
            return ConformanceTarget.newBackend();
        }
    }
}
