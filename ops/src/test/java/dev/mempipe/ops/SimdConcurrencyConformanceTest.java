package dev.mempipe.ops;

import dev.mempipe.goldentests.ConcurrencyContract;
import dev.mempipe.spi.Backend;

/** The conformance kit's ConcurrencyContract run against the SIMD backend. */
class SimdConcurrencyConformanceTest extends ConcurrencyContract {
    @Override
    protected Backend backend() {
        return new SimdBackend();
    }
}
