package dev.mempipe.fpga;

import dev.mempipe.goldentests.ScalarBackend;
import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.DeviceCounters;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.NaNInputException;
import dev.mempipe.spi.PinnedTensor;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.IntSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fused ops on the card, on the csim device: each is one kernel run whose intermediate scores never come
 * back (only the selection or the bitmap does), and its answer is bit for bit the composition of the backend's
 * own ops (the same kernel computes the same f32 scores; the tail ranks them as the topk kernel does). The kit's
 * DeviceContract checks them against the oracle; this checks that they are fused.
 */
class XrtFusedTest {
    private static final long SEED = Long.getLong("mempipe.test.seed", 20261207L);

    @Test
    void dotTopK_should_be_one_run_that_brings_back_only_the_selection() {
        try (XrtBackend b = Csim.csimBackend(); Arena arena = Arena.ofConfined()) {
            int n = 5000;
            int d = 64;
            int k = 10;
            Tensor keys = random(arena, n, d, SEED);
            Tensor q = random(arena, 3, d, SEED + 1);
            try (PinnedTensor pin = b.pin(keys)) {
                Indices idx = Indices.allocate(arena, 3 * k);
                Tensor val = Tensor.allocate(arena, ElementType.F32, 3, k);
                DeviceCounters before = b.counters();
                long runs = Csim.runs();
                assertEquals(k, b.fused().dotTopK(q, pin.tensor(), k, idx, val));
                assertEquals(1, Csim.runs() - runs, "dotTopK must be one kernel run");
                long back = b.counters().minus(before).bytesFromDevice();
                assertTrue(back <= 3L * k * 8 + 64, back + " bytes came back: more than the selection and the status"
                        + " word (the scores would be " + 3L * n * 4 + ")");
                Tensor s = Tensor.allocate(arena, ElementType.F32, 3, n);
                b.dot(q, pin.tensor(), s);
                Indices ref = Indices.allocate(arena, 3 * k);
                Tensor refVal = Tensor.allocate(arena, ElementType.F32, 3, k);
                b.topK(s, k, ref, refVal);
                assertArrayEquals(ref.toArray(), idx.toArray());
                assertTrue(sameBits(refVal, val));
            }
        }
    }

    @Test
    void dotGroupMaxTopK_should_equal_the_composition_of_the_backends_own_ops_in_one_run() {
        try (XrtBackend b = Csim.csimBackend(); Arena arena = Arena.ofConfined()) {
            int n = 1000;
            int d = 40;
            int g = 16;
            int groups = (n + g - 1) / g;
            Tensor keys = random(arena, n, d, SEED + 2);
            Tensor q = random(arena, 2, d, SEED + 3);
            Indices idx = Indices.allocate(arena, 2 * 7);
            Tensor val = Tensor.allocate(arena, ElementType.F32, 2, 7);
            oneRun(() -> b.fused().dotGroupMaxTopK(q, keys, g, 7, idx, val));
            Tensor s = Tensor.allocate(arena, ElementType.F32, 2, n);
            b.dot(q, keys, s);
            Tensor y = Tensor.allocate(arena, ElementType.F32, 2, groups);
            b.groupMax(s, g, y);
            Indices ref = Indices.allocate(arena, 2 * 7);
            Tensor refVal = Tensor.allocate(arena, ElementType.F32, 2, 7);
            b.topK(y, 7, ref, refVal);
            assertArrayEquals(ref.toArray(), idx.toArray());
            assertTrue(sameBits(refVal, val));
        }
    }

