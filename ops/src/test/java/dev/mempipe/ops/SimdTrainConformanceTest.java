package dev.mempipe.ops;

import dev.mempipe.goldentests.TrainContract;
import dev.mempipe.spi.Backend;

/** The conformance kit's contract of the parametric-memory ops run against the SIMD backend. */
class SimdTrainConformanceTest extends TrainContract {
    @Override
    protected Backend backend() {
        return new SimdBackend();
    }
}
