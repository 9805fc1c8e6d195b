package dev.mempipe.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.mempipe.goldentests.Tolerances;
import dev.mempipe.spi.Bm25Idf;
import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.RelevancyOps;
import dev.mempipe.spi.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Fast sanity layer for {@link SimdRelevancyOps}: every op against plain double loops written here, at awkward
 * widths, on padded rows that start at odd byte offsets, with sizes that cross the kernels' 4-row blocks, the
 * 256-row scoring blocks and the parallel chunk boundaries. Integer-by-integer dot products are compared
 * exactly. The conformance kit in golden-tests is the full check.
 *
 * <p>Reproduce a failure with the seed in its message: {@code -Dmempipe.test.seed=<seed>}.
 */
class SimdRelevancyOpsTest {
    private static final ElementType[] TYPES = ElementType.values();
    private static final int[] WIDTHS = {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 129};
    private static final double U = 0x1p-24;

    private final RelevancyOps ops = new SimdBackend().relevancy();
    private final long seed = Long.getLong("mempipe.test.seed", System.nanoTime());
    private final Random random = new Random(seed);
    private Arena arena;

    @BeforeEach
    void open() {
        arena = Arena.ofShared(); // shared, so that large scans really split over the pool's threads
    }

    @AfterEach
    void close() {
        arena.close();
    }

    // ---- dotRows: the small-call path ----

    @Test
    void dotRows_small_calls_equal_the_same_rows_scored_by_the_general_path_bit_for_bit() {
        for (ElementType kt : TYPES) {
            for (int d : WIDTHS) {
                Tensor q = random(ElementType.F32, 1, d, true);
                Tensor keys = random(kt, 97, d, true);
                int large = SimdRelevancyOps.SMALL_ROW_SET + 1; // one row more: the generic check and split set-up
                int[] ids = new int[large];
                for (int j = 0; j < large; j++) {
                    ids[j] = random.nextInt(97);
                }
                Tensor all = Tensor.allocate(arena, ElementType.F32, 1, large);
                for (int count : new int[] {1, 3, 4, 5, 32, SimdRelevancyOps.SMALL_ROW_SET}) {
                    Tensor part = Tensor.allocate(arena, ElementType.F32, 1, count);
                    String where = kt + " d=" + d + " count=" + count + " seed=" + seed;
                    // the same four-row kernel over the same rows in the same groups (both start at row 0); its
                    // reduceLanes may add in another order while the JIT compiles it (SPEC.md, "Threads"), so a
                    // pair of calls may straddle two tiers: up to four pairs, where a different grouping or kernel
                    // differs in every one
                    String mismatch = null;
                    for (int attempt = 0; attempt < 4; attempt++) {
                        ops.dotRows(q, keys, Indices.of(arena, ids), all);
                        ops.dotRows(q, keys, Indices.of(arena, java.util.Arrays.copyOf(ids, count)), part);
                        mismatch = firstBitMismatch(all, part, count / 4 * 4);
                        if (mismatch == null) {
                            break;
                        }
                    }
                    assertNull(mismatch, where);
                    for (int j = count / 4 * 4; j < count; j++) {
                        // a tail row goes through the one-row kernel: another summation order
                        assertEquals(all.get(0, j), part.get(0, j), 1e-5 * (1 + Math.abs(all.get(0, j))),
                                where + " row " + j);
                    }
                }
            }
        }
    }

    @Test
    void dotRows_small_calls_on_java_arrays_read_and_write_them_in_place_with_the_same_bits() {
        for (ElementType kt : TYPES) {
            for (int d : WIDTHS) {
                Tensor keys = random(kt, 41, d, true);
                float[] query = new float[d];
                for (int i = 0; i < d; i++) {
                    query[i] = (float) random.nextGaussian();
                }
                int count = 1 + random.nextInt(SimdRelevancyOps.SMALL_ROW_SET);
                int[] ids = new int[count + 3]; // longer than the call, as an HNSW walk's scratch arrays are
                for (int j = 0; j < ids.length; j++) {
                    ids[j] = random.nextInt(41);
                }
                float[] scores = new float[count + 5];
                Tensor offHeap = Tensor.allocate(arena, ElementType.F32, 1, count);
                String where = kt + " d=" + d + " count=" + count + " seed=" + seed;
                String mismatch = null;
                for (int attempt = 0; attempt < 4 && (attempt == 0 || mismatch != null); attempt++) { // as above
                    java.util.Arrays.fill(scores, -7f);
                    ops.dotRows(Tensor.wrap(MemorySegment.ofArray(query), ElementType.F32, 1, d), keys,
                            Indices.wrap(MemorySegment.ofArray(ids), count),
                            Tensor.wrap(MemorySegment.ofArray(scores), ElementType.F32, 1, count));
                    ops.dotRows(Tensor.of(arena, query, 1, d), keys,
                            Indices.of(arena, java.util.Arrays.copyOf(ids, count)), offHeap);
                    mismatch = firstBitMismatch(offHeap, Tensor.of(arena, java.util.Arrays.copyOf(scores, count), 1,
                            count), count);
                }
                assertNull(mismatch, where);
                for (int j = count; j < scores.length; j++) {
                    assertEquals(-7f, scores[j], where + ": nothing written beyond the call's scores");
                }
            }
        }
    }