    @Test
    void dotThreshold_should_equal_the_composition_in_one_run() {
        try (XrtBackend b = Csim.csimBackend(); Arena arena = Arena.ofConfined()) {
            int n = 333;
            Tensor keys = random(arena, n, 20, SEED + 4);
            Tensor q = random(arena, 3, 20, SEED + 5);
            Bitmap bits = Bitmap.allocate(arena, 3L * n);
            oneRun(() -> {
                b.fused().dotThreshold(q, keys, 0.25f, bits);
                return 0;
            });
            Tensor s = Tensor.allocate(arena, ElementType.F32, 3, n);
            b.dot(q, keys, s);
            Bitmap ref = Bitmap.allocate(arena, 3L * n);
            b.threshold(s, 0.25f, ref);
            for (long w = 0; w < Bitmap.wordCount(3L * n); w++) {
                assertEquals(ref.word(w), bits.word(w), "bitmap word " + w);
            }
        }
    }

    @Test
    void questBoundTopK_and_indexerTopK_should_equal_their_compositions_in_one_run() {
        try (XrtBackend b = Csim.csimBackend(); Arena arena = Arena.ofConfined()) {
            int pages = 300;
            int d = 24;
            int heads = 4;
            Tensor q = random(arena, heads, d, SEED + 6);
            Tensor min = random(arena, pages, heads * d, SEED + 7);
            Tensor max = random(arena, pages, heads * d, SEED + 8);
            Indices idx = Indices.allocate(arena, heads * 9);
            oneRun(() -> b.fused().questBoundTopK(q, min, max, 9, idx, null));
            Tensor s = Tensor.allocate(arena, ElementType.F32, heads, pages);
            b.questBound(q, min, max, s);
            Indices ref = Indices.allocate(arena, heads * 9);
            b.topK(s, 9, ref, null);
            assertArrayEquals(ref.toArray(), idx.toArray(), "questBoundTopK");

            Tensor keys = Tensor.encode(arena, ElementType.I8, floats(700 * d, SEED + 9), 700, d);
            Tensor heads8 = Tensor.encode(arena, ElementType.I8, floats(heads * d, SEED + 10), heads, d);
            Tensor w = random(arena, 1, heads, SEED + 11);
            Tensor kScale = random(arena, 1, 700, SEED + 12);
            Indices top = Indices.allocate(arena, 20);
            Tensor topVal = Tensor.allocate(arena, ElementType.F32, 1, 20);
            oneRun(() -> b.fused().indexerTopK(heads8, w, keys, kScale, 20, top, topVal));
            Tensor scores = Tensor.allocate(arena, ElementType.F32, 1, 700);
            b.indexerScore(heads8, w, keys, kScale, scores);
            Indices refTop = Indices.allocate(arena, 20);
            Tensor refTopVal = Tensor.allocate(arena, ElementType.F32, 1, 20);
            b.topK(scores, 20, refTop, refTopVal);
            assertArrayEquals(refTop.toArray(), top.toArray(), "indexerTopK");
            assertTrue(sameBits(refTopVal, topVal));
        }
    }

    @Test
    void bm25TopK_should_equal_the_oracle_in_one_run() {
        try (XrtBackend b = Csim.csimBackend(); Arena arena = Arena.ofConfined()) {
            SplittableRandom r = new SplittableRandom(SEED + 13);
            int docs = 200;
            int[] offsets = new int[docs + 1];
            int[] tokens = new int[docs * 30];
            int at = 0;
            for (int doc = 0; doc < docs; doc++) {
                int len = 1 + r.nextInt(30);
                for (int i = 0; i < len; i++) {
                    tokens[at++] = r.nextInt(50);
                }
                offsets[doc + 1] = at;
            }
            ScalarBackend oracle = new ScalarBackend();
            Bm25Index index = oracle.prepare().bm25Index(Indices.of(arena, offsets),
                    Indices.of(arena, Arrays.copyOf(tokens, at)));
            Indices query = Indices.of(arena, 3, 7, 7, 11, 49);
            Indices idx = Indices.allocate(arena, 12);
            Tensor val = Tensor.allocate(arena, ElementType.F32, 1, 12);
            oneRun(() -> b.fused().bm25TopK(query, index, Bm25Params.DEFAULT, 12, idx, val));
            Indices ref = Indices.allocate(arena, 12);
            Tensor refVal = Tensor.allocate(arena, ElementType.F32, 1, 12);
            oracle.fused().bm25TopK(query, index, Bm25Params.DEFAULT, 12, ref, refVal);
            // bm25 scores equal the oracle's bit for bit, so the selection does too
            assertArrayEquals(ref.toArray(), idx.toArray());
            assertTrue(sameBits(refVal, val));
        }
    }

