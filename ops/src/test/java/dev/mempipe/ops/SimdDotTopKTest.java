package dev.mempipe.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.NaNInputException;
import dev.mempipe.spi.Tensor;
import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * What the fused {@code dotTopK} of the CPU backend promises beyond the kit's oracle comparison: a query ranks rows
 * the same, to the bit, alone (the one-query scan) and in a batch (the blocked kernel), whatever the split over
 * threads (a confined arena runs it on one thread) and across repeated calls while the JIT warms up.
 *
 * <p>Reproduce a failure with the seed in its message: {@code -Dmempipe.test.seed=<seed>}; scale the sizes with
 * {@code -Dmempipe.test.scale=N}.
 */
class SimdDotTopKTest {
    private static final ElementType[] TYPES = {ElementType.F32, ElementType.BF16, ElementType.I8};
    private static final int SCALE = Integer.getInteger("mempipe.test.scale", 1);

    private final Backend backend = new SimdBackend();
    private final long seed = Long.getLong("mempipe.test.seed", System.nanoTime());
    private final Random random = new Random(seed);

    @Test
    void should_rank_a_query_alone_and_in_a_batch_bit_for_bit() {
        int[] widths = {1, 3, 17, 33, 384};
        int[] rowCounts = {1, 7, 33, 1027, 9001 * SCALE};
        for (ElementType type : TYPES) {
            for (int d : widths) {
                int n = rowCounts[random.nextInt(rowCounts.length)];
                int m = 1 + random.nextInt(11);
                int k = 1 + random.nextInt(20);
                try (Arena arena = Arena.ofShared()) {
                    Tensor q = floats(arena, m, d);
                    Tensor keys = keys(arena, type, n, d);
                    Tensor w = random.nextBoolean() ? weights(arena, n) : null;
                    Bitmap accept = random.nextBoolean() ? accept(arena, n) : null;
                    Result batch = run(arena, q, keys, w, accept, k);
                    for (int j = 0; j < m; j++) {
                        Result alone = run(arena, q.rowSlice(j, j + 1), keys, w, accept, k);
                        String what = type + " d=" + d + " n=" + n + " m=" + m + " k=" + k + " query " + j
                                + " (seed " + seed + ")";
                        assertEquals(batch.count, alone.count, what);
                        assertArrayEquals(alone.rows(0), batch.rows(j), what);
                        assertArrayEquals(alone.scores(0), batch.scores(j), what);
                    }
                }
            }
        }
    }

    @Test
    void should_rank_a_query_alone_and_in_a_batch_of_whole_query_panels_bit_for_bit() {
        // batches of at least SimdDotPanels.QUERIES take the packed matrix kernel; the queries past the last whole
        // panel take the 4 x 4 tile and the one-query kernel: every path must give the scan's bits
        int panel = SimdDotPanels.QUERIES;
        int[] widths = {1, 17, 33, 100, 384};
        int[] batches = {panel, panel + 5, 2 * panel + 7};
        for (ElementType type : TYPES) {
            for (int d : widths) {
                int n = 1 + random.nextInt(3000 * SCALE);
                int m = batches[random.nextInt(batches.length)];
                int k = 1 + random.nextInt(20);
                long caseSeed = random.nextLong();
                try (Arena arena = Arena.ofShared()) {
                    Case c = build(arena, type, n, d, m, caseSeed);
                    Tensor w = random.nextBoolean() ? c.w : null;
                    Bitmap accept = random.nextBoolean() ? c.accept : null;
                    Result batch = run(arena, c.q, c.keys, w, accept, k);
                    for (int j = 0; j < m; j++) {
                        Result alone = run(arena, c.q.rowSlice(j, j + 1), c.keys, w, accept, k);
                        String what = type + " d=" + d + " n=" + n + " m=" + m + " k=" + k + " query " + j
                                + " (seed " + seed + ")";
                        assertEquals(batch.count, alone.count, what);
                        assertArrayEquals(alone.rows(0), batch.rows(j), what);
                        assertArrayEquals(alone.scores(0), batch.scores(j), what);
                    }
                    try (Arena one = Arena.ofConfined()) { // the same batch on the calling thread only
                        Case confined = build(one, type, n, d, m, caseSeed);
                        Result serial = run(one, confined.q, confined.keys, w == null ? null : confined.w,
                                accept == null ? null : confined.accept, k);
                        for (int j = 0; j < m; j++) {
                            String what = type + " d=" + d + " n=" + n + " m=" + m + " query " + j + " (seed "
                                    + seed + ")";
                            assertArrayEquals(serial.rows(j), batch.rows(j), what);
                            assertArrayEquals(serial.scores(j), batch.scores(j), what);
                        }
                    }
                }
            }
        }
    }