    /** The first of the first {@code n} scores whose bits differ, in words, or null. */
    private static String firstBitMismatch(Tensor expected, Tensor actual, int n) {
        for (int j = 0; j < n; j++) {
            int want = Float.floatToIntBits(expected.get(0, j));
            int got = Float.floatToIntBits(actual.get(0, j));
            if (want != got) {
                return "row " + j + ": expected bits " + want + " (" + expected.get(0, j) + ") but got " + got + " ("
                        + actual.get(0, j) + ")";
            }
        }
        return null;
    }

    @Test
    void dotRows_small_calls_still_reject_bad_arguments_with_the_generic_messages() {
        Tensor q = random(ElementType.F32, 1, 8, false);
        Tensor keys = random(ElementType.F32, 10, 8, false);
        Tensor s = Tensor.allocate(arena, ElementType.F32, 1, 2);
        IllegalArgumentException outside = assertThrows(IllegalArgumentException.class,
                () -> ops.dotRows(q, keys, Indices.of(arena, 3, 10), s));
        assertEquals("dotRows: argument 'rowIds' holds 10 at position 1, outside [0, 10)", outside.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> ops.dotRows(q, keys, Indices.of(arena, 1, 2), Tensor.allocate(arena, ElementType.F32, 1, 3)));
        assertThrows(IllegalArgumentException.class,
                () -> ops.dotRows(random(ElementType.F32, 1, 7, false), keys, Indices.of(arena, 1, 2), s));
        Arena closed = Arena.ofConfined();
        Tensor gone = Tensor.allocate(closed, ElementType.F32, 1, 8);
        closed.close();
        assertThrows(IllegalStateException.class, () -> ops.dotRows(gone, keys, Indices.of(arena, 1, 2), s));
    }

    // ---- dot ----

    @Test
    void should_match_double_reference_for_every_type_pair_and_awkward_width() {
        for (ElementType qt : TYPES) {
            for (ElementType mt : TYPES) {
                for (int d : WIDTHS) {
                    for (int queries : new int[] {1, 6}) {
                        if (queries > 1 && d % 2 == 0) {
                            continue; // the multi-query kernels at the odd widths only
                        }
                        Tensor q = random(qt, queries, d, true);
                        Tensor m = random(mt, 13, d, true);
                        Tensor s = output(ElementType.F32, queries, 13);
                        ops.dot(q, m, s);
                        checkDot(q, m, s, qt + " x " + mt + " d=" + d + " m=" + queries);
                    }
                }
            }
        }
    }

    @Test
    void should_score_f32_rows_in_a_batch_as_one_query_alone() {
        // The batched kernels (4 queries x 4 rows per register block, then the leftover queries and rows) sum each
        // row in the single-query order; only reduceLanes' order of the 16 lanes may differ (between JIT tiers), so
        // the two agree within the rounding of that last sum: 16 ulps of the largest partial magnitude.
        for (int d : new int[] {7, 16, 33, 384}) {
            for (int queries : new int[] {4, 5, 11}) {
                Tensor q = random(ElementType.F32, queries, d, true);
                Tensor m = random(ElementType.F32, 1031, d, true);
                Tensor batch = output(ElementType.F32, queries, 1031);
                ops.dot(q, m, batch);
                for (int j = 0; j < queries; j++) {
                    Tensor alone = output(ElementType.F32, 1, 1031);
                    ops.dot(q.rowSlice(j, j + 1), m, alone);
                    for (int r = 0; r < 1031; r++) {
                        double magnitude = 0;
                        for (int i = 0; i < d; i++) {
                            magnitude += Math.abs((double) q.get(j, i) * m.get(r, i));
                        }
                        double allowed = 16 * U * magnitude;
                        if (Math.abs(alone.get(0, r) - batch.get(j, r)) > allowed) {
                            fail("d=" + d + " m=" + queries + " query " + j + " row " + r + ": batch "
                                    + batch.get(j, r) + " alone " + alone.get(0, r) + ", allowed " + allowed
                                    + " (seed " + seed + ")");
                        }
                    }
                }
            }
        }
    }

    @Test
    void should_round_f16_and_bf16_outputs_within_half_an_ulp() {
        for (ElementType out : new ElementType[] {ElementType.F16, ElementType.BF16}) {
            for (ElementType mt : TYPES) {
                Tensor q = random(ElementType.F32, 3, 33, false);
                Tensor m = random(mt, 29, 33, true);
                Tensor s = output(out, 3, 29);
                ops.dot(q, m, s);
                checkDot(q, m, s, "F32 x " + mt + " -> " + out);
            }
        }
    }

