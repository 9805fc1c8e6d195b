package dev.mempipe.goldentests;

import dev.mempipe.spi.Backend;

/** The train contract against the oracle itself: the kit's checks of shapes and its tolerances hold for it. */
class OracleTrainConformanceTest extends TrainContract {
    @Override
    protected Backend backend() {
        return new ScalarBackend();
    }
}