    @Test
    void should_give_the_same_bits_on_one_thread_and_on_the_pool() {
        for (ElementType type : TYPES) {
            int n = 4099 * SCALE + random.nextInt(8);
            int d = 1 + random.nextInt(200);
            int m = 1 + random.nextInt(9);
            Result pooled;
            Result confined;
            try (Arena shared = Arena.ofShared()) {
                long s = random.nextLong();
                pooled = run(shared, build(shared, type, n, d, m, s));
                try (Arena one = Arena.ofConfined()) { // confined memory: the op stays on the calling thread
                    confined = run(one, build(one, type, n, d, m, s));
                }
            }
            String what = type + " d=" + d + " n=" + n + " m=" + m + " (seed " + seed + ")";
            for (int j = 0; j < m; j++) {
                assertArrayEquals(confined.rows(j), pooled.rows(j), what);
                assertArrayEquals(confined.scores(j), pooled.scores(j), what);
            }
        }
    }

    @Test
    void should_return_fewer_rows_when_the_filter_leaves_fewer_than_k() {
        try (Arena arena = Arena.ofShared()) {
            Tensor q = floats(arena, 5, 16);
            Tensor keys = keys(arena, ElementType.F32, 100, 16);
            Bitmap accept = Bitmap.allocate(arena, 100);
            accept.set(3, true);
            accept.set(97, true);
            Result r = run(arena, q, keys, null, accept, 10);
            assertEquals(2, r.count, "seed " + seed);
            for (int j = 0; j < 5; j++) {
                int[] rows = r.rows(j);
                assertTrue((rows[0] == 3 && rows[1] == 97) || (rows[0] == 97 && rows[1] == 3), "seed " + seed);
                assertEquals(-1, r.idx()[j * 10 + 2], "entries past the accepted rows stay unwritten");
            }
        }
    }

    @Test
    void should_break_ties_by_the_lower_row_and_treat_minus_zero_as_zero() {
        try (Arena arena = Arena.ofShared()) {
            int n = 37;
            Tensor keys = Tensor.allocate(arena, ElementType.F32, n, 2);
            for (int i = 0; i < n; i++) {
                keys.set(i, 0, i % 3 == 0 ? 1f : 0f); // rows 0, 3, 6, ... tie at 1; the rest at +0 or -0
                keys.set(i, 1, i % 2 == 0 ? -0f : 0f);
            }
            Tensor q = Tensor.allocate(arena, ElementType.F32, 6, 2);
            for (int j = 0; j < 6; j++) {
                q.set(j, 0, 1f);
                q.set(j, 1, 1f);
            }
            Result r = run(arena, q, keys, null, null, 16);
            for (int j = 0; j < 6; j++) {
                assertArrayEquals(new int[] {0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 1, 2, 4}, r.rows(j));
            }
        }
    }

    @Test
    void should_reject_a_nan_score_naming_its_first_position() {
        for (int m : new int[] {1, 6}) {
            try (Arena arena = Arena.ofShared()) {
                int n = 2050;
                Tensor q = floats(arena, m, 8);
                Tensor keys = keys(arena, ElementType.F32, n, 8);
                keys.set(1500, 2, Float.NaN);
                keys.set(700, 5, Float.NaN);
                Indices idx = Indices.allocate(arena, m * 4);
                NaNInputException e = assertThrows(NaNInputException.class,
                        () -> backend.fused().dotTopK(q, keys, null, null, 4, idx, null));
                assertEquals(700, e.position(), "query 0, row 700 comes first");
                assertEquals("S", e.argument());
            }
        }
    }

