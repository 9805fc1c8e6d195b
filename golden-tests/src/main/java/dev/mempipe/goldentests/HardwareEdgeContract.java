package dev.mempipe.goldentests;

import dev.mempipe.goldentests.Gen.Profile;
import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.PoolMode;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.TreeSet;

import static dev.mempipe.spi.ElementType.F32;

/**
 * Conformance at the sizes and values where hardware breaks, reached at the default scale (random sizes alone
 * reach them rarely, or only at scale 16 to 64), each case constructed so that the expected result is known:
 * <ul>
 *   <li><b>index fields</b>: positions past 2^16 (a 16-bit counter or index) and past 2^24 (the last integer
 *       an f32 holds exactly) in every op that reads or writes positions, with every declared type: topK,
 *       threshold, bitmapToIndices, expandBlocks, gather, dot's score positions, dotRows, attention's idx,
 *       rope's positions; BM25 term ids past 2^16 and 2^24; past 2^16 in every other op's rows, pages, groups,
 *       output columns and documents (the train ops' rows too). Tensors have one or two columns, so 2^24 rows
 *       cost at most 64 MiB;</li>
 *   <li><b>accumulators</b>: rows of 2^17 + 1 elements, every product +-1, for every op that sums along a row
 *       and every declared type (the F32-only train ops too: mlpForward, mlpGradient, newtonSchulz): the sum
 *       131073 is exact in f32 in any order, overflows a half-precision accumulator (65504), loses bits in a
 *       bf16 one, and with I8/I16 codes of -128/-32768 (products 2^14 and 2^30) overflows a 32-bit integer
 *       accumulator (I8) and a 48-bit one (I16, a DSP48's width);</li>
 *   <li><b>extreme codes</b>: the background of every I8/I16 input above is the code -128 / -32768, which has
 *       no positive twin (the random cases of the other contracts plant both extremes in every row too);</li>
 *   <li><b>rare events by construction</b>: softmax with its maximum at every power-of-two block boundary
 *       (8 to 2048), and dot and project (each where declared) for every combination of row, key and width
 *       remainders around tile sizes.</li>
 * </ul>
 * Extend it with one method:
 *
 * <pre>{@code
 * class MyHardwareEdgeConformanceTest extends HardwareEdgeContract {
 *     protected Backend backend() { return new MyBackend(); }
 * }
 * }</pre>
 */
public abstract class HardwareEdgeContract extends BackendContract {
    private static final double U = Tolerances.U32;
    /** Rows of the index-field cases: past 2^24 with room for the positions around it. */
    static final int WIDE = (1 << 24) + 8;
    /** Positions on both sides of the 16- and 24-bit boundaries. */
    static final int[] BOUNDARIES = {0, 65535, 65536, 65537, (1 << 24) - 1, 1 << 24, (1 << 24) + 1, WIDE - 1};
    /** Rows and pages past 2^16 for the ops without positions in their results. */
    static final int PAST_16 = (1 << 16) + 3;
    /** Row length whose sum of +-1 products overflows f16, int32 (x 2^14) and 48-bit (x 2^30) accumulators. */
    static final int LONG_ROW = (1 << 17) + 1;

    // ---- positions past 2^16 and 2^24 ----

    @ParameterizedTest(name = "s {0}")
    @EnumSource(ElementType.class)
    void topK_should_return_positions_past_2_16_and_2_24(ElementType type) {
        requireType(Op.TOP_K, type);
        property(Op.TOP_K, 1, t -> {
            Planted p = planted(t, type);
            int k = p.positions.length;
            Indices idx = t.outputIndices("idx", k + 2);
            Tensor val = t.output("val", F32, 1, k + 2);
            int got = subject().retrieval().topK(p.scores, k, idx, val);
            if (got != k) {
                throw new AssertionError("topK returned " + got + ", expected k = " + k);
            }
            t.requireUnwrittenPast("topK", "idx", idx, k);
            t.requireUnwrittenColumns("topK", "val", val, k);
            Integer[] order = new Integer[k];
            for (int j = 0; j < k; j++) {
                order[j] = j;
            }
            // planted scores descending, equal ones (65536 and 2^24) by ascending position
            Arrays.sort(order, (a, b) -> ScalarRetrievalOps.compareTotalOrder(p.values[a], p.positions[a],
                    p.values[b], p.positions[b]));
            int[] expected = new int[k];
            for (int j = 0; j < k; j++) {
                expected[j] = p.positions[order[j]];
            }
            Compare.sameInts("idx", Arrays.copyOf(idx.toArray(), k), expected);
            for (int j = 0; j < k; j++) {
                if (val.get(0, j) != p.values[order[j]]) {
                    throw new AssertionError("val[" + j + "] = " + Compare.num(val.get(0, j)) + ", expected s["
                            + expected[j] + "] = " + Compare.num(p.values[order[j]]));
                }
            }
        });
    }

    @ParameterizedTest(name = "s {0}")
    @EnumSource(ElementType.class)
    void threshold_should_set_bits_past_2_16_and_2_24(ElementType type) {
        requireType(Op.THRESHOLD, type);
        property(Op.THRESHOLD, 1, t -> {
            Planted p = planted(t, type);
            float threshold = t.param("T", type.isQuantized() ? 0f : 1.5f); // between background and planted
            Bitmap bits = t.outputBitmap("bitmap", WIDE);
            subject().retrieval().threshold(p.scores, threshold, bits);
            Bitmap expected = Bitmap.allocate(t.arena(), WIDE);
            for (int pos : p.positions) {
                expected.set(pos, true);
            }
            Compare.sameBits("bitmap", bits, expected);
        });
    }

    @Test
    void bitmapToIndices_should_list_positions_past_2_16_and_2_24() {
        requireOp(Op.BITMAP_TO_INDICES);
        property(Op.BITMAP_TO_INDICES, 1, t -> {
            Bitmap bits = Bitmap.allocate(t.arena(), WIDE);
            for (int pos : BOUNDARIES) {
                bits.set(pos, true);
            }
            t.input("bitmap", bits);
            Indices out = t.outputIndices("indices", BOUNDARIES.length + 2);
            int got = subject().retrieval().bitmapToIndices(bits, out);
            if (got != BOUNDARIES.length) {
                throw new AssertionError("bitmapToIndices returned " + got + ", expected " + BOUNDARIES.length);
            }
            t.requireUnwrittenPast("bitmapToIndices", "indices", out, got);
            Compare.sameInts("indices", Arrays.copyOf(out.toArray(), got), BOUNDARIES);
        });
    }

