package dev.mempipe.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.mempipe.goldentests.Tolerances;
import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.FloatFormats;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.PoolMode;
import dev.mempipe.spi.PrepareOps;
import dev.mempipe.spi.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Fast sanity layer for {@link SimdPrepareOps}: every op against plain double loops written here, for every
 * element type, at awkward sizes, on padded rows that start at odd byte offsets, with partial last pages and
 * sizes that cross the parallel split. Min/max, quantization and conversion are compared exactly. The
 * conformance kit in golden-tests is the full check.
 *
 * <p>Reproduce a failure with the seed in its message: {@code -Dmempipe.test.seed=<seed>}.
 */
class SimdPrepareOpsTest {
    private static final ElementType[] TYPES = ElementType.values();
    private static final ElementType[] FLOAT_OUT = {ElementType.F32, ElementType.F16, ElementType.BF16};
    private static final int[] WIDTHS = {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 129};
    private static final double U = Tolerances.U32;
    /** Byte written into the padding of test tensors: decodes to NaN (floats) or -1 (codes), so stray reads show. */
    private static final byte PAD = (byte) 0xFF;

    private final PrepareOps ops = new SimdBackend().prepare();
    private final long seed = Long.getLong("mempipe.test.seed", System.nanoTime());
    private final Random random = new Random(seed);
    private Arena arena;

    @BeforeEach
    void open() {
        arena = Arena.ofShared(); // shared, so that large inputs really split over the pool's threads
    }

    @AfterEach
    void close() {
        arena.close();
    }

    // ---- pageMinMax / pageMinMaxAppend ----

    @Test
    void should_compute_exact_page_min_max_for_every_type_with_partial_last_page() {
        for (ElementType type : TYPES) {
            for (int rows : new int[] {1, 3, 7, 8, 9, 17, 33, 129}) {
                for (int page : new int[] {1, 3, 8, 16}) {
                    int d = WIDTHS[random.nextInt(WIDTHS.length)];
                    ElementType outType = FLOAT_OUT[random.nextInt(FLOAT_OUT.length)];
                    Tensor keys = random(type, rows, d, true);
                    int pages = (rows + page - 1) / page;
                    Tensor min = output(outType, pages, d, true);
                    Tensor max = output(outType, pages, d, true);
                    ops.pageMinMax(keys, page, min, max);
                    checkMinMax(keys, page, min, max,
                            type + " L=" + rows + " P=" + page + " d=" + d + " -> " + outType);
                }
            }
        }
    }

    @Test
    void should_give_identical_bits_when_pages_are_appended_incrementally() {
        for (ElementType outType : FLOAT_OUT) {
            for (ElementType type : new ElementType[] {ElementType.F32, ElementType.BF16, ElementType.I8}) {
                int rows = 45;
                int page = 8;
                int d = 17;
                Tensor keys = random(type, rows, d, true);
                int pages = (rows + page - 1) / page;
                Tensor batchMin = output(outType, pages, d, false);
                Tensor batchMax = output(outType, pages, d, false);
                ops.pageMinMax(keys, page, batchMin, batchMax);
                // appends that start at a page boundary, inside a page, one row at a time, and with nothing new
                for (int[] steps : new int[][] {{16, 45}, {5, 13, 30, 45}, {0, 1, 2, 3, 9, 44, 45}, {45}}) {
                    Tensor min = output(outType, pages, d, false);
                    Tensor max = output(outType, pages, d, false);
                    int done = 0;
                    for (int upTo : steps) {
                        int usedPages = (upTo + page - 1) / page;
                        ops.pageMinMaxAppend(keys.rowSlice(0, upTo), done, page, min.rowSlice(0, usedPages),
                                max.rowSlice(0, usedPages));
                        done = upTo;
                    }
                    String what = type + " -> " + outType + " steps " + Arrays.toString(steps) + seedNote();
                    assertArrayEquals(bits(batchMin), bits(min), "min " + what);
                    assertArrayEquals(bits(batchMax), bits(max), "max " + what);
                }
            }
        }
    }

