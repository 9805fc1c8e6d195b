package dev.mempipe.fpga;

import dev.mempipe.spi.BackendException;
import dev.mempipe.spi.DeviceCounters;
import dev.mempipe.spi.DeviceDescription;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Figure;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.NaNInputException;
import dev.mempipe.spi.PinnedTensor;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The XRT protocol as the backend speaks it, on the csim device: the interface table agrees with the kernels',
 * data reaches the kernels only through explicit syncs (a pin's rows are stale until refreshed, and a refresh moves
 * exactly those rows), faults become the right {@link BackendException} kind, and the status word is checked.
 */
class XrtBindingTest {
    private static final long SEED = Long.getLong("mempipe.test.seed", 20261207L);

    @Test
    void the_java_interface_table_should_equal_the_kernels_table() {
        String java = Arrays.stream(XrtKernels.values()).map(XrtKernels::describe).collect(Collectors.joining());
        assertEquals(Csim.interfaceTable(), java, "XrtKernels.java and src/main/hls/mempipe_kernels.h disagree");
    }

    @Test
    void every_top_function_should_take_the_arguments_the_table_lists() {
        assertEquals("", Csim.topFunctionCheck());
    }

    @Test
    void a_pin_should_be_stale_until_refresh_and_refresh_should_move_only_its_rows() {
        try (XrtBackend backend = Csim.csimBackend(); Arena arena = Arena.ofConfined()) {
            int n = 10;
            int d = 33; // not a whole number of 512-bit words: rows are padded
            Tensor keys = random(arena, n, d, SEED);
            Tensor q = random(arena, 1, d, SEED + 1);
            try (PinnedTensor pin = backend.pin(keys)) {
                Tensor before = Tensor.allocate(arena, ElementType.F32, 1, n);
                backend.dot(q, pin.tensor(), before);
                // change rows 3 and 4 on the host only
                for (int c = 0; c < d; c++) {
                    keys.set(3, c, 0f);
                    keys.set(4, c, 2f);
                }
                Tensor stale = Tensor.allocate(arena, ElementType.F32, 1, n);
                backend.dot(q, pin.tensor(), stale);
                assertEquals(before.get(0, 3), stale.get(0, 3), "the device copy changed without a refresh");
                DeviceCounters start = backend.counters();
                long syncsBefore = Csim.syncs();
                pin.refresh(3, 5);
                DeviceCounters moved = backend.counters().minus(start);
                // rows 3 and 4 live on channels 3 and 4 (row R on channel R % 8): one sync each
                assertEquals(2, Csim.syncs() - syncsBefore, "refresh of two F32 key rows is one sync per channel");
                assertEquals(2 * KeyLayout.of(ElementType.F32, d).rowBytes(), moved.bytesToDevice(),
                        "refresh(3, 5) must sync exactly two packed rows");
                Tensor fresh = Tensor.allocate(arena, ElementType.F32, 1, n);
                backend.dot(q, pin.tensor(), fresh);
                assertEquals(0f, fresh.get(0, 3));
                float sum = 0;
                for (int c = 0; c < d; c++) {
                    sum += 2f * q.get(0, c);
                }
                assertEquals(sum, fresh.get(0, 4), Math.abs(sum) * 1e-5f);
                assertEquals(before.get(0, 5), fresh.get(0, 5), "row 5 was not refreshed and must not change");
            }
        }
    }

    @Test
    void pinned_keys_should_not_be_uploaded_again_per_call() {
        try (XrtBackend backend = Csim.csimBackend(); Arena arena = Arena.ofConfined()) {
            Tensor keys = random(arena, 200, 64, SEED + 2);
            Tensor q = random(arena, 1, 64, SEED + 3);
            Tensor s = Tensor.allocate(arena, ElementType.F32, 1, 200);
            try (PinnedTensor pin = backend.pin(keys)) {
                DeviceCounters start = backend.counters();
                backend.dot(q, pin.tensor(), s);
                long pinned = backend.counters().minus(start).bytesToDevice();
                start = backend.counters();
                backend.dot(q, keys, s);
                long unpinned = backend.counters().minus(start).bytesToDevice();
                assertTrue(unpinned - pinned >= 200L * 64 * Float.BYTES, "unpinned " + unpinned + " B vs pinned "
                        + pinned + " B: the unpinned call must upload the keys, the pinned one must not");
                assertTrue(backend.counters().bytesFromDevice() > 0 && backend.counters().deviceNanos() > 0);
            }
        }
    }