    @Test
    void should_split_large_scans_across_parallel_chunks() {
        // 33_003 rows of d=129 exceed two 16K-row grains (I8: the row scales must follow the chunks); 5 queries
        // of d=33 cross the multi-query grain. Every type crosses the 1024-row scoring blocks.
        Tensor q1 = random(ElementType.F32, 1, 129, false);
        Tensor m1 = random(ElementType.I8, 33_003, 129, false);
        Tensor s1 = output(ElementType.F32, 1, 33_003);
        ops.dot(q1, m1, s1);
        checkDot(q1, m1, s1, "parallel F32 x I8");
        for (ElementType mt : TYPES) {
            Tensor qb = random(ElementType.F32, 1, 40, false);
            Tensor mb = random(mt, 2_501, 40, true);
            Tensor sb = output(ElementType.F32, 1, 2_501);
            ops.dot(qb, mb, sb);
            checkDot(qb, mb, sb, "blocks F32 x " + mt);
        }
        Tensor q = random(ElementType.F16, 5, 33, true);
        Tensor m = random(ElementType.F32, 30_001, 33, true);
        Tensor s = output(ElementType.F32, 5, 30_001);
        ops.dot(q, m, s);
        checkDot(q, m, s, "parallel multi-query F16 x F32");
    }

    @Test
    void should_decode_half_precision_subnormals_and_specials_exactly() {
        // d = 70: full vector blocks at 256 and 512 bits plus a scalar tail; specials land in both parts
        int d = 70;
        float[] specials = {0x1p-24f, -0x1p-24f, 0x1.ff8p-15f, 6.1035156e-5f, 65504f, -65504f, 0f, -0f, 1e-3f,
            0x1p-133f, 1.0e30f, -1.5e-38f};
        for (ElementType type : new ElementType[] {ElementType.F16, ElementType.BF16}) {
            Tensor q = random(ElementType.F32, 3, d, false);
            Tensor m = Tensor.allocate(arena, type, 4, d);
            for (int r = 0; r < 4; r++) {
                for (int i = 0; i < d; i++) {
                    float v = specials[(i * 7 + r) % specials.length];
                    m.set(r, i, type == ElementType.F16 && Math.abs(v) > 65504f ? 1f : v);
                }
            }
            Tensor s = output(ElementType.F32, 3, 4);
            ops.dot(q, m, s);
            checkDot(q, m, s, type + " specials");

            m.set(1, 5, Float.POSITIVE_INFINITY);
            m.set(2, 66, Float.NEGATIVE_INFINITY);
            m.set(3, 33, Float.NaN);
            for (int j = 0; j < 3; j++) {
                q.set(j, 5, 1f);
                q.set(j, 66, 1f);
            }
            ops.dot(q, m, s);
            for (int j = 0; j < 3; j++) {
                assertEquals(Float.POSITIVE_INFINITY, s.get(j, 1), type + " +inf key, query " + j);
                assertEquals(Float.NEGATIVE_INFINITY, s.get(j, 2), type + " -inf key, query " + j);
                assertTrue(Float.isNaN(s.get(j, 3)), type + " NaN key, query " + j);
                assertTrue(Float.isFinite(s.get(j, 0)), type + " finite row, query " + j);
            }
        }
    }

    @Test
    void should_run_large_scans_on_memory_confined_to_the_caller() {
        try (Arena confined = Arena.ofConfined()) {
            // 2 queries of d=128: a 8K-row grain, so 17_000 rows would split; softmax splits from 128K scores
            Tensor q = Tensor.of(confined, random(ElementType.F32, 2, 128, false).toFloatArray(), 2, 128);
            Tensor m = Tensor.of(confined, random(ElementType.F32, 17_000, 128, false).toFloatArray(), 17_000, 128);
            Tensor s = Tensor.allocate(confined, ElementType.F32, 2, 17_000);
            ops.dot(q, m, s);
            checkDot(q, m, s, "confined dot");
            ops.cosine(q, m, s);
            checkCosine(q, m, s, "confined cosine");
            Tensor scores = Tensor.of(confined, random(ElementType.F32, 1, 140_000, false).toFloatArray(), 1, 140_000);
            Tensor p = Tensor.allocate(confined, ElementType.F32, 1, 140_000);
            ops.softmax(scores, 1f, p);
            checkSoftmax(scores, 1f, p, "confined softmax");
        }
    }

    @Test
    void should_sum_integer_pairs_exactly_in_long() {
        for (ElementType qt : new ElementType[] {ElementType.I8, ElementType.I16}) {
            for (ElementType mt : new ElementType[] {ElementType.I8, ElementType.I16}) {
                for (int d : new int[] {1, 7, 8, 17, 33, 129, 20_000}) {
                    int rows = d > 1000 ? 5 : 37;
                    Tensor q = randomCodes(qt, 2, d);
                    Tensor m = randomCodes(mt, rows, d);
                    Tensor s = output(ElementType.F32, 2, rows);
                    ops.dot(q, m, s);
                    checkExact(q, m, s, qt + " x " + mt + " d=" + d);
                }
            }
        }
    }