    @Test
    void should_leave_pages_before_the_first_new_row_untouched_on_append() {
        int d = 9;
        Tensor keys = random(ElementType.F32, 20, d, false);
        Tensor min = output(ElementType.F32, 5, d, false);
        Tensor max = output(ElementType.F32, 5, d, false);
        for (int p = 0; p < 5; p++) {
            for (int c = 0; c < d; c++) {
                min.set(p, c, 1234f);
                max.set(p, c, -1234f);
            }
        }
        ops.pageMinMaxAppend(keys, 12, 4, min, max); // pages 0..2 hold only rows < 12
        for (int p = 0; p < 3; p++) {
            for (int c = 0; c < d; c++) {
                assertEquals(1234f, min.get(p, c), "min page " + p);
                assertEquals(-1234f, max.get(p, c), "max page " + p);
            }
        }
        for (int p = 3; p < 5; p++) {
            for (int c = 0; c < d; c++) {
                float lo = Float.POSITIVE_INFINITY;
                float hi = Float.NEGATIVE_INFINITY;
                for (int r = 4 * p; r < 4 * p + 4; r++) {
                    lo = Math.min(lo, keys.get(r, c));
                    hi = Math.max(hi, keys.get(r, c));
                }
                assertEquals(lo, min.get(p, c), "min page " + p);
                assertEquals(hi, max.get(p, c), "max page " + p);
            }
        }
    }

    @Test
    void should_reject_a_bad_page_size_before_writing_anything() {
        Tensor keys = random(ElementType.F32, 8, 4, false);
        Tensor min = output(ElementType.F32, 2, 4, false);
        Tensor max = output(ElementType.F32, 2, 4, false);
        min.set(0, 0, 7f);
        assertThrows(IllegalArgumentException.class, () -> ops.pageMinMax(keys, 0, min, max));
        assertThrows(IllegalArgumentException.class, () -> ops.pageMinMax(keys, 3, min, max)); // needs 3 pages
        assertEquals(7f, min.get(0, 0));
    }

    @Test
    void should_split_page_min_max_over_threads_without_changing_results() {
        Tensor keys = random(ElementType.F32, 100_003, 8, false);
        int pages = (100_003 + 15) / 16;
        Tensor min = output(ElementType.F32, pages, 8, false);
        Tensor max = output(ElementType.F32, pages, 8, false);
        ops.pageMinMax(keys, 16, min, max);
        checkMinMax(keys, 16, min, max, "L=100003 P=16");
    }

    // ---- pagePool ----

    @Test
    void should_pool_pages_dividing_the_last_partial_page_by_its_own_row_count() {
        for (ElementType type : TYPES) {
            for (PoolMode mode : PoolMode.values()) {
                for (int rows : new int[] {1, 7, 9, 33}) {
                    int page = 4;
                    int d = 17;
                    ElementType outType = FLOAT_OUT[random.nextInt(FLOAT_OUT.length)];
                    Tensor keys = random(type, rows, d, true);
                    int pages = (rows + page - 1) / page;
                    Tensor out = output(outType, pages, d, true);
                    ops.pagePool(keys, page, mode, out);
                    for (int p = 0; p < pages; p++) {
                        int end = Math.min(rows, (p + 1) * page);
                        for (int c = 0; c < d; c++) {
                            double ref = mode == PoolMode.MAX ? Double.NEGATIVE_INFINITY
                                    : mode == PoolMode.MIN ? Double.POSITIVE_INFINITY : 0;
                            double sumAbs = 0;
                            for (int r = p * page; r < end; r++) {
                                double v = keys.get(r, c);
                                sumAbs += Math.abs(v);
                                ref = switch (mode) {
                                    case MEAN -> ref + v;
                                    case MAX -> Math.max(ref, v);
                                    case MIN -> Math.min(ref, v);
                                };
                            }
                            String what = type + " " + mode + " L=" + rows + " page " + p + " col " + c + " -> "
                                    + outType;
                            if (mode == PoolMode.MEAN) {
                                int count = end - p * page;
                                ref /= count;
                                double tol = 2.0 * count * U * sumAbs / count + Tolerances.halfUlp(outType, ref);
                                assertWithin(ref, out.get(p, c), tol, what);
                            } else {
                                assertEquals(roundTo(outType, (float) ref), out.get(p, c), what + seedNote());
                            }
                        }
                    }
                }
            }
        }
    }

