package dev.mempipe.ops;

import dev.mempipe.goldentests.RelevancyContract;
import dev.mempipe.spi.Backend;

/** The conformance kit's Relevancy contract run against the SIMD backend. */
class SimdRelevancyConformanceTest extends RelevancyContract {
    @Override
    protected Backend backend() {
        return new SimdBackend();
    }
}