    @Test
    void should_stay_exact_at_the_extreme_codes() {
        // -128 * -128 = 2^14 in every lane and -32768 * -32768 = 2^30: the largest products, all the same sign.
        for (ElementType type : new ElementType[] {ElementType.I8, ElementType.I16}) {
            int d = 20_000;
            int min = -type.maxCode() - 1;
            Tensor q = Tensor.allocate(arena, type, 1, d);
            Tensor m = Tensor.allocate(arena, type, 6, d);
            q.setScale(0, 1f);
            for (int i = 0; i < d; i++) {
                q.setCode(0, i, min);
            }
            for (int r = 0; r < 6; r++) {
                m.setScale(r, 1f);
                for (int i = 0; i < d; i++) {
                    m.setCode(r, i, r % 2 == 0 ? min : type.maxCode());
                }
            }
            Tensor s = output(ElementType.F32, 1, 6);
            ops.dot(q, m, s);
            checkExact(q, m, s, type + " extremes");
        }
    }

    @Test
    void should_leave_the_output_untouched_on_bad_input() {
        Tensor q = random(ElementType.F32, 1, 8, false);
        Tensor m = random(ElementType.F32, 4, 9, false);
        Tensor s = output(ElementType.F32, 1, 4);
        for (int i = 0; i < 4; i++) {
            s.set(0, i, 42f);
        }
        assertThrows(IllegalArgumentException.class, () -> ops.dot(q, m, s));
        assertThrows(IllegalArgumentException.class, () -> ops.cosine(q, m, s));
        Tensor wrongShape = output(ElementType.F32, 1, 3);
        assertThrows(IllegalArgumentException.class, () -> ops.dot(q, random(ElementType.F32, 4, 8, false),
                wrongShape));
        for (int i = 0; i < 4; i++) {
            assertEquals(42f, s.get(0, i));
        }
    }

    // ---- cosine ----

    @Test
    void should_match_double_reference_cosine_for_every_type_and_width() {
        for (ElementType qt : TYPES) {
            for (ElementType mt : TYPES) {
                for (int d : new int[] {1, 7, 17, 33, 129}) {
                    Tensor q = random(qt, 5, d, true);
                    Tensor m = random(mt, 11, d, true);
                    Tensor s = output(ElementType.F32, 5, 11);
                    ops.cosine(q, m, s);
                    checkCosine(q, m, s, qt + " x " + mt + " d=" + d);
                }
            }
        }
    }

    @Test
    void should_give_zero_cosine_for_zero_rows_and_zero_queries() {
        for (ElementType mt : TYPES) {
            int d = 40;
            Tensor q = random(ElementType.F32, 2, d, false);
            for (int i = 0; i < d; i++) {
                q.set(1, i, 0f);
            }
            Tensor m = random(mt, 6, d, true);
            if (mt.isQuantized()) {
                m.setScale(2, 0f); // a zero row: scale 0 ...
                m.setScale(4, 0f); // ... and codes that are not zero: still a zero row once decoded
                for (int i = 0; i < d; i++) {
                    m.setCode(2, i, 0);
                }
            } else {
                for (int i = 0; i < d; i++) {
                    m.set(2, i, 0f);
                    m.set(4, i, 0f);
                }
            }
            Tensor s = output(ElementType.F32, 2, 6);
            ops.cosine(q, m, s);
            for (int r = 0; r < 6; r++) {
                assertEquals(0f, s.get(1, r), "zero query, row " + r + ", " + mt);
            }
            assertEquals(0f, s.get(0, 2), "zero row 2, " + mt);
            assertEquals(0f, s.get(0, 4), "zero row 4, " + mt);
            checkCosine(q, m, s, "zero rows " + mt);
        }
    }

    @Test
    void should_keep_cosine_accurate_for_tiny_and_huge_rows() {
        int d = 64;
        Tensor q = random(ElementType.F32, 3, d, false);
        Tensor m = random(ElementType.F32, 9, d, false);
        for (int i = 0; i < d; i++) {
            q.set(1, i, q.get(1, i) * 1e-30f);
            q.set(2, i, q.get(2, i) * 1e25f);
            m.set(3, i, m.get(3, i) * 1e-35f); // squares underflow f32
            m.set(5, i, m.get(5, i) * 1e30f); // squares overflow f32
            m.set(7, i, m.get(7, i) * 1e-20f);
        }
        Tensor s = output(ElementType.F32, 3, 9);
        ops.cosine(q, m, s);
        checkCosine(q, m, s, "extreme magnitudes");
    }