    // ---- project ----

    @Test
    void should_project_every_type_pair_at_awkward_sizes() {
        for (ElementType xt : TYPES) {
            for (ElementType wt : TYPES) {
                for (int h : new int[] {1, 7, 16, 17, 33, 129}) {
                    int n = new int[] {1, 2, 3, 9}[random.nextInt(4)];
                    int o = new int[] {1, 4, 7, 17}[random.nextInt(4)];
                    ElementType outType = FLOAT_OUT[random.nextInt(FLOAT_OUT.length)];
                    Tensor x = random(xt, n, h, true);
                    Tensor w = random(wt, o, h, true);
                    Tensor y = output(outType, n, o, true);
                    ops.project(x, w, y);
                    checkProject(x, w, y, xt + " x " + wt + " n=" + n + " o=" + o + " h=" + h + " -> " + outType);
                }
            }
        }
    }

    @Test
    void should_project_large_inputs_split_over_rows_of_x_or_of_w() {
        Tensor x = random(ElementType.F32, 301, 67, false);
        Tensor w = random(ElementType.F32, 203, 67, false);
        Tensor y = output(ElementType.F32, 301, 203, false);
        ops.project(x, w, y);
        checkProject(x, w, y, "301x67 * (203x67)^T");

        Tensor x2 = random(ElementType.F16, 3, 257, true);
        Tensor w2 = random(ElementType.F32, 3001, 257, false);
        Tensor y2 = output(ElementType.F32, 3, 3001, true);
        ops.project(x2, w2, y2);
        checkProject(x2, w2, y2, "3x257 * (3001x257)^T");
    }

    @Test
    void should_project_to_the_same_bits_on_every_call_while_the_jit_warms_up() {
        Tensor x = random(ElementType.F32, 9, 67, true);
        Tensor w = random(ElementType.BF16, 33, 67, true);
        Tensor first = output(ElementType.F32, 9, 33, false);
        Tensor next = output(ElementType.F32, 9, 33, false);
        ops.project(x, w, first);
        for (int call = 0; call < 600; call++) {
            ops.project(x, w, next);
            assertArrayEquals(bits(first), bits(next), "call " + call + seedNote());
        }
    }

    @Test
    void should_accumulate_integer_codes_exactly_in_project() {
        for (ElementType xt : new ElementType[] {ElementType.I8, ElementType.I16}) {
            for (ElementType wt : new ElementType[] {ElementType.I8, ElementType.I16}) {
                int h = 4099; // long enough that f32 accumulation of near-maximal codes would lose bits
                Tensor x = random(xt, 2, h, true);
                Tensor w = random(wt, 5, h, true);
                for (int c = 0; c < h; c++) { // near-maximal codes of one sign: the worst case for f32 sums
                    x.setCode(1, c, xt.maxCode() - (c % 3));
                    w.setCode(3, c, wt.maxCode() - (c % 5));
                }
                Tensor y = output(ElementType.F32, 2, 5, true);
                ops.project(x, w, y);
                for (int i = 0; i < 2; i++) {
                    for (int j = 0; j < 5; j++) {
                        long sum = 0;
                        for (int c = 0; c < h; c++) {
                            sum += (long) x.code(i, c) * w.code(j, c);
                        }
                        double ref = sum * (double) x.scale(i) * w.scale(j);
                        assertWithin(ref, y.get(i, j), 4 * U * Math.abs(ref) + Tolerances.halfUlp(ElementType.F32, ref),
                                xt + " x " + wt + " Y[" + i + ", " + j + "]");
                    }
                }
            }
        }
    }

    @Test
    void should_project_confined_memory_on_the_calling_thread() {
        try (Arena confined = Arena.ofConfined()) {
            Arena shared = arena;
            arena = confined;
            try {
                Tensor x = random(ElementType.F32, 300, 64, false);
                Tensor w = random(ElementType.F32, 300, 64, false);
                Tensor y = output(ElementType.F32, 300, 300, false);
                ops.project(x, w, y);
                checkProject(x, w, y, "confined 300x300x64");
            } finally {
                arena = shared;
            }
        }
    }

    // ---- quantize / dequantize / convert ----

