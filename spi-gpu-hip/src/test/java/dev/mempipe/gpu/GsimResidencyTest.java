package dev.mempipe.gpu;

import dev.mempipe.spi.DeviceCounters;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.PinnedTensor;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pinned data is read from the device copy (a host write without refresh is not seen; after refresh it is),
 * pinned inputs move no bytes for the call, counters add up what moved, and device memory is freed by close.
 */
class GsimResidencyTest {

    @Test
    void a_pinned_input_should_be_read_from_the_device_copy_until_refreshed() {
        try (GpuBackend gpu = Gsim.backend(32); Arena arena = Arena.ofConfined()) {
            Tensor keys = Tensor.of(arena, new float[]{1, 0, 0, 1, 2, 2}, 3, 2);
            Tensor q = Tensor.of(arena, new float[]{1, 1}, 1, 2);
            Tensor s = Tensor.allocate(arena, ElementType.F32, 1, 3);
            try (PinnedTensor pin = gpu.pin(keys)) {
                keys.set(2, 0, 10); // host write, no refresh yet
                gpu.dot(q, pin.tensor(), s);
                assertArrayEquals(new float[]{1, 1, 4}, s.toFloatArray(), "the stale device copy must be read");
                pin.refresh(2, 3);
                gpu.dot(q, pin.tensor(), s);
                assertArrayEquals(new float[]{1, 1, 12}, s.toFloatArray());
                gpu.dot(q, pin.tensor().rowSlice(1, 3), Tensor.allocate(arena, ElementType.F32, 1, 2));
            }
        }
    }

    @Test
    void a_pinned_input_should_not_be_uploaded_again() {
        try (GpuBackend gpu = Gsim.backend(32); Arena arena = Arena.ofConfined()) {
            int n = 64;
            int d = 16;
            Tensor keys = Tensor.allocate(arena, ElementType.F32, n, d);
            Tensor q = Tensor.allocate(arena, ElementType.F32, 1, d);
            Tensor s = Tensor.allocate(arena, ElementType.F32, 1, n);
            DeviceCounters before = gpu.counters();
            gpu.dot(q, keys, s);
            DeviceCounters unpinned = gpu.counters().minus(before);
            assertEquals((long) (n + 1) * d * Float.BYTES, unpinned.bytesToDevice());
            assertEquals((long) n * Float.BYTES, unpinned.bytesFromDevice());
            try (PinnedTensor pin = gpu.pin(keys)) {
                DeviceCounters start = gpu.counters();
                gpu.dot(q, pin.tensor(), s);
                DeviceCounters pinned = gpu.counters().minus(start);
                assertEquals((long) d * Float.BYTES, pinned.bytesToDevice(), "only the query moves");
                assertTrue(pinned.deviceNanos() > 0 && pinned.transferNanos() > 0, pinned.toString());
            }
        }
    }

    @Test
    void closing_pins_and_the_backend_should_free_device_memory() {
        GsimDriver hooks = Gsim.driver(32);
        long baseline = hooks.liveAllocations();
        try (Arena arena = Arena.ofConfined()) {
            GpuBackend gpu = Gsim.backend(32);
            Tensor keys = Tensor.encode(arena, ElementType.I8, new float[]{1, -2, 3, 4}, 2, 2);
            PinnedTensor pin = gpu.pin(keys);
            assertEquals(baseline + 2, hooks.liveAllocations(), "data and scales");
            pin.close();
            assertEquals(baseline, hooks.liveAllocations());
            gpu.pin(keys);
            gpu.close();
            assertEquals(baseline, hooks.liveAllocations(), "close must free the pins still open");
        }
        hooks.close();
    }
}