    @Test
    void should_compute_exact_integer_cosine_and_split_parallel_chunks() {
        Tensor q = randomCodes(ElementType.I8, 2, 64);
        Tensor m = randomCodes(ElementType.I16, 7, 64);
        Tensor s = output(ElementType.F32, 2, 7);
        ops.cosine(q, m, s);
        checkCosine(q, m, s, "I8 x I16");

        Tensor q2 = random(ElementType.BF16, 1, 128, false);
        Tensor m2 = random(ElementType.F32, 33_000, 128, true);
        Tensor s2 = output(ElementType.F32, 1, 33_000);
        ops.cosine(q2, m2, s2);
        checkCosine(q2, m2, s2, "parallel cosine");
    }

    // ---- questBound ----

    @Test
    void should_bound_pages_as_the_double_reference_does() {
        for (ElementType t : new ElementType[] {ElementType.F32, ElementType.BF16, ElementType.I8}) {
            for (int d : WIDTHS) {
                for (int pages : new int[] {1, 2, 3, 2_049, 17_001}) {
                    if (pages == 2_049 && d != 17 || pages == 17_001 && (d != 129 || t != ElementType.F32)) {
                        continue; // blocks for every type; the parallel split (type-independent) for F32
                    }
                    Tensor q = random(ElementType.F32, 1, d, false);
                    Tensor min = random(t, pages, d, true);
                    Tensor max = random(t, pages, d, true);
                    Tensor s = output(ElementType.F32, 1, pages);
                    ops.questBound(q, min, max, s);
                    float[] qv = q.toFloatArray();
                    float[][] lo = rows(min);
                    float[][] hi = rows(max);
                    for (int p = 0; p < pages; p++) {
                        double ref = 0;
                        double abs = 0;
                        for (int i = 0; i < d; i++) {
                            double qi = qv[i];
                            double v = Math.max(qi * lo[p][i], qi * hi[p][i]);
                            ref += v;
                            abs += Math.abs(v);
                        }
                        assertClose(ref, s.get(0, p), 2 * d * U * abs + 1e-30, t + " d=" + d + " page " + p);
                    }
                }
            }
        }
    }

    @Test
    void should_bound_every_key_of_the_page() {
        int d = 24;
        int pageSize = 16;
        float[][] keys = new float[pageSize][d];
        Tensor min = Tensor.allocate(arena, ElementType.F32, 1, d);
        Tensor max = Tensor.allocate(arena, ElementType.F32, 1, d);
        for (int i = 0; i < d; i++) {
            float lo = Float.POSITIVE_INFINITY;
            float hi = Float.NEGATIVE_INFINITY;
            for (float[] k : keys) {
                k[i] = (float) random.nextGaussian();
                lo = Math.min(lo, k[i]);
                hi = Math.max(hi, k[i]);
            }
            min.set(0, i, lo);
            max.set(0, i, hi);
        }
        Tensor q = random(ElementType.F32, 1, d, false);
        Tensor s = output(ElementType.F32, 1, 1);
        ops.questBound(q, min, max, s);
        for (float[] k : keys) {
            double dot = 0;
            for (int i = 0; i < d; i++) {
                dot += q.get(0, i) * k[i];
            }
            assertTrue(s.get(0, 0) >= dot - 1e-5, "bound " + s.get(0, 0) + " < <q,k> = " + dot + seedNote());
        }
    }

    // ---- groupMax ----

    @Test
    void should_take_the_max_of_each_group_including_the_partial_last_one() {
        for (ElementType t : new ElementType[] {ElementType.F32, ElementType.F16, ElementType.I8}) {
            for (int n : new int[] {1, 7, 1000, 300_001}) {
                for (int g : new int[] {1, 3, 8, 64, 1000, 1001}) {
                    if (n > 1000 && g != 3 && g != 1001) {
                        continue;
                    }
                    Tensor s = random(t, 1, n, false);
                    int groups = (n + g - 1) / g;
                    Tensor y = output(ElementType.F32, 1, groups);
                    ops.groupMax(s, g, y);
                    float[] sv = s.toFloatArray();
                    for (int k = 0; k < groups; k++) {
                        float ref = Float.NEGATIVE_INFINITY;
                        for (int i = k * g; i < Math.min(n, (k + 1) * g); i++) {
                            ref = Math.max(ref, sv[i]);
                        }
                        assertEquals(ref, y.get(0, k), t + " n=" + n + " g=" + g + " group " + k + seedNote());
                    }
                }
            }
        }
    }

    // ---- indexerScore ----