    @Test
    void should_quantize_with_maxabs_scale_and_round_half_even_codes() {
        for (ElementType from : TYPES) {
            for (ElementType to : new ElementType[] {ElementType.I8, ElementType.I16}) {
                for (int d : WIDTHS) {
                    float[] values = values(5, d);
                    Arrays.fill(values, 2 * d, 3 * d, 0f); // a zero row
                    Tensor x = padded(Tensor.encode(arena, from, values, 5, d));
                    Tensor q = output(to, 5, d, true);
                    ops.quantize(x, q);
                    checkQuantized(x, q, from + " -> " + to + " d=" + d);
                }
            }
        }
    }

    @Test
    void should_round_codes_half_to_even() {
        // maxabs 127 gives scale exactly 1, so x / scale lands on the ties themselves
        Tensor x = Tensor.of(arena, new float[] {127f, 0.5f, 1.5f, 2.5f, -0.5f, -2.5f, -127f}, 1, 7);
        Tensor q = output(ElementType.I8, 1, 7, true);
        ops.quantize(x, q);
        assertEquals(1f, q.scale(0));
        int[] expected = {127, 0, 2, 2, 0, -2, -127};
        for (int c = 0; c < 7; c++) {
            assertEquals(expected[c], q.code(0, c), "code of " + x.get(0, c));
        }
    }

    @Test
    void should_give_scale_zero_and_zero_codes_for_a_zero_row() {
        Tensor x = Tensor.of(arena, new float[7], 1, 7);
        Tensor q = output(ElementType.I8, 1, 7, false);
        ops.quantize(x, q);
        assertEquals(0f, q.scale(0));
        for (int c = 0; c < 7; c++) {
            assertEquals(0, q.code(0, c));
        }
    }

    @Test
    void should_dequantize_exactly_as_code_times_scale() {
        for (ElementType from : new ElementType[] {ElementType.I8, ElementType.I16}) {
            for (ElementType to : FLOAT_OUT) {
                Tensor q = random(from, 6, 33, true);
                Tensor y = output(to, 6, 33, true);
                ops.dequantize(q, y);
                for (int r = 0; r < 6; r++) {
                    for (int c = 0; c < 33; c++) {
                        float ref = q.code(r, c) * q.scale(r);
                        assertEquals(roundTo(to, ref), y.get(r, c), from + " -> " + to + " (" + r + ", " + c + ")");
                    }
                }
            }
        }
    }

    @Test
    void should_convert_between_every_pair_of_types_exactly() {
        for (ElementType from : TYPES) {
            for (ElementType to : TYPES) {
                Tensor x = random(from, 4, 31, true);
                Tensor y = output(to, 4, 31, true);
                ops.convert(x, y);
                String what = from + " -> " + to;
                if (to.isQuantized()) {
                    checkQuantized(x, y, what);
                } else {
                    for (int r = 0; r < 4; r++) {
                        for (int c = 0; c < 31; c++) {
                            assertEquals(roundTo(to, x.get(r, c)), y.get(r, c), what + " (" + r + ", " + c + ")");
                        }
                    }
                }
            }
        }
    }

    @Test
    void should_round_conversions_to_f16_and_bf16_to_nearest_even() {
        // 1 + 2^-11 is halfway between two F16 values, 1 + 2^-8 between two BF16 values: ties go to the even one
        float[] values = {1f + 0x1p-11f, 1f + 3 * 0x1p-11f, 1f + 0x1p-8f, 1f + 3 * 0x1p-8f};
        Tensor x = Tensor.of(arena, values, 1, 4);
        Tensor f16 = output(ElementType.F16, 1, 4, false);
        Tensor bf16 = output(ElementType.BF16, 1, 4, false);
        ops.convert(x, f16);
        ops.convert(x, bf16);
        assertEquals(1f, f16.get(0, 0));
        assertEquals(1f + 4 * 0x1p-11f, f16.get(0, 1));
        assertEquals(1f, bf16.get(0, 2));
        assertEquals(1f + 4 * 0x1p-8f, bf16.get(0, 3));
    }

    // ---- l2Normalize ----

