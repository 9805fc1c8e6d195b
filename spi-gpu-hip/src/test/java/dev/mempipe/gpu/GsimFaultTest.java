package dev.mempipe.gpu;

import dev.mempipe.spi.BackendException;
import dev.mempipe.spi.PinnedTensor;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Driver faults injected in gsim surface as {@link BackendException}s of the right kind: a failed launch or
 * allocation is transient (the next call works and is right), a sticky error loses the device (every later op
 * fails at once, without touching the driver, and pins report closed).
 */
class GsimFaultTest {
    private static final float[] Q = {1, 2, 3};
    private static final float[] M = {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1};
    private static final float[] EXPECTED = {1, 2, 3, 6};

    private GsimDriver hooks;

    @AfterEach
    void reset() {
        if (hooks != null) {
            hooks.reset();
            hooks.close();
        }
    }

    @Test
    void a_failed_launch_should_be_transient_and_the_next_call_right() {
        try (GpuBackend gpu = Gsim.backend(32); Arena arena = Arena.ofConfined()) {
            hooks = Gsim.driver(32);
            hooks.inject(GsimDriver.Fault.LAUNCH, 0);
            BackendException e = assertThrows(BackendException.class, () -> dot(gpu, arena));
            assertEquals(BackendException.Fault.TRANSIENT, e.fault(), e.getMessage());
            assertTrue(e.getMessage().contains("cuLaunchKernel"), e.getMessage());
            assertArrayEquals(EXPECTED, dot(gpu, arena));
        }
    }

    @Test
    void a_failed_allocation_should_be_transient_and_name_the_call() {
        try (GpuBackend gpu = Gsim.backend(32); Arena arena = Arena.ofConfined()) {
            hooks = Gsim.driver(32);
            hooks.inject(GsimDriver.Fault.ALLOCATION, 1);
            BackendException e = assertThrows(BackendException.class, () -> dot(gpu, arena));
            assertEquals(BackendException.Fault.TRANSIENT, e.fault());
            assertTrue(e.getMessage().contains("cuMemAlloc_v2") && e.getMessage().contains("out of memory"),
                    e.getMessage());
            assertArrayEquals(EXPECTED, dot(gpu, arena));
        }
    }

    @Test
    void a_sticky_error_should_lose_the_device_for_good() {
        try (GpuBackend gpu = Gsim.backend(32); Arena arena = Arena.ofConfined()) {
            hooks = Gsim.driver(32);
            PinnedTensor pin = gpu.pin(Tensor.of(arena, M, 4, 3));
            long launchesBefore = hooks.launches();
            hooks.inject(GsimDriver.Fault.STICKY, 0);
            BackendException e = assertThrows(BackendException.class, () -> dot(gpu, arena));
            assertEquals(BackendException.Fault.DEVICE_LOST, e.fault(), e.getMessage());
            assertTrue(e.getMessage().contains("illegal memory access"), e.getMessage());
            assertFalse(pin.isOpen(), "a pin on a lost device must report closed");
            hooks.reset(); // even a working driver again must not be used by a backend that lost its device
            BackendException again = assertThrows(BackendException.class, () -> dot(gpu, arena));
            assertEquals(BackendException.Fault.DEVICE_LOST, again.fault());
            assertTrue(again.getMessage().contains("lost earlier"), again.getMessage());
            assertEquals(launchesBefore, hooks.launches(), "no kernel may run after the device was lost");
        }
    }

    private static float[] dot(GpuBackend gpu, Arena arena) {
        Tensor q = Tensor.of(arena, Q, 1, 3);
        Tensor m = Tensor.of(arena, M, 4, 3);
        Tensor s = Tensor.allocate(arena, dev.mempipe.spi.ElementType.F32, 1, 4);
        gpu.dot(q, m, s);
        return s.toFloatArray();
    }
}