    @Test
    void should_sum_weighted_relu_of_scaled_head_scores() {
        for (ElementType kt : new ElementType[] {ElementType.F32, ElementType.F16, ElementType.I8}) {
            for (int heads : new int[] {1, 3, 4, 9}) {
                for (int d : new int[] {7, 32, 33}) {
                    for (boolean withScale : new boolean[] {false, true}) {
                        int n = 37;
                        Tensor q = random(ElementType.F32, heads, d, false);
                        Tensor w = random(ElementType.F32, 1, heads, false);
                        Tensor keys = random(kt, n, d, true);
                        Tensor kScale = withScale ? random(ElementType.F32, 1, n, false) : null;
                        Tensor s = output(ElementType.F32, 1, n);
                        ops.indexerScore(q, w, keys, kScale, s);
                        for (int t = 0; t < n; t++) {
                            double ks = kScale == null ? 1 : kScale.get(0, t);
                            double ref = 0;
                            double bound = 1e-30;
                            for (int h = 0; h < heads; h++) {
                                double dot = 0;
                                double abs = 0;
                                for (int i = 0; i < d; i++) {
                                    double p = (double) q.get(h, i) * keys.get(t, i);
                                    dot += p;
                                    abs += Math.abs(p);
                                }
                                double wh = w.get(0, h);
                                ref += wh * Math.max(0, ks * dot);
                                bound += Math.abs(wh * ks) * (2 * d * U * abs) + 2 * U * Math.abs(wh * ks * dot);
                            }
                            assertClose(ref, s.get(0, t), bound, kt + " H=" + heads + " d=" + d + " row " + t);
                        }
                    }
                }
            }
        }
    }

    // ---- softmax ----

    @Test
    void should_not_overflow_on_huge_scores() {
        float[] scores = {1e30f, 1e30f - 1e23f, -1e30f, 0f, 1e30f};
        for (float scale : new float[] {1f, 1e10f, -1e10f, 1e-30f}) {
            Tensor s = Tensor.vector(arena, scores);
            Tensor p = output(ElementType.F32, 1, scores.length);
            ops.softmax(s, scale, p);
            checkSoftmax(s, scale, p, "huge scores, scale " + scale);
        }
    }

    @Test
    void should_sum_to_one_for_every_input_type_and_output_type_and_allow_aliasing() {
        for (ElementType t : TYPES) {
            for (ElementType out : new ElementType[] {ElementType.F32, ElementType.F16, ElementType.BF16}) {
                for (int n : new int[] {1, 3, 17, 4097, 200_003}) {
                    if (n > 5000 && (t != ElementType.BF16 || out != ElementType.F32)) {
                        continue; // one large input crosses the parallel blocks; the types are covered below it
                    }
                    Tensor s = random(t, 1, n, false);
                    Tensor p = output(out, 1, n);
                    ops.softmax(s, 0.7f, p);
                    checkSoftmax(s, 0.7f, p, t + " -> " + out + " n=" + n);
                }
            }
        }
        Tensor s = random(ElementType.F32, 1, 5000, false);
        Tensor copy = Tensor.vector(arena, s.toFloatArray());
        ops.softmax(s, 2f, s);
        checkSoftmax(copy, 2f, s, "p aliases s");
    }

    // ---- bm25Score ----

    @Test
    void should_score_bm25_without_length_normalization_as_the_hand_formula() {
        // docs: 0 = [1 1 2], 1 = [2 3], 2 = [1], 3 = [4 4 4 4]; query 1, 1 (repeated), 4, 9 (unknown), -5
        Bm25Index index = index(new int[][] {{1, 1, 2}, {2, 3}, {1}, {4, 4, 4, 4}});
        Indices query = Indices.of(arena, 1, 1, 4, 9, -5);
        Tensor s = output(ElementType.F32, 1, 4);
        ops.bm25Score(query, index, Bm25Params.FPGA_KERNEL, s);
        double k1 = 1.2f;
        double idf1 = Math.log((4 - 2 + 0.5) / (2 + 0.5)); // term 1 is in 2 of 4 docs
        double idf4 = Math.log((4 - 1 + 0.5) / (1 + 0.5));
        double[] ref = {
            idf1 * 2 * (k1 + 1) / (2 + k1),
            0,
            idf1 * 1 * (k1 + 1) / (1 + k1),
            idf4 * 4 * (k1 + 1) / (4 + k1),
        };
        for (int doc = 0; doc < 4; doc++) {
            assertEquals((float) ref[doc], s.get(0, doc), "doc " + doc);
        }
    }

    @Test
    void should_score_bm25_with_length_normalization_and_lucene_idf() {
        Bm25Index index = index(new int[][] {{1, 1, 2}, {2, 3}, {1}, {4, 4, 4, 4}, {}});
        Indices query = Indices.of(arena, 2, 1, 2);
        Tensor s = output(ElementType.F32, 1, 5);
        Bm25Params params = new Bm25Params(1.5f, 0.75f, Bm25Idf.LUCENE);
        ops.bm25Score(query, index, params, s);
        double avg = 10 / 5.0;
        double k1 = 1.5f;
        double b = 0.75f;
        double idf1 = Math.log1p((5 - 2 + 0.5) / (2 + 0.5));
        double idf2 = Math.log1p((5 - 2 + 0.5) / (2 + 0.5));
        double[] ref = {
            idf1 * 2 * (k1 + 1) / (2 + k1 * (1 - b + b * 3 / avg))
                    + idf2 * 1 * (k1 + 1) / (1 + k1 * (1 - b + b * 3 / avg)),
            idf2 * 1 * (k1 + 1) / (1 + k1 * (1 - b + b * 2 / avg)),
            idf1 * 1 * (k1 + 1) / (1 + k1 * (1 - b + b * 1 / avg)),
            0,
            0,
        };
        for (int doc = 0; doc < 5; doc++) {
            assertEquals(ref[doc], s.get(0, doc), Math.ulp((float) ref[doc]), "doc " + doc);
        }
    }

