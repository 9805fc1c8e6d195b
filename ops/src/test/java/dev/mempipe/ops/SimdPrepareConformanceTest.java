package dev.mempipe.ops;

import dev.mempipe.goldentests.PrepareContract;
import dev.mempipe.spi.Backend;

/** The conformance kit's Prepare contract run against the SIMD backend. */
class SimdPrepareConformanceTest extends PrepareContract {
    @Override
    protected Backend backend() {
        return new SimdBackend();
    }
}
