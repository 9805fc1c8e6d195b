package dev.mempipe.ops;

import dev.mempipe.goldentests.RetrievalContract;
import dev.mempipe.spi.Backend;

/** The conformance kit's Retrieval contract run against the SIMD backend. */
class SimdRetrievalConformanceTest extends RetrievalContract {
    @Override
    protected Backend backend() {
        return new SimdBackend();
    }
}