    // ---- helpers ----

    private String seedNote() {
        return " (seed " + seed + ", rerun with -Dmempipe.test.seed=" + seed + ")";
    }

    /**
     * A tensor of gaussian values; when {@code awkward}, its rows are padded by an odd number of bytes and the
     * data (and scales) start at an odd byte offset.
     */
    private Tensor random(ElementType type, long rows, int cols, boolean awkward) {
        Tensor t = allocate(type, rows, cols, awkward);
        for (long r = 0; r < rows; r++) {
            float[] v = new float[cols];
            float maxAbs = 0;
            for (int c = 0; c < cols; c++) {
                v[c] = (float) random.nextGaussian();
                maxAbs = Math.max(maxAbs, Math.abs(v[c]));
            }
            if (type == ElementType.F32) {
                MemorySegment.copy(v, 0, t.data(), ValueLayout.JAVA_FLOAT_UNALIGNED, t.offset(r, 0), cols);
                continue;
            }
            if (type.isQuantized()) {
                t.setScale(r, maxAbs / type.maxCode());
            }
            for (int c = 0; c < cols; c++) {
                t.set(r, c, v[c]);
            }
        }
        return t;
    }

    /** Uniform random codes over the whole range (including -128 / -32768) with random scales. */
    private Tensor randomCodes(ElementType type, long rows, int cols) {
        Tensor t = allocate(type, rows, cols, true);
        int max = type.maxCode();
        for (long r = 0; r < rows; r++) {
            t.setScale(r, (float) (random.nextDouble() * 0.1));
            for (int c = 0; c < cols; c++) {
                t.setCode(r, c, random.nextInt(2 * max + 2) - max - 1);
            }
        }
        return t;
    }

    private Tensor allocate(ElementType type, long rows, int cols, boolean awkward) {
        if (!awkward) {
            return Tensor.allocate(arena, type, rows, cols);
        }
        long rowBytes = (long) cols * type.byteSize();
        long stride = rowBytes + 5;
        MemorySegment data = arena.allocate(3 + rows * stride).asSlice(3);
        MemorySegment scales = type.isQuantized() ? arena.allocate(1 + rows * 4).asSlice(1) : null;
        return Tensor.wrap(data, type, rows, cols, stride, scales);
    }

    private Tensor output(ElementType type, long rows, int cols) {
        return Tensor.allocate(arena, type, rows, cols);
    }

    private void checkDot(Tensor q, Tensor m, Tensor s, String what) {
        int d = q.cols();
        boolean exact = q.type().isQuantized() && m.type().isQuantized();
        float[][] qv = rows(q);
        float[][] mv = rows(m);
        for (long j = 0; j < q.rows(); j++) {
            for (long r = 0; r < m.rows(); r++) {
                float got = s.get(j, (int) r);
                if (exact) {
                    float ref = (float) exactDot(q, j, m, r);
                    assertEquals(s.type() == ElementType.F32 ? ref : roundTo(s.type(), ref), got,
                            what + " [" + j + ", " + r + "]" + seedNote());
                    continue;
                }
                double ref = 0;
                double abs = 0;
                for (int i = 0; i < d; i++) {
                    double p = (double) qv[(int) j][i] * mv[(int) r][i];
                    ref += p;
                    abs += Math.abs(p);
                }
                double bound = 2 * d * U * abs + 1e-30
                        + (s.type() == ElementType.F32 ? 0 : Tolerances.halfUlp(s.type(), ref));
                assertClose(ref, got, bound, what + " [" + j + ", " + r + "]");
            }
        }
    }

    private void checkExact(Tensor q, Tensor m, Tensor s, String what) {
        for (long j = 0; j < q.rows(); j++) {
            for (long r = 0; r < m.rows(); r++) {
                float ref = (float) exactDot(q, j, m, r);
                assertEquals(Float.floatToIntBits(ref), Float.floatToIntBits(s.get(j, (int) r)),
                        what + " [" + j + ", " + r + "]: expected " + ref + " got " + s.get(j, (int) r) + seedNote());
            }
        }
    }

    /** The contract's integer dot: exact long sum of code products, scaled once in double. */
    private static double exactDot(Tensor a, long ra, Tensor b, long rb) {
        long sum = 0;
        for (int i = 0; i < a.cols(); i++) {
            sum += (long) a.code(ra, i) * b.code(rb, i);
        }
        return sum * (double) a.scale(ra) * (double) b.scale(rb);
    }

