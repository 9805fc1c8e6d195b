package dev.mempipe.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.mempipe.goldentests.Tolerances;
import dev.mempipe.spi.ApplyOps;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Fast sanity layer for {@link SimdApplyOps}: attention and softRetrieve against plain double loops written
 * here, for every K/V element type, GQA groupings, awkward head widths, padded rows at odd byte offsets,
 * huge logits and row counts that cross the online-softmax blocks and the parallel chunk boundaries. Sparse
 * attention over every row must equal dense attention bit for bit. The conformance kit in golden-tests is the
 * full check.
 *
 * <p>Reproduce a failure with the seed in its message: {@code -Dmempipe.test.seed=<seed>}.
 */
class SimdApplyOpsTest {
    private static final ElementType[] TYPES = ElementType.values();
    private static final ElementType[] FLOAT_OUT = {ElementType.F32, ElementType.F16, ElementType.BF16};
    private static final int[] WIDTHS = {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 129};
    private static final double U = Tolerances.U32;

    private final ApplyOps ops = new SimdBackend().apply();
    private final long seed = Long.getLong("mempipe.test.seed", System.nanoTime());
    private final Random random = new Random(seed);
    private Arena arena;

    @BeforeEach
    void open() {
        arena = Arena.ofShared(); // shared, so that long contexts really split over the pool's threads
    }

    @AfterEach
    void close() {
        arena.close();
    }

    // ---- attention ----

    @Test
    void should_match_double_reference_for_every_kv_type_pair_dense_and_sparse() {
        for (ElementType kt : TYPES) {
            for (ElementType vt : TYPES) {
                int kvHeads = 1 + random.nextInt(2);
                int heads = kvHeads * new int[] {1, 2, 3, 4}[random.nextInt(4)];
                int d = WIDTHS[random.nextInt(WIDTHS.length)];
                int rows = new int[] {1, 7, 17, 33, 129}[random.nextInt(5)];
                ElementType outType = FLOAT_OUT[random.nextInt(FLOAT_OUT.length)];
                Tensor q = random(ElementType.F32, heads, d, true);
                Tensor keys = random(kt, rows, kvHeads * d, true);
                Tensor values = random(vt, rows, kvHeads * d, true);
                float scale = (float) (1 / Math.sqrt(d));
                String what = "K " + kt + ", V " + vt + ", Hq=" + heads + " Hkv=" + kvHeads + " d=" + d + " L=" + rows
                        + " -> " + outType;

                Tensor dense = output(outType, heads, d, true);
                ops.attention(q, keys, values, kvHeads, null, scale, dense);
                checkAttention(q, keys, values, kvHeads, allRows(rows), scale, dense, what + " dense");

                // unsorted, with repeats: each listed row counts once per listing
                int[] idx = new int[1 + random.nextInt(2 * rows)];
                for (int i = 0; i < idx.length; i++) {
                    idx[i] = random.nextInt(rows);
                }
                Tensor sparse = output(outType, heads, d, true);
                ops.attention(q, keys, values, kvHeads, Indices.of(arena, idx), scale, sparse);
                checkAttention(q, keys, values, kvHeads, idx, scale, sparse, what + " sparse " + idx.length);
            }
        }
    }

    @Test
    void should_give_identical_bits_for_sparse_over_every_row_and_dense() {
        for (int rows : new int[] {1, 15, 16, 17, 255, 256, 257, 4099, 20_011}) {
            for (ElementType type : new ElementType[] {ElementType.F32, ElementType.BF16}) {
                int kvHeads = 2;
                int heads = 6;
                int d = rows > 5000 ? 9 : 33;
                Tensor q = random(ElementType.F32, heads, d, false);
                Tensor keys = random(type, rows, kvHeads * d, true);
                Tensor values = random(type, rows, kvHeads * d, true);
                Tensor dense = output(ElementType.F32, heads, d, false);
                Tensor sparse = output(ElementType.F32, heads, d, false);
                ops.attention(q, keys, values, kvHeads, null, 0.3f, dense);
                ops.attention(q, keys, values, kvHeads, Indices.of(arena, allRows(rows)), 0.3f, sparse);
                assertArrayEquals(bits(dense), bits(sparse), type + " L=" + rows + seedNote());
            }
        }
    }

