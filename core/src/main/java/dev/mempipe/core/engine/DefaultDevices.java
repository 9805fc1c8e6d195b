package dev.mempipe.core.engine;

import dev.mempipe.core.placement.Device;
import dev.mempipe.ops.SimdBackend;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.BackendProvider;
import dev.mempipe.spi.Backends;

import java.util.List;

/**
 * The devices of an {@link Engine} whose builder names none, found through {@link Backends} and calibrated once
 * per process (a calibration takes most of a second; a store or memory built with defaults must not pay it each
 * time):
 * <ul>
 *   <li>the CPU device is the SIMD backend, the {@link BackendProvider} named {@value SimdBackend#NAME} on the class
 *       path;</li>
 *   <li>the default backend ({@link Backends#defaultBackend()}: the highest-priority available provider, or the one
 *       {@code -Dmempipe.backend=NAME} asks for) is the device every step is planned on when it is not the CPU
 *       backend itself.</li>
 * </ul>
 *
 * <p>Thread-safe: the choice is made under the class lock by the first caller; a failed choice is not kept, so the
 * next caller gets the same error again.
 */
final class DefaultDevices {
    private static Chosen chosen; // guarded by DefaultDevices.class

    /** @param device the default backend's device, or null when the default backend is the CPU's */
    record Chosen(Device cpu, Device device) {
    }

    private DefaultDevices() {
    }

    /**
     * The process-wide choice.
     *
     * @throws IllegalStateException when the requested backend (or the CPU backend) is unavailable, listing every
     *                               provider's reason
     */
    static synchronized Chosen get() {
        if (chosen == null) {
            Backend preferred = Backends.defaultBackend();
            chosen = choose(preferred, Backends.providers(), DefaultDevices::calibrated);
        }
        return chosen;
    }

    /**
     * The devices for {@code preferred}: it is the CPU device when it is the SIMD backend; otherwise the SIMD
     * backend comes from {@code providers} and {@code preferred} becomes the device.
     */
    static Chosen choose(Backend preferred, List<BackendProvider> providers,
                         java.util.function.Function<Backend, Device> describe) {
        if (preferred.name().equals(SimdBackend.NAME)) {
            return new Chosen(describe.apply(preferred), null);
        }
        Backend simd = Backends.select(providers, SimdBackend.NAME).chosen().create();
        return new Chosen(describe.apply(simd), describe.apply(preferred));
    }

    private static Device calibrated(Backend backend) {
        return Device.calibrated(backend);
    }
}
