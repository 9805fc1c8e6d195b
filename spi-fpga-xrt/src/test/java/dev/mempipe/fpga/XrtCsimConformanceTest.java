package dev.mempipe.fpga;

import dev.mempipe.goldentests.DeviceContract;
import dev.mempipe.goldentests.RelevancyContract;
import dev.mempipe.goldentests.RetrievalContract;
import dev.mempipe.spi.Backend;
import org.junit.jupiter.api.Nested;

/**
 * The conformance kit against the XRT backend on the csim device: every declared op and element type (dot,
 * topK, bm25Score), the fused compositions, pinned inputs (views, refresh, close) and the declared maxK. The
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
}