    @Test
    void expandBlocks_should_reach_tokens_past_2_16_and_2_24() {
        requireOp(Op.EXPAND_BLOCKS);
        property(Op.EXPAND_BLOCKS, 1, t -> {
            int blockSize = t.param("P", 64);
            long length = t.param("L", (long) WIDE + 29);
            int last = (int) ((length - 1) / blockSize);
            int[] blocks = {(1 << 24) / 64, 1023, last, 1024, (1 << 24) / 64 - 1};
            int sink = t.param("sink", 2);
            int window = t.param("window", 5);
            Indices list = t.input("blocks", Gen.indices(t, blocks));
            TreeSet<Integer> tokens = new TreeSet<>();
            for (int b : blocks) {
                for (long i = (long) b * blockSize; i < Math.min((b + 1L) * blockSize, length); i++) {
                    tokens.add((int) i);
                }
            }
            for (int i = 0; i < sink; i++) {
                tokens.add(i);
            }
            for (long i = length - window; i < length; i++) {
                tokens.add((int) i);
            }
            int[] expected = tokens.stream().mapToInt(Integer::intValue).toArray();
            Indices out = t.outputIndices("tokens", expected.length + 2);
            int got = subject().retrieval().expandBlocks(list, blockSize, length, sink, window, out);
            if (got != expected.length) {
                throw new AssertionError("expandBlocks returned " + got + " tokens, expected " + expected.length);
            }
            t.requireUnwrittenPast("expandBlocks", "tokens", out, got);
            Compare.sameInts("tokens", Arrays.copyOf(out.toArray(), got), expected);
        });
    }

    @ParameterizedTest(name = "X {0}")
    @EnumSource(ElementType.class)
    void gather_should_copy_rows_past_2_16_and_2_24(ElementType type) {
        requireType(Op.GATHER, type);
        property(Op.GATHER, 1, t -> {
            Tensor x = Gen.unitConstant(t, type, WIDE, 1);
            for (int j = 0; j < BOUNDARIES.length; j++) {
                plant(x, BOUNDARIES[j], j + 2);
            }
            t.input("X", x);
            int[] rows = reversed(BOUNDARIES);
            Indices idx = t.input("idx", Gen.indices(t, rows));
            Tensor y = t.output("Y", type, rows.length, 1);
            Tensor ref = t.reference(type, rows.length, 1);
            subject().retrieval().gather(x, idx, y);
            oracle().retrieval().gather(x, idx, ref);
            Compare.sameBits("Y", y, ref);
        });
    }

    @ParameterizedTest(name = "K,V {0}")
    @EnumSource(ElementType.class)
    void attention_should_read_selected_rows_past_2_16_and_2_24(ElementType type) {
        requireType(Op.ATTENTION, type);
        property(Op.ATTENTION, 1, t -> {
            // equal keys: equal weights, so o is the mean of the selected values, each planted distinct
            Tensor keys = t.input("K", Gen.unitConstant(t, type, WIDE, 1));
            Tensor values = Gen.unitConstant(t, type, WIDE, 1);
            for (int j = 0; j < BOUNDARIES.length; j++) {
                plant(values, BOUNDARIES[j], 8 * (j + 1));
            }
            t.input("V", values);
            Tensor q = t.input("q", Gen.unitConstant(t, queryType(Op.ATTENTION, type), 1, 1));
            Indices idx = t.input("idx", Gen.indices(t, Arrays.copyOfRange(BOUNDARIES, 1, BOUNDARIES.length)));
            Tensor o = t.output("o", F32, 1, 1);
            Tensor ref = t.reference(F32, 1, 1);
            subject().apply().attention(q, keys, values, 1, idx, 1f, o);
            oracle().apply().attention(q, keys, values, 1, idx, 1f, ref);
            Compare.within("o", o, ref, Compare.Bound.of("4*(L + d)*2^-24*max|V| + ulp/2",
                    (r, c, e) -> Tolerances.attention(idx.length(), 1, 8.0 * BOUNDARIES.length, F32, e), null));
        });
    }

