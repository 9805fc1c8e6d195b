package dev.mempipe.fpga;

import dev.mempipe.goldentests.DeviceContract;
import dev.mempipe.goldentests.RelevancyContract;
import dev.mempipe.goldentests.RetrievalContract;
import dev.mempipe.spi.Backend;
import org.junit.jupiter.api.Nested;

/**
 * The conformance kit against the XRT backend on the csim device: every declared op and element type (dot,
 * questBound, indexerScore, groupMax, topK, threshold, bm25Score), the fused ops (one kernel run each), pinned
 * inputs (views, refresh, close) and the declared maxK; the score ops and fused ops also on the 32-channel build. The
 * kit's sizes are its defaults; -Dmempipe.kit.scale scales them up.
 */
class XrtCsimConformanceTest {

    @Nested
    class Relevancy extends RelevancyContract {
        @Override
        protected Backend backend() {
            return Csim.backend();
        }
    }

    @Nested
    class Retrieval extends RetrievalContract {
        @Override
        protected Backend backend() {
            return Csim.backend();
        }
    }

    @Nested
    class Device extends DeviceContract {
        @Override
        protected Backend backend() {
            return Csim.backend();
        }
    }

    /** The score kernel's 32-channel build (score32): every score op and fused op again. */
    @Nested
    class Relevancy32Channels extends RelevancyContract {
        @Override
        protected Backend backend() {
            return Csim.csimBackend(32);
        }
    }

    @Nested
    class Device32Channels extends DeviceContract {
        @Override
        protected Backend backend() {
            return Csim.csimBackend(32);
        }
    }
}
