package dev.mempipe.ops;

import dev.mempipe.goldentests.LifecycleContract;
import dev.mempipe.spi.Backend;

/** The conformance kit's LifecycleContract run against the SIMD backend. */
class SimdLifecycleConformanceTest extends LifecycleContract {
    @Override
    protected Backend backend() {
        return new SimdBackend();
    }
}