    @Test
    void should_normalize_rows_and_keep_zero_rows_zero() {
        for (ElementType type : TYPES) {
            for (int d : WIDTHS) {
                ElementType outType = FLOAT_OUT[random.nextInt(FLOAT_OUT.length)];
                float[] values = values(4, d);
                Arrays.fill(values, d, 2 * d, 0f);
                Tensor x = padded(Tensor.encode(arena, type, values, 4, d));
                Tensor y = output(outType, 4, d, true);
                ops.l2Normalize(x, y);
                checkNormalized(x, y, type + " d=" + d + " -> " + outType);
            }
        }
    }

    @Test
    void should_normalize_in_place_and_survive_huge_and_tiny_rows() {
        float[] values = values(3, 33);
        for (int c = 0; c < 33; c++) {
            values[c] *= 1e30f;      // squares overflow f32
            values[33 + c] *= 1e-30f; // squares underflow f32
        }
        Tensor x = Tensor.of(arena, values, 3, 33);
        Tensor copy = Tensor.of(arena, values.clone(), 3, 33);
        ops.l2Normalize(x, x);
        checkNormalized(copy, x, "in place, huge and tiny rows");
    }

    @Test
    void should_normalize_one_vector_to_the_bits_of_its_row_in_a_larger_call() {
        // one F32 vector takes a direct path (a search's query); it must give what the general path gives
        for (int d : WIDTHS) {
            float[] values = values(3, d);
            values[d] *= 1e30f; // row 1's first element: its squares overflow f32, the rescaled path
            Tensor all = Tensor.of(arena, values, 3, d);
            Tensor allOut = output(ElementType.F32, 3, d, false);
            ops.l2Normalize(all, allOut);
            for (int r = 0; r < 3; r++) {
                Tensor one = Tensor.of(arena, Arrays.copyOfRange(values, r * d, (r + 1) * d), 1, d);
                Tensor oneOut = output(ElementType.F32, 1, d, false);
                ops.l2Normalize(one, oneOut);
                for (int c = 0; c < d; c++) {
                    assertEquals(Float.floatToRawIntBits(allOut.get(r, c)),
                            Float.floatToRawIntBits(oneOut.get(0, c)), "d=" + d + " row " + r + " col " + c);
                }
            }
            Tensor one = Tensor.of(arena, Arrays.copyOf(values, d), 1, d);
            assertThrows(IllegalArgumentException.class, () -> ops.l2Normalize(one, output(ElementType.F32, 1, d + 1,
                    false)), "a one-vector call of the wrong output shape goes to the generic check");
        }
        Arena closed = Arena.ofConfined();
        Tensor gone = Tensor.of(closed, new float[] {3, 4}, 1, 2);
        closed.close();
        assertThrows(IllegalStateException.class, () -> ops.l2Normalize(gone, output(ElementType.F32, 1, 2, false)),
                "one vector in a closed arena");
    }

    // ---- rope ----

    @Test
    void should_rotate_pairs_by_position_times_inverse_frequency() {
        for (ElementType type : TYPES) {
            for (int d : new int[] {2, 6, 16, 34, 128}) {
                ElementType outType = FLOAT_OUT[random.nextInt(FLOAT_OUT.length)];
                int n = 5;
                Tensor x = random(type, n, d, true);
                Indices pos = Indices.of(arena, 0, 1, 17, 4095, 131_071);
                Tensor y = output(outType, n, d, true);
                ops.rope(x, pos, 10000f, y);
                checkRope(x, pos, 10000f, y, type + " d=" + d + " -> " + outType);
            }
        }
    }

    @Test
    void should_rope_in_place() {
        Tensor x = random(ElementType.F32, 3, 64, false);
        Tensor copy = Tensor.of(arena, x.toFloatArray(), 3, 64);
        Indices pos = Indices.of(arena, 3, 1000, 7);
        ops.rope(x, pos, 500000f, x);
        checkRope(copy, pos, 500000f, x, "in place");
    }

    // ---- bm25Index ----