    @Test
    void closing_the_backend_should_free_the_pins_left_open_first() {
        XrtBackend backend = Csim.csimBackend();
        try (Arena arena = Arena.ofConfined()) {
            PinnedTensor pin = backend.pin(random(arena, 20, 16, SEED + 8));
            backend.close();
            assertFalse(pin.isOpen(), "a pin must not outlive its device: XRT crashes freeing a BO after the device");
            pin.close(); // idempotent after the backend freed it
        }
    }

    @Test
    void a_run_ending_in_error_should_lose_the_device() {
        try (XrtBackend backend = Csim.csimBackend(); Arena arena = Arena.ofConfined()) {
            Tensor s = random(arena, 1, 50, SEED + 4);
            Indices idx = Indices.allocate(arena, 5);
            Csim.fault(Csim.RUN_ERROR, 0);
            BackendException e = assertThrows(BackendException.class, () -> backend.topK(s, 5, idx, null));
            assertTrue(e.deviceLost(), e.getMessage());
            assertTrue(e.getMessage().contains("ERROR"), e.getMessage());
            BackendException next = assertThrows(BackendException.class, () -> backend.topK(s, 5, idx, null));
            assertTrue(next.deviceLost(), "a lost device must stay lost: " + next.getMessage());
        }
    }

    @Test
    void a_run_ending_in_abort_should_lose_the_device() {
        try (XrtBackend backend = Csim.csimBackend(); Arena arena = Arena.ofConfined()) {
            Tensor s = random(arena, 1, 50, SEED + 5);
            Csim.fault(Csim.RUN_ABORT, 1); // the second run
            backend.topK(s, 3, Indices.allocate(arena, 3), null);
            BackendException e = assertThrows(BackendException.class,
                    () -> backend.topK(s, 3, Indices.allocate(arena, 3), null));
            assertTrue(e.deviceLost() && e.getMessage().contains("ABORT"), e.getMessage());
        }
    }

    @Test
    void transient_faults_should_leave_the_device_usable() {
        for (int kind : new int[] {Csim.RUN_TIMEOUT, Csim.BO_ALLOC, Csim.SYNC, Csim.NO_STATUS}) {
            try (XrtBackend backend = Csim.csimBackend(); Arena arena = Arena.ofConfined()) {
                Tensor s = random(arena, 1, 50, SEED + 6);
                Indices idx = Indices.allocate(arena, 4);
                Csim.fault(kind, 0);
                BackendException e = assertThrows(BackendException.class, () -> backend.topK(s, 4, idx, null),
                        "fault kind " + kind);
                assertFalse(e.deviceLost(), "fault kind " + kind + " must be transient: " + e.getMessage());
                if (kind == Csim.NO_STATUS) {
                    assertTrue(e.getMessage().contains("status word"), e.getMessage());
                }
                assertEquals(4, backend.topK(s, 4, idx, null), "the device must work after a transient fault");
            }
        }
    }

    @Test
    void a_nan_should_come_back_as_its_flat_position() {
        try (XrtBackend backend = Csim.csimBackend(); Arena arena = Arena.ofConfined()) {
            Tensor s = random(arena, 3, 40, SEED + 7);
            s.set(2, 17, Float.NaN);
            s.set(2, 30, Float.NaN);
            NaNInputException e = assertThrows(NaNInputException.class,
                    () -> backend.topK(s, 5, Indices.allocate(arena, 15), null));
            assertEquals(2 * 40 + 17, e.position());
        }
    }

    @Test
    void the_device_description_should_be_a_model_labelled_so() {
        try (XrtBackend backend = Csim.csimBackend()) {
            DeviceDescription d = backend.deviceDescription();
            assertTrue(d.device().contains("model"), d.device());
            for (Figure f : new Figure[] {d.peakFlops(), d.memoryBandwidth(), d.launchSeconds(), d.capacityBytes(),
                    d.hostLink().toDevice(), d.hostLink().fromDevice(), d.hostLink().latency()}) {
                assertEquals(Figure.Source.MODEL, f.source(), f.toString());
            }
            // 8 channels: min(300 MHz x 64 B x 8, 8 x 14.375 GB/s) = 115 GB/s
            assertEquals(115e9, d.memoryBandwidth().value(), 1);
            assertEquals(16L << 30, backend.capabilities().deviceMemoryBytes());
            assertEquals(XrtBackend.MAX_K, backend.capabilities().limits(dev.mempipe.spi.Op.TOP_K).maxK());
        }
    }

    private static Tensor random(Arena arena, int rows, int cols, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextDouble(-1, 1);
        }
        return Tensor.of(arena, v, rows, cols);
    }
}