    @Test
    void more_than_64_query_rows_should_run_in_blocks_and_name_a_nan_at_its_flat_position() {
        try (XrtBackend b = Csim.csimBackend(); Arena arena = Arena.ofConfined()) {
            int n = 90;
            int d = 17;
            int rows = 70;
            Tensor keys = random(arena, n, d, SEED + 14);
            Tensor q = random(arena, rows, d, SEED + 15);
            Indices idx = Indices.allocate(arena, rows * 5);
            long runs = Csim.runs();
            b.fused().dotTopK(q, keys, 5, idx, null);
            assertEquals(2, Csim.runs() - runs, "70 query rows: blocks of 64 and 6");
            Tensor s = Tensor.allocate(arena, ElementType.F32, rows, n);
            b.dot(q, keys, s);
            Indices ref = Indices.allocate(arena, rows * 5);
            b.topK(s, 5, ref, null);
            assertArrayEquals(ref.toArray(), idx.toArray());

            q.set(66, 3, Float.NaN); // every score of row 66 is NaN: the first is at 66 * n
            NaNInputException e = assertThrows(NaNInputException.class,
                    () -> b.fused().dotTopK(q, keys, 5, Indices.allocate(arena, rows * 5), null));
            assertEquals(66L * n, e.position());
        }
    }

    @Test
    void the_32_channel_build_should_give_the_8_channel_builds_answers() {
        try (XrtBackend b8 = Csim.csimBackend(8); XrtBackend b32 = Csim.csimBackend(32);
             Arena arena = Arena.ofConfined()) {
            int n = 77; // fewer rows than some channels x 3, not a multiple of 8 or 32
            Tensor keys = random(arena, n, 50, SEED + 16);
            Tensor q = random(arena, 2, 50, SEED + 17);
            try (PinnedTensor p8 = b8.pin(keys); PinnedTensor p32 = b32.pin(keys)) {
                // a view starting at an odd row: its rows sit on other channels than their view index says
                Tensor v8 = p8.tensor().rowSlice(5, 70).columns(3, 40);
                Tensor v32 = p32.tensor().rowSlice(5, 70).columns(3, 40);
                Tensor q40 = q.columns(0, 40);
                Tensor s8 = Tensor.allocate(arena, ElementType.F32, 2, 65);
                Tensor s32 = Tensor.allocate(arena, ElementType.F32, 2, 65);
                b8.dot(q40, v8, s8);
                b32.dot(q40, v32, s32);
                assertTrue(sameBits(s8, s32), "the channel spread must not change a score");
            }
        }
    }

    private static void oneRun(IntSupplier fused) {
        long runs = Csim.runs();
        fused.getAsInt();
        assertEquals(1, Csim.runs() - runs, "a fused op must be one kernel run");
    }

    private static boolean sameBits(Tensor a, Tensor b) {
        for (long j = 0; j < a.rows(); j++) {
            for (int i = 0; i < a.cols(); i++) {
                if (Float.floatToRawIntBits(a.get(j, i)) != Float.floatToRawIntBits(b.get(j, i))) {
                    throw new AssertionError("[" + j + ", " + i + "]: " + a.get(j, i) + " vs " + b.get(j, i));
                }
            }
        }
        return true;
    }

    private static float[] floats(int count, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[count];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextDouble(-1, 1);
        }
        return v;
    }

    private static Tensor random(Arena arena, int rows, int cols, long seed) {
        return Tensor.of(arena, floats(rows * cols, seed), rows, cols);
    }
}
