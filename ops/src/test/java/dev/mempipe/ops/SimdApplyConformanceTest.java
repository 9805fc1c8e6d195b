package dev.mempipe.ops;

import dev.mempipe.goldentests.ApplyContract;
import dev.mempipe.spi.Backend;

/** The conformance kit's Apply contract run against the SIMD backend. */
class SimdApplyConformanceTest extends ApplyContract {
    @Override
    protected Backend backend() {
        return new SimdBackend();
    }
}
