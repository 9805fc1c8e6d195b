package dev.mempipe.ops;

import dev.mempipe.goldentests.DeviceContract;
import dev.mempipe.spi.Backend;

/** The SIMD backend's fused ops equal their compositions; its pins are the identity. */
class SimdDeviceConformanceTest extends DeviceContract {
    @Override
    protected Backend backend() {
        return new SimdBackend();
    }
}
