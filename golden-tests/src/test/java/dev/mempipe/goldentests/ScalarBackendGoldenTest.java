package dev.mempipe.goldentests;

import dev.mempipe.spi.Backend;

/** The oracle must reproduce the cases numpy computed independently. */
class ScalarBackendGoldenTest extends GoldenCasesContract {

    @Override
    protected Backend backend() {
        return new ScalarBackend();
    }
}