    @Test
    void should_index_term_frequencies_document_frequencies_and_lengths() {
        for (int trial = 0; trial < 20; trial++) {
            int docs = random.nextInt(12);
            int vocabulary = 1 + random.nextInt(30);
            int[] offsets = new int[docs + 1];
            List<Integer> tokens = new ArrayList<>();
            for (int i = 0; i < docs; i++) {
                int len = random.nextInt(4) == 0 ? 0 : random.nextInt(25);
                for (int t = 0; t < len; t++) {
                    tokens.add(random.nextInt(vocabulary));
                }
                offsets[i + 1] = tokens.size();
            }
            tokens.add(999); // past offsets[N]: not part of any document
            int[] tok = tokens.stream().mapToInt(Integer::intValue).toArray();
            Bm25Index index = ops.bm25Index(Indices.of(arena, offsets), Indices.of(arena, tok));
            checkIndex(offsets, tok, index, "trial " + trial);
        }
    }

    @Test
    void should_build_an_empty_index_from_no_documents() {
        Bm25Index index = ops.bm25Index(Indices.of(arena, 0), Indices.of(arena));
        assertEquals(0, index.numDocs());
        assertEquals(0, index.vocabularySize());
        assertEquals(0.0, index.avgDocLength());
    }

    // ---- checks ----

    private void checkMinMax(Tensor keys, int page, Tensor min, Tensor max, String what) {
        int d = keys.cols();
        for (long p = 0; p < min.rows(); p++) {
            long end = Math.min(keys.rows(), (p + 1) * page);
            for (int c = 0; c < d; c++) {
                float lo = Float.POSITIVE_INFINITY;
                float hi = Float.NEGATIVE_INFINITY;
                for (long r = p * page; r < end; r++) {
                    lo = Math.min(lo, keys.get(r, c));
                    hi = Math.max(hi, keys.get(r, c));
                }
                String at = what + " page " + p + " col " + c + seedNote();
                assertEquals(roundTo(min.type(), lo), min.get(p, c), "min " + at);
                assertEquals(roundTo(max.type(), hi), max.get(p, c), "max " + at);
            }
        }
    }

    private void checkProject(Tensor x, Tensor w, Tensor y, String what) {
        int h = x.cols();
        float[] xs = x.toFloatArray();
        float[] ws = w.toFloatArray();
        for (int i = 0; i < x.rows(); i++) {
            for (int j = 0; j < w.rows(); j++) {
                double ref = 0;
                double sumAbs = 0;
                for (int c = 0; c < h; c++) {
                    double p = (double) xs[i * h + c] * ws[j * h + c];
                    ref += p;
                    sumAbs += Math.abs(p);
                }
                assertWithin(ref, y.get(i, j), Tolerances.dot(h, sumAbs, y.type(), ref),
                        what + " Y[" + i + ", " + j + "]");
            }
        }
    }

    private void checkQuantized(Tensor x, Tensor q, String what) {
        int max = q.type().maxCode();
        for (int r = 0; r < x.rows(); r++) {
            float maxAbs = 0;
            for (int c = 0; c < x.cols(); c++) {
                maxAbs = Math.max(maxAbs, Math.abs(x.get(r, c)));
            }
            float scale = maxAbs / max;
            assertEquals(scale, q.scale(r), what + " scale of row " + r + seedNote());
            for (int c = 0; c < x.cols(); c++) {
                int code = scale == 0 ? 0 : (int) Math.max(-max, Math.min(max, Math.rint(x.get(r, c) / scale)));
                assertEquals(code, q.code(r, c), what + " code (" + r + ", " + c + ") of " + x.get(r, c) + seedNote());
            }
        }
    }

    private void checkNormalized(Tensor x, Tensor y, String what) {
        for (int r = 0; r < x.rows(); r++) {
            double norm = 0;
            double maxAbs = 0;
            for (int c = 0; c < x.cols(); c++) {
                maxAbs = Math.max(maxAbs, Math.abs(x.get(r, c)));
            }
            for (int c = 0; c < x.cols(); c++) {
                double v = maxAbs == 0 ? 0 : x.get(r, c) / maxAbs;
                norm += v * v;
            }
            norm = Math.sqrt(norm);
            for (int c = 0; c < x.cols(); c++) {
                double ref = maxAbs == 0 ? 0 : x.get(r, c) / maxAbs / norm;
                double tol = (2.0 * x.cols() + 4) * U + Tolerances.halfUlp(y.type(), ref);
                assertWithin(ref, y.get(r, c), tol, what + " (" + r + ", " + c + ")");
            }
        }
    }