    // ---- helpers ----

    private record Case(Tensor q, Tensor keys, Tensor w, Bitmap accept, int k) {
    }

    private Case build(Arena arena, ElementType type, int n, int d, int m, long caseSeed) {
        Random r = new Random(caseSeed);
        Tensor q = Tensor.allocate(arena, ElementType.F32, m, d);
        for (int j = 0; j < m; j++) {
            for (int i = 0; i < d; i++) {
                q.set(j, i, (float) r.nextGaussian());
            }
        }
        Tensor f = Tensor.allocate(arena, ElementType.F32, n, d);
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < d; c++) {
                f.set(i, c, (float) r.nextGaussian());
            }
        }
        Tensor keys = Tensor.allocate(arena, type, n, d);
        backend.prepare().convert(f, keys);
        Tensor w = Tensor.allocate(arena, ElementType.F32, 1, n);
        Bitmap accept = Bitmap.allocate(arena, n);
        for (int i = 0; i < n; i++) {
            w.set(0, i, (float) (0.5 + r.nextDouble()));
            accept.set(i, r.nextInt(5) != 0);
        }
        return new Case(q, keys, w, accept, 1 + r.nextInt(30));
    }

    private Result run(Arena arena, Case c) {
        return run(arena, c.q, c.keys, c.w, c.accept, c.k);
    }

    private Result run(Arena arena, Tensor q, Tensor keys, Tensor w, Bitmap accept, int k) {
        int m = Math.toIntExact(q.rows());
        int c = (int) Math.min(k, keys.rows());
        Indices idx = Indices.allocate(arena, m * c);
        idx.data().fill((byte) 0xFF);
        Tensor val = Tensor.allocate(arena, ElementType.F32, m, c);
        int count = backend.fused().dotTopK(q, keys, w, accept, k, idx, val);
        float[][] scores = new float[m][c];
        for (int j = 0; j < m; j++) {
            for (int t = 0; t < c; t++) {
                scores[j][t] = val.get(j, t);
            }
        }
        return new Result(idx.toArray(), scores, c, count);
    }

    /** The outputs copied out of their arena: idx rows (with the entries past the count) and scores. */
    private record Result(int[] idx, float[][] val, int c, int count) {
        int[] rows(int j) {
            return java.util.Arrays.copyOfRange(idx, j * c, j * c + count);
        }

        float[] scores(int j) {
            return java.util.Arrays.copyOf(val[j], count);
        }
    }

    private Tensor floats(Arena arena, int rows, int d) {
        Tensor t = Tensor.allocate(arena, ElementType.F32, rows, d);
        for (int j = 0; j < rows; j++) {
            for (int i = 0; i < d; i++) {
                t.set(j, i, (float) random.nextGaussian());
            }
        }
        return t;
    }

    private Tensor keys(Arena arena, ElementType type, int n, int d) {
        Tensor f = floats(arena, n, d);
        if (type == ElementType.F32) {
            return f;
        }
        Tensor keys = Tensor.allocate(arena, type, n, d);
        backend.prepare().convert(f, keys);
        return keys;
    }

    private Tensor weights(Arena arena, int n) {
        Tensor w = Tensor.allocate(arena, ElementType.F32, 1, n);
        for (int i = 0; i < n; i++) {
            w.set(0, i, (float) (0.25 + random.nextDouble()));
        }
        return w;
    }

    private Bitmap accept(Arena arena, int n) {
        Bitmap b = Bitmap.allocate(arena, n);
        for (int i = 0; i < n; i++) {
            b.set(i, random.nextInt(3) != 0);
        }
        return b;
    }
}