    @Test
    void should_split_a_long_context_over_chunks_and_still_match_the_reference() {
        int rows = 100_003; // not a multiple of the block or of the chunk size
        Tensor q = random(ElementType.F32, 4, 5, false);
        Tensor keys = random(ElementType.F32, rows, 2 * 5, true);
        Tensor values = random(ElementType.F32, rows, 2 * 5, true);
        Tensor dense = output(ElementType.F32, 4, 5, false);
        ops.attention(q, keys, values, 2, null, 0.5f, dense);
        checkAttention(q, keys, values, 2, allRows(rows), 0.5f, dense, "L=100003 dense");

        Tensor sparse = output(ElementType.F32, 4, 5, false);
        Tensor again = output(ElementType.F32, 4, 5, false);
        ops.attention(q, keys, values, 2, Indices.of(arena, allRows(rows)), 0.5f, sparse);
        ops.attention(q, keys, values, 2, null, 0.5f, again);
        assertArrayEquals(bits(dense), bits(sparse), "sparse over all 100003 rows" + seedNote());
        assertArrayEquals(bits(dense), bits(again), "a second dense run" + seedNote());
    }

    @Test
    void should_give_the_same_bits_on_every_call_while_the_jit_warms_up() {
        // The first calls run interpreted, later ones compiled: no reduction may change order between tiers.
        Tensor q = random(ElementType.F32, 8, 33, false);
        Tensor keys = random(ElementType.F32, 300, 2 * 33, true);
        Tensor values = random(ElementType.F16, 300, 2 * 33, true);
        Tensor first = output(ElementType.F32, 8, 33, false);
        Tensor next = output(ElementType.F32, 8, 33, false);
        Indices rows = Indices.of(arena, allRows(300));
        ops.attention(q, keys, values, 2, null, 0.2f, first);
        for (int call = 0; call < 300; call++) {
            ops.attention(q, keys, values, 2, call % 2 == 0 ? null : rows, 0.2f, next);
            assertArrayEquals(bits(first), bits(next), "call " + call + seedNote());
        }
    }

    @Test
    void should_read_kv_head_h_over_group_for_query_head_h() {
        // KV head k's keys point at row k and its values hold the row number: query head h must return
        // k = h / (Hq / Hkv), the row its KV head's keys pick out.
        int kvHeads = 3;
        int heads = 12;
        int d = 4;
        int rows = 5;
        float[] k = new float[rows * kvHeads * d];
        float[] v = new float[rows * kvHeads * d];
        for (int r = 0; r < rows; r++) {
            for (int kv = 0; kv < kvHeads; kv++) {
                k[(r * kvHeads + kv) * d] = r == kv ? 16f : 0f;
                for (int c = 0; c < d; c++) {
                    v[(r * kvHeads + kv) * d + c] = r;
                }
            }
        }
        float[] qv = new float[heads * d];
        for (int h = 0; h < heads; h++) {
            qv[h * d] = 16f; // logit 256 for the picked row, 0 for the rest: the other weights vanish
        }
        Tensor out = output(ElementType.F32, heads, d, false);
        ops.attention(Tensor.of(arena, qv, heads, d), Tensor.of(arena, k, rows, kvHeads * d),
                Tensor.of(arena, v, rows, kvHeads * d), kvHeads, null, 1f, out);
        for (int h = 0; h < heads; h++) {
            for (int c = 0; c < d; c++) {
                assertEquals(h / (heads / kvHeads), out.get(h, c), "query head " + h);
            }
        }
    }

    @Test
    void should_not_overflow_with_huge_logits() {
        int d = 3;
        int rows = 37;
        float[] k = new float[rows * d];
        float[] v = new float[rows * d];
        for (int r = 0; r < rows; r++) {
            k[r * d] = r == 20 ? 100f : r == 30 ? 99.99f : -100f; // logits 1e4, 9999, -1e4 with q = (100, 0, 0)
            for (int c = 0; c < d; c++) {
                v[r * d + c] = r + c;
            }
        }
        Tensor q = Tensor.of(arena, new float[] {100f, 0f, 0f}, 1, d);
        Tensor keys = Tensor.of(arena, k, rows, d);
        Tensor values = Tensor.of(arena, v, rows, d);
        Tensor out = output(ElementType.F32, 1, d, false);
        ops.attention(q, keys, values, 1, null, 1f, out);
        checkAttention(q, keys, values, 1, allRows(rows), 1f, out, "logits near 1e4");

        // every logit -1e4: exp would underflow to 0 everywhere without the running max; the result is the mean
        Tensor low = Tensor.of(arena, new float[] {-100f, 0f, 0f}, 1, d);
        Tensor sameKeys = Tensor.of(arena, filled(rows * d, 100f), rows, d);
        ops.attention(low, sameKeys, values, 1, null, 1f, out);
        for (int c = 0; c < d; c++) {
            assertEquals((rows - 1) / 2.0 + c, out.get(0, c), 1e-4, "mean of V, column " + c);
        }
    }