    private void checkRope(Tensor x, Indices pos, float theta, Tensor y, String what) {
        int d = x.cols();
        for (int r = 0; r < x.rows(); r++) {
            for (int i = 0; i < d / 2; i++) {
                double angle = pos.get(r) * Math.pow(theta, -2.0 * i / d);
                double x0 = x.get(r, 2 * i);
                double x1 = x.get(r, 2 * i + 1);
                double y0 = x0 * Math.cos(angle) - x1 * Math.sin(angle);
                double y1 = x0 * Math.sin(angle) + x1 * Math.cos(angle);
                double scale = Math.abs(x0) + Math.abs(x1);
                String at = what + " row " + r + " pair " + i;
                assertWithin(y0, y.get(r, 2 * i), 4 * U * scale + Tolerances.halfUlp(y.type(), y0), at);
                assertWithin(y1, y.get(r, 2 * i + 1), 4 * U * scale + Tolerances.halfUlp(y.type(), y1), at);
            }
        }
    }

    private static void checkIndex(int[] offsets, int[] tokens, Bm25Index index, String what) {
        int docs = offsets.length - 1;
        assertEquals(docs, index.numDocs(), what);
        TreeMap<Integer, TreeMap<Integer, Integer>> postings = new TreeMap<>(); // term -> doc -> tf
        long total = 0;
        int vocabulary = 0;
        for (int doc = 0; doc < docs; doc++) {
            assertEquals(offsets[doc + 1] - offsets[doc], index.docLength(doc), what + " length of doc " + doc);
            total += offsets[doc + 1] - offsets[doc];
            for (int i = offsets[doc]; i < offsets[doc + 1]; i++) {
                postings.computeIfAbsent(tokens[i], t -> new TreeMap<>()).merge(doc, 1, Integer::sum);
                vocabulary = Math.max(vocabulary, tokens[i] + 1);
            }
        }
        assertEquals(vocabulary, index.vocabularySize(), what + " vocabulary");
        assertEquals(docs == 0 ? 0 : (double) total / docs, index.avgDocLength(), 1e-12, what + " avg length");
        for (int t = 0; t < vocabulary + 2; t++) {
            TreeMap<Integer, Integer> ref = postings.getOrDefault(t, new TreeMap<>());
            assertEquals(ref.size(), index.docFreq(t), what + " df of term " + t);
            int at = index.postingStart(t);
            assertEquals(ref.size(), index.postingEnd(t) - at, what + " postings of term " + t);
            for (var e : ref.entrySet()) {
                assertEquals(e.getKey(), index.postingDocs()[at], what + " posting doc of term " + t);
                assertEquals(e.getValue(), index.postingTfs()[at], what + " tf of term " + t);
                at++;
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

    private float[] values(int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextGaussian() * Math.pow(2, random.nextInt(6) - 3));
        }
        return v;
    }

    /** Random values encoded as {@code type}, optionally on padded rows at an odd byte offset. */
    private Tensor random(ElementType type, int rows, int cols, boolean padded) {
        Tensor t = Tensor.encode(arena, type, values(rows, cols), rows, cols);
        return padded ? padded(t) : t;
    }

    /** A copy of a contiguous tensor whose rows start at an odd byte offset with an odd stride; padding bytes 0xFF. */
    private Tensor padded(Tensor t) {
        long rowBytes = (long) t.cols() * t.type().byteSize();
        long stride = rowBytes + 3;
        MemorySegment data = arena.allocate(3 + Math.max(1, t.rows()) * stride).asSlice(3);
        data.fill(PAD);
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

    private static float roundTo(ElementType type, float v) {
        return switch (type) {
            case F16 -> FloatFormats.f16ToFloat(FloatFormats.floatToF16(v));
            case BF16 -> FloatFormats.bf16ToFloat(FloatFormats.floatToBf16(v));
            default -> v;
        };
    }

    private static int[] bits(Tensor t) {
        float[] f = t.toFloatArray();
        int[] b = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            b[i] = Float.floatToRawIntBits(f[i]);
        }
        assertTrue(b.length > 0);
        return b;
    }
}
