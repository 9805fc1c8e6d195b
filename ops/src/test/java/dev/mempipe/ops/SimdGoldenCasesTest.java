package dev.mempipe.ops;

import dev.mempipe.goldentests.GoldenCasesContract;
import dev.mempipe.spi.Backend;

/** The SIMD backend reproduces the golden cases that an independent NumPy implementation produced. */
class SimdGoldenCasesTest extends GoldenCasesContract {
    @Override
    protected Backend backend() {
        return new SimdBackend();
    }
}