    @ParameterizedTest(name = "M {0}")
    @EnumSource(ElementType.class)
    void dot_should_write_scores_past_2_16_and_2_24(ElementType type) {
        requireType(Op.DOT, type);
        property(Op.DOT, 1, t -> {
            // one column: 2^24 keys cost one scan per call, for every declared type
            Tensor m = Gen.unitConstant(t, type, WIDE, 1);
            for (int j = 0; j < BOUNDARIES.length; j++) {
                plant(m, BOUNDARIES[j], j + 2);
            }
            t.input("M", m);
            ElementType qType = queryType(Op.DOT, type);
            Tensor q = t.input("Q", Gen.unitConstant(t, qType, 1, 1));
            float qv = Gen.unit(qType);
            Tensor s = t.output("S", F32, 1, WIDE);
            subject().relevancy().dot(q, m, s);
            // one exact product per score: the background's everywhere but at the planted rows
            float background = qv * Gen.unit(type);
            for (int j = 0; j < BOUNDARIES.length; j++) {
                float expected = qv * m.get(BOUNDARIES[j], 0);
                if (s.get(0, BOUNDARIES[j]) != expected) {
                    throw wrongScore(s, BOUNDARIES[j], expected);
                }
                s.set(0, BOUNDARIES[j], background); // checked: the rest must all be the background
            }
            // compared 64 KiB at a time with a block of the background (no second 64 MiB tensor)
            MemorySegment block = t.arena().allocate(1 << 16, Float.BYTES);
            block.fill((byte) 0);
            for (long i = 0; i < block.byteSize() / Float.BYTES; i++) {
                block.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, background);
            }
            for (long from = 0; from < 4L * WIDE; from += block.byteSize()) {
                long len = Math.min(block.byteSize(), 4L * WIDE - from);
                long at = s.data().asSlice(from, len).mismatch(block.asSlice(0, len));
                if (at >= 0) {
                    throw wrongScore(s, (int) ((from + at) / 4), background);
                }
            }
        });
    }

    private static AssertionError wrongScore(Tensor s, int i, float expected) {
        return new AssertionError("S[0, " + i + "] = " + Compare.num(s.get(0, i)) + ", expected "
                + Compare.num(expected) + " = Q[0] * M[" + i + "] (exact: one product of small integers)");
    }

    @ParameterizedTest(name = "K {0}")
    @EnumSource(ElementType.class)
    void dotRows_should_score_row_ids_past_2_16_and_2_24(ElementType type) {
        requireType(Op.DOT_ROWS, type);
        property(Op.DOT_ROWS, 1, t -> {
            Tensor keys = Gen.unitConstant(t, type, WIDE, 1);
            for (int j = 0; j < BOUNDARIES.length; j++) {
                plant(keys, BOUNDARIES[j], j + 2);
            }
            t.input("K", keys);
            ElementType qType = queryType(Op.DOT_ROWS, type);
            Tensor q = t.input("q", Gen.unitConstant(t, qType, 1, 1));
            int[] rows = reversed(BOUNDARIES);
            Indices rowIds = t.input("rowIds", Gen.indices(t, rows));
            Tensor s = t.output("s", F32, 1, rows.length);
            subject().relevancy().dotRows(q, keys, rowIds, s);
            for (int j = 0; j < rows.length; j++) {
                float expected = Gen.unit(qType) * keys.get(rows[j], 0);
                if (s.get(0, j) != expected) {
                    throw new AssertionError("s[0, " + j + "] = " + Compare.num(s.get(0, j)) + ", expected "
                            + Compare.num(expected) + " = q * K[" + rows[j] + "] (exact: one product)");
                }
            }
        });
    }

    @Test
    void codeDotRows_should_score_row_ids_past_2_16_and_2_24() {
        requireType(Op.CODE_DOT_ROWS, ElementType.I8);
        property(Op.CODE_DOT_ROWS, 1, t -> {
            Tensor codes = Gen.layout(t, ElementType.I8, WIDE, 1, (byte) 1);
            for (int j = 0; j < BOUNDARIES.length; j++) {
                codes.setCode(BOUNDARIES[j], 0, j + 2); // each boundary row its own code: a wrapped id reads another
            }
            t.input("codes", codes);
            Tensor q = t.input("queryCodes", Gen.layout(t, ElementType.I8, 1, 1, (byte) 3));
            int[] rows = reversed(BOUNDARIES);
            Indices rowIds = t.input("rowIds", Gen.indices(t, rows));
            Tensor s = t.output("s", F32, 1, rows.length);
            subject().relevancy().codeDotRows(q, codes, 8, rowIds, s);
            for (int j = 0; j < rows.length; j++) {
                float expected = 3 * (codes.code(rows[j], 0) & 0xFF);
                if (s.get(0, j) != expected) {
                    throw new AssertionError("s[0, " + j + "] = " + Compare.num(s.get(0, j)) + ", expected "
                            + Compare.num(expected) + " = 3 * the code of row " + rows[j] + " (one 8-bit product)");
                }
            }
        });
    }

    @ParameterizedTest(name = "X {0}")
    @EnumSource(ElementType.class)
    void rope_should_rotate_positions_past_2_16_and_2_24(ElementType type) {
        requireType(Op.ROPE, type);
        property(Op.ROPE, 1, t -> {
            // not beyond 2^25: past that, two correct double-precision angles may differ by more than 4u
            int[] positions = {65535, 65536, 65537, (1 << 24) - 1, (1 << 24) + 1, (1 << 25) + 3};
            Tensor x = t.input("X", Gen.tensor(t, type, positions.length, 4, Profile.UNIT));
            Indices pos = t.input("positions", Gen.indices(t, positions));
            Tensor y = t.output("Y", F32, positions.length, 4);
            Tensor ref = t.reference(F32, positions.length, 4);
            subject().prepare().rope(x, pos, 10000f, y);
            oracle().prepare().rope(x, pos, 10000f, ref);
            // SPEC.md: within 4u*|x| of the double-precision rotation; an angle from an f32 position is off by
            // a whole radian past 2^24
            Compare.within("Y", y, ref, Compare.Bound.of("4*2^-24*(|x_2i| + |x_2i+1|) + ulp/2",
                    (r, c, e) -> 4 * U * (Math.abs(x.get(r, c & ~1)) + Math.abs(x.get(r, c | 1)))
                            + Tolerances.halfUlp(F32, e) + 1e-30, null));
        });
    }

    @Test
    void bm25_should_index_and_score_term_ids_past_2_16_and_2_24_and_documents_past_2_16() {
        requireOp(Op.BM25_INDEX);
        requireOp(Op.BM25_SCORE);
        property("bm25Index+bm25Score", 1, t -> {
            int docs = PAST_16;
            int[] offsets = new int[docs + 1];
            int[] tokens = new int[docs];
            for (int d = 0; d < docs; d++) {
                // term ids past 2^16 in a third of the docs, past 2^24 in every 1000th (a vocabulary of 2^24 + 5
                // costs the index arrays of that size, not documents)
                tokens[d] = d % 1000 == 1 ? (1 << 24) + d % 5 : d % 3 == 0 ? 65536 + d % 5 : d % 7;
                offsets[d + 1] = d + 1;
            }
            Indices off = t.input("offsets", Gen.indices(t, offsets));
            Indices tok = t.input("tokens", Gen.indices(t, tokens));
            Bm25Index got = subject().prepare().bm25Index(off, tok);
            Bm25Index ref = oracle().prepare().bm25Index(off, tok);
            Compare.sameInts("docLengths", got.docLengths(), ref.docLengths());
            Compare.sameInts("postingDocs", got.postingDocs(), ref.postingDocs());
            Compare.sameInts("postingTfs", got.postingTfs(), ref.postingTfs());
            for (int term = 0; term < ref.vocabularySize(); term++) {
                if (got.docFreq(term) != ref.docFreq(term) || got.postingStart(term) != ref.postingStart(term)) {
                    throw new AssertionError("term " + term + ": docFreq " + got.docFreq(term) + ", postings from "
                            + got.postingStart(term) + "; expected docFreq " + ref.docFreq(term) + ", postings from "
                            + ref.postingStart(term));
                }
            }
            Indices query = t.input("query", Gen.indices(t, 65536, 65539, 3, 1 << 24, (1 << 24) + 4));
            Tensor s = t.output("s", F32, 1, docs);
            Tensor expected = t.reference(F32, 1, docs);
            subject().relevancy().bm25Score(query, ref, Bm25Params.DEFAULT, s);
            oracle().relevancy().bm25Score(query, ref, Bm25Params.DEFAULT, expected);
            Compare.within("s", s, expected, relative("8*2^-24*|ref| + ulp/2", 8 * U, F32));
        });
    }

    // ---- rows, pages and groups past 2^16; rows past accumulator widths ----

    @ParameterizedTest(name = "M {0}")
    @EnumSource(ElementType.class)
    void dot_should_sum_rows_that_overflow_narrow_accumulators(ElementType type) {
        requireType(Op.DOT, type);
        property(Op.DOT, 1, t -> {
            Tensor q = t.input("Q", Gen.unitConstant(t, type, 1, LONG_ROW));
            Tensor m = t.input("M", Gen.unitConstant(t, type, 2, LONG_ROW));
            Tensor s = t.output("S", F32, 1, 2);
            subject().relevancy().dot(q, m, s);
            expectEvery("S", s, LONG_ROW * Gen.unit(type) * Gen.unit(type), "d products of " + Gen.unit(type)
                    + " and " + Gen.unit(type) + " (exact in every order in f32; the codes are " + extreme(type) + ")");
        });
    }

    @ParameterizedTest(name = "W {0}")
    @EnumSource(ElementType.class)
    void project_should_sum_long_rows_and_write_outputs_past_2_16(ElementType type) {
        requireType(Op.PROJECT, type);
        property(Op.PROJECT, 1, t -> {
            Tensor x = t.input("X", Gen.unitConstant(t, type, 1, LONG_ROW));
            Tensor w = t.input("W", Gen.unitConstant(t, type, 3, LONG_ROW));
            Tensor y = t.output("Y", F32, 1, 3);
            subject().prepare().project(x, w, y);
            expectEvery("Y", y, LONG_ROW * Gen.unit(type) * Gen.unit(type), "h products of " + Gen.unit(type)
                    + " and " + Gen.unit(type) + " (exact in every order in f32; the codes are " + extreme(type) + ")");
            // o = 2^16 + 3 output columns of one product each, the last one planted
            Tensor wide = Gen.unitConstant(t, type, PAST_16, 1);
            plant(wide, PAST_16 - 1, 7);
            t.input("W (many rows)", wide);
            Tensor x1 = t.input("X (one column)", Gen.unitConstant(t, type, 1, 1));
            Tensor y1 = t.output("Y (many columns)", F32, 1, PAST_16);
            Tensor ref = t.reference(F32, 1, PAST_16);
            subject().prepare().project(x1, wide, y1);
            oracle().prepare().project(x1, wide, ref);
            Compare.sameValues("Y (many columns)", y1, ref);
        });
    }

    @ParameterizedTest(name = "min/max {0}")
    @EnumSource(ElementType.class)
    void questBound_should_sum_long_rows_and_score_pages_past_2_16(ElementType type) {
        requireType(Op.QUEST_BOUND, type);
        property(Op.QUEST_BOUND, 1, t -> {
            ElementType qType = queryType(Op.QUEST_BOUND, type);
            Tensor q = t.input("q", Gen.unitConstant(t, qType, 1, LONG_ROW));
            Tensor min = t.input("min", Gen.unitConstant(t, type, 2, LONG_ROW));
            Tensor s = t.output("s", F32, 1, 2);
            subject().relevancy().questBound(q, min, min, s);
            expectEvery("s (long rows)", s, LONG_ROW * Gen.unit(qType) * Gen.unit(type), "d equal terms");
            Tensor q1 = t.input("q (one column)", Gen.unitConstant(t, qType, 1, 1));
            Tensor pages = t.input("min (many pages)", Gen.unitConstant(t, type, PAST_16, 1));
            Tensor many = t.output("s (many pages)", F32, 1, PAST_16);
            subject().relevancy().questBound(q1, pages, pages, many);
            expectEvery("s (many pages)", many, Gen.unit(qType) * Gen.unit(type), "one term");
        });
    }

    @ParameterizedTest(name = "K {0}")
    @EnumSource(ElementType.class)
    void indexerScore_should_sum_long_rows_and_score_keys_past_2_16(ElementType type) {
        requireType(Op.INDEXER_SCORE, type);
        property(Op.INDEXER_SCORE, 1, t -> {
            Tensor q = t.input("q", Gen.unitConstant(t, type, 1, LONG_ROW));
            Tensor w = t.input("w", Gen.unitConstant(t, type, 1, 1));
            Tensor keys = t.input("K", Gen.unitConstant(t, type, 2, LONG_ROW));
            Tensor s = t.output("s", F32, 1, 2);
            subject().relevancy().indexerScore(q, w, keys, null, s);
            float u = Gen.unit(type);
            expectEvery("s (long rows)", s, u * LONG_ROW * u * u, "w * ReLU(<q, K>) with d equal products");
            Tensor q1 = t.input("q (one column)", Gen.unitConstant(t, type, 1, 1));
            Tensor many = t.input("K (many keys)", Gen.unitConstant(t, type, PAST_16, 1));
            Tensor s1 = t.output("s (many keys)", F32, 1, PAST_16);
            subject().relevancy().indexerScore(q1, w, many, null, s1);
            expectEvery("s (many keys)", s1, u * u * u, "w * ReLU(q * K)");
        });
    }

    @ParameterizedTest(name = "M {0}")
    @EnumSource(ElementType.class)
    void cosine_should_handle_long_rows_and_keys_past_2_16(ElementType type) {
        requireType(Op.COSINE, type);
        property(Op.COSINE, 1, t -> {
            Tensor q = t.input("Q", Gen.unitConstant(t, type, 1, LONG_ROW));
            Tensor m = t.input("M", Gen.unitConstant(t, type, 2, LONG_ROW));
            Tensor s = t.output("S", F32, 1, 2);
            Tensor ref = t.reference(F32, 1, 2);
            subject().relevancy().cosine(q, m, s);
            oracle().relevancy().cosine(q, m, ref);
            Compare.within("S (long rows)", s, ref, relative("(2d+6)*2^-24*|ref| + ulp/2", (2.0 * LONG_ROW + 6) * U,
                    F32));
            Tensor many = t.input("M (many keys)", Gen.unitConstant(t, type, PAST_16, 2));
            Tensor q2 = t.input("Q (two columns)", Gen.unitConstant(t, type, 1, 2));
            Tensor s2 = t.output("S (many keys)", F32, 1, PAST_16);
            subject().relevancy().cosine(q2, many, s2);
            Tensor ref2 = t.reference(F32, 1, PAST_16);
            oracle().relevancy().cosine(q2, many, ref2);
            Compare.within("S (many keys)", s2, ref2, relative("10*2^-24*|ref| + ulp/2", 10 * U, F32));
        });
    }

    @ParameterizedTest(name = "s {0}")
    @EnumSource(ElementType.class)
    void groupMax_should_handle_groups_and_scores_past_2_16(ElementType type) {
        requireType(Op.GROUP_MAX, type);
        property(Op.GROUP_MAX, 1, t -> {
            Tensor s = Gen.unitConstant(t, type, 1, 2 * PAST_16);
            // the maximum of the second group, past 2^16 (the row's scale makes the background -1)
            if (type.isQuantized()) {
                s.setCode(0, PAST_16 + 1, type.maxCode() / 2);
            } else {
                s.set(0, PAST_16 + 1, 5f);
            }
            t.input("s", s);
            int g = t.param("g", PAST_16);
            Tensor y = t.output("y", F32, 1, 2);
            Tensor ref = t.reference(F32, 1, 2);
            subject().relevancy().groupMax(s, g, y);
            oracle().relevancy().groupMax(s, g, ref);
            Compare.sameValues("y", y, ref);
        });
    }

    @ParameterizedTest(name = "s {0}")
    @EnumSource(ElementType.class)
    void softmax_should_sum_rows_that_overflow_narrow_accumulators(ElementType type) {
        requireType(Op.SOFTMAX, type);
        property(Op.SOFTMAX, 1, t -> {
            // equal scores: p = 1/n, and the sum of n ones overflows a half-precision accumulator
            Tensor s = t.input("s", Gen.unitConstant(t, type, 1, LONG_ROW));
            Tensor p = t.output("p", F32, 1, LONG_ROW);
            Tensor ref = t.reference(F32, 1, LONG_ROW);
            subject().relevancy().softmax(s, 1f, p);
            oracle().relevancy().softmax(s, 1f, ref);
            Compare.within("p", p, ref, relative("(2n+8)*2^-24*|ref| + ulp/2", (2.0 * LONG_ROW + 8) * U, F32));
        });
    }

    @ParameterizedTest(name = "s {0}")
    @EnumSource(ElementType.class)
    void softmax_should_find_the_maximum_at_every_block_boundary(ElementType type) {
        requireType(Op.SOFTMAX, type);
        property(Op.SOFTMAX, 1, t -> {
            // every power-of-two block size a kernel might use, the maximum just before, at and just after each
            // block boundary: a block whose maximum is missed exponentiates +1000 and overflows
            float low = type.isQuantized() ? -1f : -0.5f;
            float high = 1000f;
            for (int block = 8; block <= 2048; block *= 2) {
                int n = 3 * block + 1;
                for (int at : new int[] {block - 1, block, block + 1, 2 * block - 1, 2 * block, n - 1}) {
                    Tensor s = Gen.layout(t, type, 1, n, Trial.SENTINEL);
                    if (type.isQuantized()) {
                        s.setScale(0, high / type.maxCode());
                        for (int i = 0; i < n; i++) {
                            s.setCode(0, i, -type.maxCode() - 1);
                        }
                        s.setCode(0, at, type.maxCode());
                    } else {
                        for (int i = 0; i < n; i++) {
                            s.set(0, i, i == at ? high : low);
                        }
                    }
                    Tensor p = Tensor.allocate(t.arena(), F32, 1, n);
                    p.data().fill(Trial.SENTINEL);
                    subject().relevancy().softmax(s, 1f, p);
                    for (int i = 0; i < n; i++) {
                        float expected = i == at ? 1f : 0f; // e^-1000 underflows: the rest is 0 exactly
                        if (!(Math.abs(p.get(0, i) - expected) <= 4 * U)) {
                            throw new AssertionError("softmax of " + n + " " + type + " scores with the maximum "
                                    + Compare.num(s.get(0, at)) + " at " + at + " (block size " + block + "): p[" + i
                                    + "] = " + Compare.num(p.get(0, i)) + ", expected " + expected + " within 4*2^-24");
                        }
                    }
                }
            }
        });
    }

    @ParameterizedTest(name = "X {0}")
    @EnumSource(ElementType.class)
    void l2Normalize_should_handle_long_rows_and_rows_past_2_16(ElementType type) {
        requireType(Op.L2_NORMALIZE, type);
        property(Op.L2_NORMALIZE, 1, t -> {
            Tensor x = t.input("X", Gen.unitConstant(t, type, 1, LONG_ROW));
            Tensor y = t.output("Y", F32, 1, LONG_ROW);
            Tensor ref = t.reference(F32, 1, LONG_ROW);
            subject().prepare().l2Normalize(x, y);
            oracle().prepare().l2Normalize(x, ref);
            Compare.within("Y (long row)", y, ref, relative("(2d+8)*2^-24*|ref| + ulp/2", (2.0 * LONG_ROW + 8) * U,
                    F32));
            Tensor many = t.input("X (many rows)", Gen.unitConstant(t, type, PAST_16, 1));
            Tensor y2 = t.output("Y (many rows)", F32, PAST_16, 1);
            subject().prepare().l2Normalize(many, y2);
            expectEvery("Y (many rows)", y2, Gen.unit(type), "x / |x| of a one-element row");
        });
    }

    @ParameterizedTest(name = "K {0}")
    @EnumSource(ElementType.class)
    void pagePool_and_pageMinMax_should_handle_long_pages_and_pages_past_2_16(ElementType type) {
        boolean pool = subject().capabilities().supports(Op.PAGE_POOL, type);
        boolean minMax = subject().capabilities().supports(Op.PAGE_MIN_MAX, type);
        org.junit.jupiter.api.Assumptions.assumeTrue(pool || minMax, () -> "skipped: backend '" + subject().name()
                + "' does not declare element type " + type + " for op pagePool or pageMinMax");
        property(pool ? "pagePool" + (minMax ? "+pageMinMax" : "") : "pageMinMax", 1, t -> {
            Tensor rows = Gen.unitConstant(t, type, PAST_16, 1);
            plant(rows, PAST_16 - 1, 7);
            t.input("K (many pages)", rows);
            if (pool) {
                Tensor keys = t.input("K (one long page)", Gen.unitConstant(t, type, LONG_ROW, 1));
                Tensor mean = t.output("Y (MEAN)", F32, 1, 1);
                subject().prepare().pagePool(keys, LONG_ROW, PoolMode.MEAN, mean);
                float u = Gen.unit(type);
                if (!(Math.abs(mean.get(0, 0) - u) <= LONG_ROW * U)) {
                    throw new AssertionError("MEAN of a page of " + LONG_ROW + " rows of " + u + " = "
                            + Compare.num(mean.get(0, 0)) + ", expected " + u + " within P*2^-24 (SPEC.md)");
                }
                // pages of one row: every page is its row, the last one (past 2^16) planted
                Tensor pooled = t.output("Y (MAX, many pages)", F32, PAST_16, 1);
                Tensor refPooled = t.reference(F32, PAST_16, 1);
                subject().prepare().pagePool(rows, 1, PoolMode.MAX, pooled);
                oracle().prepare().pagePool(rows, 1, PoolMode.MAX, refPooled);
                Compare.sameValues("Y (MAX, many pages)", pooled, refPooled);
            }
            if (minMax) {
                Tensor min = t.output("min", F32, PAST_16, 1);
                Tensor max = t.output("max", F32, PAST_16, 1);
                Tensor refMin = t.reference(F32, PAST_16, 1);
                Tensor refMax = t.reference(F32, PAST_16, 1);
                subject().prepare().pageMinMax(rows, 1, min, max);
                oracle().prepare().pageMinMax(rows, 1, refMin, refMax);
                Compare.sameValues("min", min, refMin);
                Compare.sameValues("max", max, refMax);
            }
        });
    }

    @ParameterizedTest(name = "X {0}")
    @EnumSource(ElementType.class)
    void quantize_dequantize_convert_should_handle_extreme_codes_and_rows_past_2_16(ElementType type) {
        boolean convert = subject().capabilities().supports(Op.CONVERT, type);
        boolean dequantize = type.isQuantized() && subject().capabilities().supports(Op.DEQUANTIZE, type);
        boolean quantize = !type.isQuantized() && subject().capabilities().supports(Op.QUANTIZE, type);
        org.junit.jupiter.api.Assumptions.assumeTrue(convert || dequantize || quantize, () -> "skipped: backend '"
                + subject().name() + "' does not declare element type " + type + " for op convert, dequantize or "
                + "quantize");
        property("convert/dequantize/quantize", 1, t -> {
            Tensor x = t.input("X", Gen.unitConstant(t, type, PAST_16, 2));
            for (ElementType to : ElementType.values()) {
                if (!convert || to == type || !subject().capabilities().writes(Op.CONVERT, to)) {
                    continue;
                }
                Tensor y = t.output("Y (" + to + ")", to, PAST_16, 2);
                Tensor ref = t.reference(to, PAST_16, 2);
                subject().prepare().convert(x, y);
                oracle().prepare().convert(x, ref);
                Compare.sameBits("convert to " + to, y, ref);
            }
            if (dequantize) {
                Tensor y = t.output("Y (dequantized)", F32, PAST_16, 2);
                subject().prepare().dequantize(x, y);
                expectEvery("dequantize", y, -1f, "the code " + extreme(type));
            }
            if (quantize) {
                for (ElementType to : new ElementType[] {ElementType.I8, ElementType.I16}) {
                    if (subject().capabilities().writes(Op.QUANTIZE, to)) {
                        Tensor q = t.output("Q (" + to + ")", to, PAST_16, 2);
                        Tensor ref = t.reference(to, PAST_16, 2);
                        subject().prepare().quantize(x, q);
                        oracle().prepare().quantize(x, ref);
                        Compare.sameBits("quantize to " + to, q, ref);
                    }
                }
            }
        });
    }

    @ParameterizedTest(name = "K,V {0}")
    @EnumSource(ElementType.class)
    void attention_should_weigh_rows_that_overflow_narrow_accumulators(ElementType type) {
        requireType(Op.ATTENTION, type);
        property(Op.ATTENTION, 1, t -> {
            // equal logits over L rows: every weight 1, their sum L overflows a half-precision accumulator
            Tensor keys = t.input("K", Gen.unitConstant(t, type, LONG_ROW, 1));
            Tensor values = t.input("V", Gen.unitConstant(t, type, LONG_ROW, 1));
            Tensor q = t.input("q", Gen.unitConstant(t, queryType(Op.ATTENTION, type), 1, 1));
            Tensor o = t.output("o", F32, 1, 1);
            subject().apply().attention(q, keys, values, 1, null, 1f, o);
            float u = Gen.unit(type);
            double tol = Tolerances.attention(LONG_ROW, 1, 1, F32, u);
            if (!(Math.abs(o.get(0, 0) - u) <= tol)) {
                throw new AssertionError("dense attention over " + LONG_ROW + " equal rows of V = " + u + ": o = "
                        + Compare.num(o.get(0, 0)) + ", expected " + u + " within " + Compare.num(tol));
            }
        });
    }

    @ParameterizedTest(name = "V {0}")
    @EnumSource(ElementType.class)
    void softRetrieve_should_sum_rows_that_overflow_narrow_accumulators(ElementType type) {
        requireType(Op.SOFT_RETRIEVE, type);
        property(Op.SOFT_RETRIEVE, 1, t -> {
            Tensor a = t.input("a", Gen.unitConstant(t, type, 1, LONG_ROW));
            Tensor values = t.input("V", Gen.unitConstant(t, type, LONG_ROW, 1));
            Tensor o = t.output("o", F32, 1, 1);
            subject().apply().softRetrieve(a, values, o);
            expectEvery("o", o, LONG_ROW * Gen.unit(type) * Gen.unit(type), "n weights times values, each +-1");
        });
    }

    // ---- the train ops (F32 only): long rows and rows past 2^16 ----

    @Test
    void mlpForward_should_sum_rows_that_overflow_narrow_accumulators() {
        requireType(Op.MLP_FORWARD, F32);
        property(Op.MLP_FORWARD, 1, t -> {
            // d = 2^17 + 1 ones: a = W1 x = 131073 exactly, silu(a) = a, b = W3 x = 1 (W3 = e_0), so every
            // y = W2 g = 131073 exactly in f32; a half-precision accumulator saturates near 2048 or overflows
            MlpCase c = longMlp(t);
            Tensor y = t.output("Y", F32, 1, LONG_ROW);
            subject().train().mlpForward(c.x, c.w1, c.w3, c.w2, y);
            expectEvery("Y", y, LONG_ROW, "W2 (silu(W1 x) * (W3 x)) with W1 x a sum of d = " + LONG_ROW + " ones");
        });
    }

    @Test
    void mlpGradient_should_sum_rows_that_overflow_narrow_accumulators() {
        requireType(Op.MLP_GRADIENT, F32);
        property(Op.MLP_GRADIENT, 1, t -> {
            // the forward case, targets of ones, LaCT's loss (e = -t): dW2 = -131073, dG = W2^T e sums d = 2^17 + 1
            // products of -1, dW1 = dG (silu' = 1 that far out) and dW3 = dG * a: sums a narrow accumulator breaks
            MlpCase c = longMlp(t);
            Tensor target = t.input("T", Gen.unitConstant(t, F32, 1, LONG_ROW));
            Tensor[] got = {t.output("dW1", F32, 1, LONG_ROW), t.output("dW3", F32, 1, LONG_ROW),
                    t.output("dW2", F32, LONG_ROW, 1)};
            Tensor[] ref = {t.reference(F32, 1, LONG_ROW), t.reference(F32, 1, LONG_ROW),
                    t.reference(F32, LONG_ROW, 1)};
            subject().train().mlpGradient(c.x, target, c.w1, c.w3, c.w2, dev.mempipe.spi.MlpLoss.NEGATIVE_DOT,
                    got[0], got[1], got[2]);
            oracle().train().mlpGradient(c.x, target, c.w1, c.w3, c.w2, dev.mempipe.spi.MlpLoss.NEGATIVE_DOT,
                    ref[0], ref[1], ref[2]);
            String[] names = {"dW1", "dW3", "dW2"};
            for (int i = 0; i < 3; i++) {
                // exact sums of ones; dW3 is one rounded product of two exact ones
                Compare.within(names[i], got[i], ref[i], relative("4*2^-24*|ref| + ulp/2", 4 * U, F32));
            }
        });
    }

    @Test
    void momentumUpdate_should_update_rows_past_2_16() {
        requireType(Op.MOMENTUM_UPDATE, F32);
        property(Op.MOMENTUM_UPDATE, 1, t -> {
            // powers of two: s = 0.5 s - 0.25 g, w = 0.5 w + s exactly; the planted gradient sits in the last row
            Tensor g = Gen.unitConstant(t, F32, PAST_16, 1);
            plant(g, PAST_16 - 1, 7);
            t.input("g", g);
            Tensor w = t.output("w", F32, PAST_16, 1);
            Tensor s = t.output("s", F32, PAST_16, 1);
            Tensor wRef = t.reference(F32, PAST_16, 1);
            Tensor sRef = t.reference(F32, PAST_16, 1);
            for (Tensor x : new Tensor[] {w, s, wRef, sRef}) {
                for (int r = 0; r < PAST_16; r++) {
                    x.set(r, 0, 1f);
                }
            }
            subject().train().momentumUpdate(w, g, s, 0.5f, 0.25f, 0.5f);
            oracle().train().momentumUpdate(wRef, g, sRef, 0.5f, 0.25f, 0.5f);
            Compare.sameValues("s", s, sRef);
            Compare.sameValues("w", w, wRef);
        });
    }

    @Test
    void newtonSchulz_should_normalize_rows_that_overflow_narrow_accumulators() {
        requireType(Op.NEWTON_SCHULZ, F32);
        property(Op.NEWTON_SCHULZ, 1, t -> {
            // G = one row of 2^17 + 1 ones: ||G||^2 and X X^T sum that many terms (an f16 sum of the squares of
            // 2^-8.5 stalls near 2^-6, far from 1); the result is the oracle's within a bound for any f32 order,
            // grown by the iteration (about 1.2x a step near its fixed points)
            Tensor g = t.input("G", Gen.unitConstant(t, F32, 1, LONG_ROW));
            Tensor o = t.output("O", F32, 1, LONG_ROW);
            Tensor ref = t.reference(F32, 1, LONG_ROW);
            subject().train().newtonSchulz(g, 5, o);
            oracle().train().newtonSchulz(g, 5, ref);
            double rel = 8.0 * (LONG_ROW + 4) * U;
            Compare.within("O", o, ref, relative("8*(d+4)*2^-24*|ref| + ulp/2", rel, F32));
        });
    }

    /** The inputs of the long-row MLP cases: x, W1 ones, W3 = e_0, W2 ones ({@code n = h = 1}, d = LONG_ROW). */
    private record MlpCase(Tensor x, Tensor w1, Tensor w3, Tensor w2) {
    }

    private static MlpCase longMlp(Trial t) {
        Tensor x = t.input("X", Gen.unitConstant(t, F32, 1, LONG_ROW));
        Tensor w1 = t.input("W1", Gen.unitConstant(t, F32, 1, LONG_ROW));
        Tensor w3 = t.reference(F32, 1, LONG_ROW);
        w3.set(0, 0, 1f);
        t.input("W3", w3);
        Tensor w2 = t.input("W2", Gen.unitConstant(t, F32, LONG_ROW, 1));
        return new MlpCase(x, w1, w3, w2);
    }

    // ---- tile remainders by construction ----

    @ParameterizedTest(name = "M {0}")
    @EnumSource(ElementType.class)
    void dot_and_project_should_handle_every_tile_remainder(ElementType type) {
        boolean dot = subject().capabilities().supports(Op.DOT, type);
        boolean project = subject().capabilities().supports(Op.PROJECT, type);
        org.junit.jupiter.api.Assumptions.assumeTrue(dot || project, () -> "skipped: backend '" + subject().name()
                + "' does not declare element type " + type + " for op dot or project");
        property(dot ? "dot" + (project ? "+project" : "") : "project", 1, t -> {
            // every combination of query rows, key rows and widths around the tile sizes a kernel might use
            // (1-17 queries, 1-33 keys, widths around 8, 16, 32 and 64 lanes), on views of padded rows; small integers,
            // so every result is exact in any order
            int[] ms = {1, 3, 4, 5, 7, 8, 9, 17};
            int[] ns = {1, 3, 4, 5, 8, 9, 15, 16, 17, 33};
            int[] ds = {1, 8, 9, 16, 17, 65};
            Tensor qAll = t.input("Q", Gen.integers(t, type, 17, 65, -3, 3));
            Tensor mAll = t.input("M", Gen.integers(t, type, 33, 65, -3, 3));
            Tensor sAll = t.reference(F32, 17, 33);
            // the exact answers of every combination at once: prefix[j][i][d] = sum over c < d of Q[j,c] * M[i,c]
            long[][][] prefix = new long[17][33][66];
            for (int j = 0; j < 17; j++) {
                for (int i = 0; i < 33; i++) {
                    for (int c = 0; c < 65; c++) {
                        prefix[j][i][c + 1] = prefix[j][i][c] + (long) qAll.get(j, c) * (long) mAll.get(i, c);
                    }
                }
            }
            for (int m : ms) {
                for (int n : ns) {
                    for (int d : ds) {
                        Tensor q = qAll.rowSlice(0, m).columns(0, d);
                        Tensor keys = mAll.rowSlice(0, n).columns(0, d);
                        Tensor s = sAll.rowSlice(0, m).columns(0, n);
                        if (dot) {
                            sAll.data().fill(Trial.SENTINEL); // a score left unwritten is NaN, not the last case's
                            subject().relevancy().dot(q, keys, s);
                            checkTile("dot", s, d, prefix);
                        }
                        if (project) {
                            sAll.data().fill(Trial.SENTINEL);
                            subject().prepare().project(q, keys, s);
                            checkTile("project", s, d, prefix);
                        }
                    }
                }
            }
        });
    }

    private static void checkTile(String op, Tensor s, int d, long[][][] prefix) {
        for (int j = 0; j < s.rows(); j++) {
            for (int i = 0; i < s.cols(); i++) {
                long sum = prefix[j][i][d];
                if (s.get(j, i) != sum) {
                    throw new AssertionError(op + " of " + s.rows() + " x " + s.cols() + " rows of width " + d
                            + ": [" + j + ", " + i + "] = " + Compare.num(s.get(j, i)) + ", expected " + sum
                            + " exactly (small integers; a tile remainder computed wrongly)");
                }
            }
        }
    }

    // ---- helpers ----

    /** Scores of WIDE positions: the unit background and distinct larger values at {@link #BOUNDARIES}. */
    private record Planted(Tensor scores, int[] positions, float[] values) {
    }

    private static Planted planted(Trial t, ElementType type) {
        Tensor row = Gen.unitConstant(t, type, 1, WIDE);
        float[] values = new float[BOUNDARIES.length];
        for (int j = 0; j < BOUNDARIES.length; j++) {
            // 65536 and 2^24 get the same score: the tie must come out by ascending position
            int rank = BOUNDARIES[j] == 1 << 24 ? 2 : j;
            if (type.isQuantized()) {
                int code = 8 * (rank + 1); // the row's scale makes -128/-32768 the background -1
                row.setCode(0, BOUNDARIES[j], code);
            } else {
                row.set(0, BOUNDARIES[j], 2f + rank);
            }
            values[j] = row.get(0, BOUNDARIES[j]);
        }
        t.input("s", row);
        return new Planted(row, BOUNDARIES, values);
    }

    /** Sets row {@code row} of a one-column tensor to a value distinct from the unit background. */
    private static void plant(Tensor x, int row, int value) {
        if (x.type().isQuantized()) {
            x.setScale(row, 1f / 64);
            x.setCode(row, 0, value);
        } else {
            x.set(row, 0, value);
        }
    }

    /** The type of the query-like operand: the same as the memory's if declared, else F32. */
    private ElementType queryType(Op op, ElementType memory) {
        return subject().capabilities().supports(op, memory) ? memory : F32;
    }

    private static String extreme(ElementType type) {
        return type.isQuantized() ? Integer.toString(-type.maxCode() - 1) + " with a power-of-two scale"
                : "+1.0 (float type)";
    }

    private static void expectEvery(String name, Tensor got, double expected, String why) {
        for (long r = 0; r < got.rows(); r++) {
            for (int c = 0; c < got.cols(); c++) {
                if (got.get(r, c) != expected) {
                    throw new AssertionError(name + "[" + r + ", " + c + "] = " + Compare.num(got.get(r, c))
                            + ", expected " + Compare.num(expected) + " exactly: " + why);
                }
            }
        }
    }

    private static Compare.Bound relative(String formula, double rel, ElementType out) {
        return Compare.Bound.of(formula, (r, c, e) -> rel * Math.abs(e) + Tolerances.halfUlp(out, e) + 1e-30, null);
    }

    /** {@code a} in reverse order. */
    private static int[] reversed(int[] a) {
        int[] r = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = a[a.length - 1 - i];
        }
        return r;
    }
}