    private void checkCosine(Tensor q, Tensor m, Tensor s, String what) {
        int d = q.cols();
        boolean exact = q.type().isQuantized() && m.type().isQuantized();
        float[][] qv = rows(q);
        float[][] mv = rows(m);
        for (long j = 0; j < q.rows(); j++) {
            for (long r = 0; r < m.rows(); r++) {
                double dot = 0;
                double abs = 0;
                double qq = 0;
                double mm = 0;
                for (int i = 0; i < d; i++) {
                    double a = qv[(int) j][i];
                    double b = mv[(int) r][i];
                    dot += a * b;
                    abs += Math.abs(a * b);
                    qq += a * a;
                    mm += b * b;
                }
                if (exact) {
                    dot = exactDot(q, j, m, r);
                }
                double norms = Math.sqrt(qq) * Math.sqrt(mm);
                double ref = norms == 0 ? 0 : dot / norms;
                // the dot bound over the norms, plus the norms' own f32 roundings (relative d u each)
                double bound = norms == 0 ? 0 : (2 * d * U * abs) / norms + 2 * d * U * Math.abs(ref) + 1e-30;
                assertClose(ref, s.get(j, (int) r), bound, what + " [" + j + ", " + r + "]");
            }
        }
    }

    private void checkSoftmax(Tensor s, float scale, Tensor p, String what) {
        int n = s.cols();
        float[] sv = s.toFloatArray();
        float[] pv = p.toFloatArray();
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, (double) scale * sv[i]);
        }
        double[] e = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            e[i] = Math.exp((double) scale * sv[i] - max);
            sum += e[i];
        }
        double total = 0;
        for (int i = 0; i < n; i++) {
            double ref = e[i] / sum;
            float got = pv[i];
            assertTrue(Float.isFinite(got), what + " p[" + i + "] = " + got + seedNote());
            double bound = 4 * U * ref + 1e-45 + (p.type() == ElementType.F32 ? 0 : Tolerances.halfUlp(p.type(), ref));
            assertClose(ref, got, bound, what + " p[" + i + "]");
            total += got;
        }
        double slack = p.type() == ElementType.F32 ? 1e-4 : 1e-2;
        assertEquals(1.0, total, slack, what + " sums to " + total + seedNote());
    }

    /** Every row decoded by the spi's own {@link Tensor#get}, independent of the kernels under test. */
    private static float[][] rows(Tensor t) {
        float[][] out = new float[(int) t.rows()][t.cols()];
        for (int r = 0; r < out.length; r++) {
            if (t.type() == ElementType.F32) { // plain little-endian floats: a bulk copy is the same decode
                MemorySegment.copy(t.data(), ValueLayout.JAVA_FLOAT_UNALIGNED, t.offset(r, 0), out[r], 0, t.cols());
                continue;
            }
            for (int c = 0; c < t.cols(); c++) {
                out[r][c] = t.get(r, c);
            }
        }
        return out;
    }

    private void assertClose(double ref, float got, double bound, String what) {
        if (!(Math.abs(got - ref) <= bound) && !(Double.isNaN(ref) && Float.isNaN(got))) {
            fail(what + ": expected " + ref + " got " + got + ", |diff| " + Math.abs(got - ref) + " > bound "
                    + bound + seedNote());
        }
    }

    private static float roundTo(ElementType type, float value) {
        return switch (type) {
            case F16 -> Float.float16ToFloat(Float.floatToFloat16(value));
            case BF16 -> dev.mempipe.spi.FloatFormats.bf16ToFloat(dev.mempipe.spi.FloatFormats.floatToBf16(value));
            default -> value;
        };
    }

    /** A BM25 index built by hand from documents of term ids. */
    private static Bm25Index index(int[][] docs) {
        int vocabulary = 0;
        for (int[] doc : docs) {
            for (int t : doc) {
                vocabulary = Math.max(vocabulary, t + 1);
            }
        }
        int[] lengths = new int[docs.length];
        int[] df = new int[vocabulary];
        int[][] tf = new int[vocabulary][docs.length];
        for (int d = 0; d < docs.length; d++) {
            lengths[d] = docs[d].length;
            for (int t : docs[d]) {
                if (tf[t][d]++ == 0) {
                    df[t]++;
                }
            }
        }
        int[] offsets = new int[vocabulary + 1];
        for (int t = 0; t < vocabulary; t++) {
            offsets[t + 1] = offsets[t] + df[t];
        }
        int[] postingDocs = new int[offsets[vocabulary]];
        int[] postingTfs = new int[offsets[vocabulary]];
        for (int t = 0, p = 0; t < vocabulary; t++) {
            for (int d = 0; d < docs.length; d++) {
                if (tf[t][d] > 0) {
                    postingDocs[p] = d;
                    postingTfs[p++] = tf[t][d];
                }
            }
        }
        return new Bm25Index(lengths, df, offsets, postingDocs, postingTfs);
    }
}