    @Test
    void should_return_the_value_row_when_one_row_is_selected() {
        Tensor q = random(ElementType.F32, 4, 17, false);
        Tensor keys = random(ElementType.F16, 50, 2 * 17, true);
        Tensor values = random(ElementType.I8, 50, 2 * 17, true);
        Tensor out = output(ElementType.F32, 4, 17, false);
        ops.attention(q, keys, values, 2, Indices.of(arena, 41), 0.25f, out);
        for (int h = 0; h < 4; h++) {
            for (int c = 0; c < 17; c++) {
                assertEquals(values.get(41, (h / 2) * 17 + c), out.get(h, c), "head " + h + " col " + c);
            }
        }
    }

    @Test
    void should_run_confined_memory_on_the_calling_thread() {
        try (Arena confined = Arena.ofConfined()) {
            Arena shared = arena;
            arena = confined;
            try {
                Tensor q = random(ElementType.F32, 2, 8, false);
                Tensor keys = random(ElementType.F32, 5000, 8, false);
                Tensor values = random(ElementType.F32, 5000, 8, false);
                Tensor out = output(ElementType.F32, 2, 8, false);
                ops.attention(q, keys, values, 1, null, 0.3f, out);
                checkAttention(q, keys, values, 1, allRows(5000), 0.3f, out, "confined");
            } finally {
                arena = shared;
            }
        }
    }

    @Test
    void should_reject_an_index_out_of_range_before_writing() {
        Tensor q = random(ElementType.F32, 2, 4, false);
        Tensor keys = random(ElementType.F32, 10, 4, false);
        Tensor out = output(ElementType.F32, 2, 4, false);
        out.set(0, 0, 42f);
        assertThrows(IllegalArgumentException.class,
                () -> ops.attention(q, keys, keys, 1, Indices.of(arena, 3, 10), 1f, out));
        assertEquals(42f, out.get(0, 0));
    }

    // ---- softRetrieve ----

    @Test
    void should_sum_weighted_value_rows_for_every_type() {
        for (ElementType vt : TYPES) {
            for (int n : new int[] {1, 3, 17, 9001}) {
                int d = WIDTHS[random.nextInt(WIDTHS.length)];
                ElementType outType = FLOAT_OUT[random.nextInt(FLOAT_OUT.length)];
                Tensor a = random(ElementType.F32, 1, n, true);
                Tensor v = random(vt, n, d, true);
                Tensor out = output(outType, 1, d, true);
                ops.softRetrieve(a, v, out);
                for (int c = 0; c < d; c++) {
                    double ref = 0;
                    double sumAbs = 0;
                    for (int i = 0; i < n; i++) {
                        double p = (double) a.get(0, i) * v.get(i, c);
                        ref += p;
                        sumAbs += Math.abs(p);
                    }
                    assertWithin(ref, out.get(0, c), Tolerances.dot(n, sumAbs, outType, ref),
                            "V " + vt + " n=" + n + " d=" + d + " -> " + outType + " col " + c);
                }
            }
        }
    }

    @Test
    void should_return_zeros_for_no_rows() {
        Tensor out = output(ElementType.F32, 1, 5, false);
        out.set(0, 2, 9f);
        ops.softRetrieve(Tensor.allocate(arena, ElementType.F32, 1, 0), Tensor.allocate(arena, ElementType.F32, 0, 5),
                out);
        for (int c = 0; c < 5; c++) {
            assertEquals(0f, out.get(0, c));
        }
    }

    // ---- checks ----

