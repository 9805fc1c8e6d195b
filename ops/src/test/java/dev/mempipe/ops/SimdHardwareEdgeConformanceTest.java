package dev.mempipe.ops;

import dev.mempipe.goldentests.HardwareEdgeContract;
import dev.mempipe.spi.Backend;

/** The conformance kit's HardwareEdgeContract (index fields past 2^16 and 2^24, long rows, extreme codes, block and tile edges) run against the SIMD backend. */
class SimdHardwareEdgeConformanceTest extends HardwareEdgeContract {
    @Override
    protected Backend backend() {
        return new SimdBackend();
    }
}