    /**
     * The kit's bound: {@code 4*(L+d)*2^-24*max|V|} plus the logits' own rounding, plus half an output ulp;
     * and the result must lie in the per-coordinate range of the selected V rows (exactly for F32 output).
     */
    private void checkAttention(Tensor q, Tensor keys, Tensor values, int kvHeads, int[] rows, float scale,
                                Tensor out, String what) {
        int heads = (int) q.rows();
        int d = q.cols();
        int group = heads / kvHeads;
        for (int h = 0; h < heads; h++) {
            int base = (h / group) * d;
            double[] logits = new double[rows.length];
            double max = Double.NEGATIVE_INFINITY;
            double logitErr = 0;
            double maxAbsV = 0;
            for (int i = 0; i < rows.length; i++) {
                double s = 0;
                double sumAbs = 0;
                for (int c = 0; c < d; c++) {
                    double p = (double) q.get(h, c) * keys.get(rows[i], base + c);
                    s += p;
                    sumAbs += Math.abs(p);
                    maxAbsV = Math.max(maxAbsV, Math.abs(values.get(rows[i], base + c)));
                }
                logits[i] = scale * s;
                max = Math.max(max, logits[i]);
                logitErr = Math.max(logitErr, Math.abs(scale) * (2.0 * d + 2) * U * sumAbs);
            }
            double sum = 0;
            double[] ref = new double[d];
            double[] lo = new double[d];
            double[] hi = new double[d];
            Arrays.fill(lo, Double.POSITIVE_INFINITY);
            Arrays.fill(hi, Double.NEGATIVE_INFINITY);
            for (int i = 0; i < rows.length; i++) {
                double w = Math.exp(logits[i] - max);
                sum += w;
                for (int c = 0; c < d; c++) {
                    double v = values.get(rows[i], base + c);
                    ref[c] += w * v;
                    lo[c] = Math.min(lo[c], v);
                    hi[c] = Math.max(hi[c], v);
                }
            }
            double bound = Tolerances.attention(rows.length, d, maxAbsV, ElementType.F32, 0)
                    + 4 * Math.expm1(logitErr) * maxAbsV;
            for (int c = 0; c < d; c++) {
                double r = ref[c] / sum;
                double got = out.get(h, c);
                String at = what + " o[" + h + ", " + c + "]";
                assertWithin(r, got, bound + Tolerances.halfUlp(out.type(), r), at);
                double slack = out.type() == ElementType.F32 ? 0 : Tolerances.halfUlp(out.type(), got);
                if (!(got >= lo[c] - slack && got <= hi[c] + slack)) {
                    fail(at + " = " + got + " is outside [" + lo[c] + ", " + hi[c] + "], the range of the selected"
                            + " V rows" + seedNote());
                }
            }
        }
    }

    private void assertWithin(double ref, double got, double tol, String what) {
        if (!(Math.abs(got - ref) <= tol)) {
            fail(what + ": got " + got + ", expected " + ref + " +- " + tol + seedNote());
        }
    }

    // ---- data ----

    private String seedNote() {
        return " (seed " + seed + ", rerun with -Dmempipe.test.seed=" + seed + ")";
    }

    private static int[] allRows(int n) {
        int[] rows = new int[n];
        for (int i = 0; i < n; i++) {
            rows[i] = i;
        }
        return rows;
    }

    private static float[] filled(int n, float value) {
        float[] v = new float[n];
        Arrays.fill(v, value);
        return v;
    }

    /** Gaussian values encoded as {@code type}, optionally on padded rows at an odd byte offset. */
    private Tensor random(ElementType type, int rows, int cols, boolean padded) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        Tensor t = Tensor.encode(arena, type, v, rows, cols);
        return padded ? padded(t) : t;
    }

    /** A copy whose rows start at an odd byte offset with an odd stride; padding bytes 0xFF (NaN as floats). */
    private Tensor padded(Tensor t) {
        long rowBytes = (long) t.cols() * t.type().byteSize();
        long stride = rowBytes + 3;
        MemorySegment data = arena.allocate(3 + Math.max(1, t.rows()) * stride).asSlice(3);
        data.fill((byte) 0xFF);
        for (long r = 0; r < t.rows(); r++) {
            MemorySegment.copy(t.data(), r * rowBytes, data, r * stride, rowBytes);
        }
        MemorySegment scales = null;
        if (t.type().isQuantized()) {
            scales = arena.allocate(1 + Math.max(1, t.rows()) * Float.BYTES).asSlice(1);
            MemorySegment.copy(t.scales(), 0, scales, 0, t.rows() * Float.BYTES);
        }
        return Tensor.wrap(data, t.type(), t.rows(), t.cols(), stride, scales);
    }

    private Tensor output(ElementType type, long rows, int cols, boolean padded) {
        Tensor t = Tensor.allocate(arena, type, rows, cols);
        return padded ? padded(t) : t;
    }

    private static int[] bits(Tensor t) {
        float[] f = t.toFloatArray();
        int[] b = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            b[i] = Float.floatToRawIntBits(f[i]);
        }
        return b;
    }
}
