package dev.mempipe.goldentests;

import dev.mempipe.goldentests.Gen.Profile;
import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.PoolMode;
import dev.mempipe.spi.Tensor;
import dev.mempipe.spi.UnsupportedElementTypeException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.SplittableRandom;

import static dev.mempipe.spi.ElementType.F32;

/**
 * Conformance of Stage 1, Prepare Memory ({@link dev.mempipe.spi.PrepareOps}): page summaries (batch and
 * incremental, partial last pages), pooling, projection, quantization and conversion (bit-exact, round half
 * to even), normalization, rotary embedding and BM25 indexing against the scalar oracle, plus the bad-input
 * contract. Extend it with one method:
 *
 * <pre>{@code
 * class MyPrepareConformanceTest extends PrepareContract {
 *     protected Backend backend() { return new MyBackend(); }
 * }
 * }</pre>
 */
public abstract class PrepareContract extends BackendContract {
    private static final double U = Tolerances.U32;

    // ---- pageMinMax ----

    @ParameterizedTest(name = "K {0}")
    @EnumSource(ElementType.class)
    void pageMinMax_should_match_the_oracle_exactly(ElementType type) {
        requireType(Op.PAGE_MIN_MAX, type);
        property(Op.PAGE_MIN_MAX, 6, t -> {
            SplittableRandom r = t.random();
            int length = t.rows(Gen.size(r, size(257)));
            int d = t.cols(Gen.size(r, size(129)));
            int pageSize = t.param("P", Gen.size(r, 65));
            checkPageMinMax(t, type, length, d, pageSize);
        });
    }

    @ParameterizedTest(name = "K {0}")
    @EnumSource(ElementType.class)
    void pageMinMax_should_summarize_a_partial_last_page(ElementType type) {
        requireType(Op.PAGE_MIN_MAX, type);
        property(Op.PAGE_MIN_MAX, 3, t -> {
            SplittableRandom r = t.random();
            int pageSize = t.param("P", r.nextInt(2, 34));
            int length = t.rows(r.nextInt(0, 9), 0) * pageSize + r.nextInt(1, pageSize); // L % P != 0
            int d = t.cols(Gen.size(r, size(65)));
            checkPageMinMax(t, type, length, d, pageSize);
        });
    }

    private void checkPageMinMax(Trial t, ElementType type, int length, int d, int pageSize) {
        SplittableRandom r = t.random();
        ElementType outType = Gen.floatOutput(r);
        int pages = (length + pageSize - 1) / pageSize;
        Tensor keys = t.input("K", Gen.tensor(t, type, length, d, Gen.pick(r, Profile.SCORES, Profile.UNIT)));
        Tensor min = t.output("min", outType, pages, d);
        Tensor max = t.output("max", outType, pages, d);
        Tensor refMin = t.reference(outType, pages, d);
        Tensor refMax = t.reference(outType, pages, d);
        subject().prepare().pageMinMax(keys, pageSize, min, max);
        oracle().prepare().pageMinMax(keys, pageSize, refMin, refMax);
        Compare.sameValues("min", min, refMin);
        Compare.sameValues("max", max, refMax);
    }

    @ParameterizedTest(name = "K {0}")
    @EnumSource(ElementType.class)
    void pageMinMaxAppend_should_equal_batch_pageMinMax(ElementType type) {
        requireType(Op.PAGE_MIN_MAX, type);
        property(Op.PAGE_MIN_MAX, 6, t -> {
            // decode appends tokens a few at a time: page summaries built incrementally must be identical to
            // summaries of the whole sequence
            SplittableRandom r = t.random();
            ElementType outType = Gen.floatOutput(r);
            int length = t.rows(Gen.size(r, size(257)));
            int d = t.cols(Gen.size(r, size(65)));
            int pageSize = t.param("P", Gen.size(r, 33));
            int pages = (length + pageSize - 1) / pageSize;
            Tensor keys = t.input("K", Gen.tensor(t, type, length, d, Gen.pick(r, Profile.SCORES, Profile.UNIT)));
            Tensor min = t.output("min", outType, pages, d);
            Tensor max = t.output("max", outType, pages, d);
            int[] cuts = new int[r.nextInt(1, 6)];
            for (int i = 0; i < cuts.length; i++) {
                cuts[i] = r.nextInt(0, length + 1);
            }
            Arrays.sort(cuts);
            t.param("appends at", Arrays.toString(cuts));
            int done = cuts[0];
            int donePages = (done + pageSize - 1) / pageSize;
            subject().prepare().pageMinMax(keys.rowSlice(0, done), pageSize, min.rowSlice(0, donePages),
                    max.rowSlice(0, donePages));
            for (int i = 1; i <= cuts.length; i++) {
                int upTo = i < cuts.length ? cuts[i] : length;
                int upToPages = (upTo + pageSize - 1) / pageSize;
                subject().prepare().pageMinMaxAppend(keys.rowSlice(0, upTo), done, pageSize,
                        min.rowSlice(0, upToPages), max.rowSlice(0, upToPages));
                done = upTo;
            }
            Tensor refMin = t.reference(outType, pages, d);
            Tensor refMax = t.reference(outType, pages, d);
            oracle().prepare().pageMinMax(keys, pageSize, refMin, refMax);
            Compare.sameValues("min (incremental)", min, refMin);
            Compare.sameValues("max (incremental)", max, refMax);
        });
    }

    // ---- pagePool ----

    @ParameterizedTest(name = "K {0}")
    @EnumSource(ElementType.class)
    void pagePool_should_match_the_oracle(ElementType type) {
        requireType(Op.PAGE_POOL, type);
        property(Op.PAGE_POOL, 6, t -> {
            SplittableRandom r = t.random();
            int length = t.rows(Gen.size(r, size(257)));
            int d = t.cols(Gen.size(r, size(129)));
            int pageSize = t.param("P", Gen.size(r, 65));
            Profile profile = Gen.pick(r, Profile.UNIT, Profile.WIDE, Profile.SCORES);
            Tensor keys = t.input("K", Gen.tensor(t, type, length, d, profile));
            for (PoolMode mode : PoolMode.values()) {
                if (mode == PoolMode.MEAN && profile == Profile.SCORES) {
                    continue; // infinities of both signs have no mean
                }
                checkPagePool(t, keys, pageSize, mode, Gen.floatOutput(r));
            }
        });
    }

    @ParameterizedTest(name = "K {0}")
    @EnumSource(ElementType.class)
    void pagePool_mean_should_divide_a_partial_page_by_its_row_count(ElementType type) {
        requireType(Op.PAGE_POOL, type);
        property(Op.PAGE_POOL, 3, t -> {
            // every row equal: the mean of any page, partial or not, is that row, exactly
            SplittableRandom r = t.random();
            int pageSize = t.param("P", r.nextInt(2, 34));
            int length = t.rows(r.nextInt(0, 5), 0) * pageSize + r.nextInt(1, pageSize);
            int d = t.cols(Gen.size(r, size(65)));
            Tensor keys = Gen.layout(t, type, length, d, Trial.SENTINEL);
            float[] row = new float[d];
            for (int c = 0; c < d; c++) {
                row[c] = r.nextInt(-8, 9) * 0.25f;
            }
            for (int i = 0; i < length; i++) {
                if (type.isQuantized()) {
                    keys.setScale(i, 0.25f);
                }
                for (int c = 0; c < d; c++) {
                    keys.set(i, c, row[c]);
                }
            }
            t.input("K", keys);
            checkPagePool(t, keys, pageSize, PoolMode.MEAN, F32);
        });
    }

    private void checkPagePool(Trial t, Tensor keys, int pageSize, PoolMode mode, ElementType outType) {
        int length = (int) keys.rows();
        int d = keys.cols();
        int pages = (length + pageSize - 1) / pageSize;
        Tensor out = t.output("Y (" + mode + ")", outType, pages, d);
        subject().prepare().pagePool(keys, pageSize, mode, out);
        if (mode != PoolMode.MEAN) {
            Tensor ref = t.reference(outType, pages, d);
            oracle().prepare().pagePool(keys, pageSize, mode, ref);
            Compare.sameValues("Y (" + mode + ")", out, ref);
            return;
        }
        Tensor ref = t.reference(F32, pages, d);
        oracle().prepare().pagePool(keys, pageSize, mode, ref);
        double[][] meanAbs = new double[pages][d];
        for (int p = 0; p < pages; p++) {
            int count = Math.min(pageSize, length - p * pageSize);
            for (int c = 0; c < d; c++) {
                double s = 0;
                for (int i = p * pageSize; i < p * pageSize + count; i++) {
                    s += Math.abs(keys.get(i, c));
                }
                meanAbs[p][c] = s / count;
            }
        }
        Compare.within("Y (MEAN)", out, ref, Compare.Bound.of(
                "2*count*2^-24*(sum|x|/count) + 2^-24*|ref| + ulp(" + outType + ")/2",
                (p, c, e) -> Tolerances.dot(Math.min(pageSize, length - p * pageSize), meanAbs[(int) p][c],
                        outType, e) + U * Math.abs(e),
                (p, c) -> "count=" + Math.min(pageSize, length - p * pageSize) + " rows in page " + p
                        + ", sum|x|/count=" + Compare.num(meanAbs[(int) p][c])));
    }

    // ---- project ----

    @ParameterizedTest(name = "W {0}")
    @EnumSource(ElementType.class)
    void project_should_match_the_oracle_within_the_error_bound(ElementType wType) {
        requireType(Op.PROJECT, wType);
        property(Op.PROJECT, 5, t -> {
            SplittableRandom r = t.random();
            ElementType xType = declaredType(r, Op.PROJECT);
            ElementType outType = Gen.floatOutput(r);
            Profile profile = Gen.pick(r, Profile.UNIT, Profile.WIDE);
            int n = t.rows(Gen.size(r, size(17)));
            int o = t.rows(Gen.size(r, size(65)));
            int h = t.cols(Gen.size(r, size(129)));
            Tensor x = t.input("X", Gen.tensor(t, xType, n, h, profile));
            Tensor w = t.input("W", Gen.tensor(t, wType, o, h, profile));
            Tensor y = t.output("Y", outType, n, o);
            Tensor ref = t.reference(F32, n, o);
            subject().prepare().project(x, w, y);
            oracle().prepare().project(x, w, ref);
            Compare.within("Y", y, ref, Compare.integerPath(x, w) ? Compare.integerDotBound(outType)
                    : Compare.dotBound(outType, h, Compare.sumAbsProducts(x, w)));
        });
    }

    @ParameterizedTest(name = "{0} x {0}")
    @EnumSource(value = ElementType.class, names = {"I8", "I16"})
    void project_should_accumulate_integer_codes_exactly(ElementType type) {
        requireType(Op.PROJECT, type);
        property(Op.PROJECT, 2, t -> {
            // SPEC.md, element types: integer-by-integer products accumulate exactly and are scaled once
            SplittableRandom r = t.random();
            int h = t.cols(type == ElementType.I8 ? Gen.pick(r, 65537, 131073) : Gen.pick(r, 127, 1025, 4097));
            int n = t.rows(Gen.size(r, 3));
            int o = t.rows(Gen.size(r, 5));
            Tensor x = t.input("X", Gen.nearMaxCodes(t, type, n, h, false));
            Tensor w = t.input("W", Gen.nearMaxCodes(t, type, o, h, true));
            Tensor y = t.output("Y", F32, n, o);
            Tensor ref = t.reference(F32, n, o);
            subject().prepare().project(x, w, y);
            oracle().prepare().project(x, w, ref);
            Compare.within("Y", y, ref, Compare.integerDotBound(F32));
        });
    }

    // ---- quantize, dequantize, convert ----

    @ParameterizedTest(name = "X {0}")
    @EnumSource(ElementType.class)
    void quantize_should_match_the_oracle_bit_exactly(ElementType xType) {
        requireType(Op.QUANTIZE, xType);
        property(Op.QUANTIZE, 6, t -> {
            SplittableRandom r = t.random();
            ElementType qType = Gen.pick(r, ElementType.I8, ElementType.I16);
            int n = t.rows(Gen.size(r, size(33)));
            int d = t.cols(Gen.size(r, size(129)));
            Tensor x = Gen.layout(t, xType, n, d, Trial.SENTINEL);
            if (xType.isFloat() && r.nextInt(3) != 0) {
                Gen.fillQuantizable(r, x, qType.maxCode()); // exact halfway codes: round half to even
            } else {
                Gen.fill(r, x, Gen.pick(r, Profile.UNIT, Profile.WIDE));
            }
            t.input("X", x);
            Tensor q = t.output("X'", qType, n, d);
            Tensor ref = t.reference(qType, n, d);
            subject().prepare().quantize(x, q);
            oracle().prepare().quantize(x, ref);
            Compare.sameBits("X'", q, ref);
        });
    }

    @ParameterizedTest(name = "X {0}")
    @EnumSource(value = ElementType.class, names = {"F32", "F16", "BF16"})
    void quantize_then_dequantize_should_be_within_half_a_step(ElementType xType) {
        requireType(Op.QUANTIZE, xType);
        requireOp(Op.DEQUANTIZE);
        Set<ElementType> codes = EnumSet.of(ElementType.I8, ElementType.I16);
        codes.retainAll(declared(Op.DEQUANTIZE));
        Assumptions.assumeFalse(codes.isEmpty(), () -> "skipped: backend '" + subject().name()
                + "' declares neither I8 nor I16 for op dequantize (declared: " + declared(Op.DEQUANTIZE) + ")");
        property("quantize+dequantize", 5, t -> {
            SplittableRandom r = t.random();
            ElementType qType = Gen.pickType(r, codes);
            int n = t.rows(Gen.size(r, size(33)));
            int d = t.cols(Gen.size(r, size(129)));
            Tensor x = t.input("X", Gen.tensor(t, xType, n, d, Gen.pick(r, Profile.UNIT, Profile.WIDE)));
            Tensor q = t.output("X'", qType, n, d);
            Tensor y = t.output("X''", F32, n, d);
            subject().prepare().quantize(x, q);
            subject().prepare().dequantize(q, y);
            for (int row = 0; row < n; row++) {
                double step = q.scale(row);
                for (int c = 0; c < d; c++) {
                    double xv = x.get(row, c);
                    double yv = y.get(row, c);
                    // q = rint(x/step) with x/step rounded once, y = q*step rounded once
                    double tol = step / 2 + 2 * U * (Math.abs(xv) + Math.abs(yv)) + 1e-30;
                    if (!(Math.abs(yv - xv) <= tol)) {
                        throw new AssertionError("dequantize(quantize(X))[" + row + ", " + c + "] = " + Compare.num(yv)
                                + " but X = " + Compare.num(xv) + ": off by " + Compare.num(Math.abs(yv - xv))
                                + " > half a step " + Compare.num(step / 2) + " (+ rounding, allowed "
                                + Compare.num(tol) + "); code " + q.code(row, c) + ", scale " + q.scale(row));
                    }
                }
            }
        });
    }

    @ParameterizedTest(name = "X'' {0}")
    @EnumSource(value = ElementType.class, names = {"I8", "I16"})
    void dequantize_should_match_the_oracle_exactly(ElementType qType) {
        requireType(Op.DEQUANTIZE, qType);
        property(Op.DEQUANTIZE, 5, t -> {
            SplittableRandom r = t.random();
            ElementType outType = Gen.floatOutput(r);
            int n = t.rows(Gen.size(r, size(33)));
            int d = t.cols(Gen.size(r, size(129)));
            Tensor q = t.input("X", Gen.tensor(t, qType, n, d, Gen.pick(r, Profile.UNIT, Profile.WIDE)));
            Tensor y = t.output("X'", outType, n, d);
            Tensor ref = t.reference(outType, n, d);
            subject().prepare().dequantize(q, y);
            oracle().prepare().dequantize(q, ref);
            Compare.sameValues("X'", y, ref);
        });
    }

    @ParameterizedTest(name = "X {0}")
    @EnumSource(ElementType.class)
    void convert_should_match_the_oracle_bit_exactly(ElementType xType) {
        requireType(Op.CONVERT, xType);
        property(Op.CONVERT, 8, t -> {
            SplittableRandom r = t.random();
            ElementType yType = Gen.pick(r, ElementType.values());
            int n = t.rows(Gen.size(r, size(33)));
            int d = t.cols(Gen.size(r, size(129)));
            // into integer types the row's max must be finite: no infinities there
            Profile profile = yType.isQuantized() || xType.isQuantized()
                    ? Gen.pick(r, Profile.UNIT, Profile.WIDE) : Profile.CONVERSION;
            Tensor x = t.input("X", Gen.tensor(t, xType, n, d, profile));
            Tensor y = t.output("X'", yType, n, d);
            Tensor ref = t.reference(yType, n, d);
            subject().prepare().convert(x, y);
            oracle().prepare().convert(x, ref);
            Compare.sameBits("X'", y, ref);
        });
    }

    @ParameterizedTest(name = "X'' {0}")
    @EnumSource(value = ElementType.class, names = {"F16", "BF16"})
    void convert_should_round_to_nearest_even(ElementType yType) {
        requireType(Op.CONVERT, F32);
        property(Op.CONVERT, 4, t -> {
            // exact halfway points, one ulp either side of them, overflow and subnormal edges
            SplittableRandom r = t.random();
            int n = t.rows(Gen.size(r, size(9)));
            int d = t.cols(Gen.size(r, size(257)));
            Tensor x = t.input("X", Gen.tensor(t, F32, n, d, Profile.CONVERSION));
            Tensor y = t.output("X'", yType, n, d);
            Tensor ref = t.reference(yType, n, d);
            subject().prepare().convert(x, y);
            oracle().prepare().convert(x, ref);
            Compare.sameBits("X'", y, ref);
        });
    }

    // ---- l2Normalize, rope ----

    @ParameterizedTest(name = "X {0}")
    @EnumSource(ElementType.class)
    void l2Normalize_should_match_the_oracle_within_the_error_bound(ElementType type) {
        requireType(Op.L2_NORMALIZE, type);
        property(Op.L2_NORMALIZE, 6, t -> {
            SplittableRandom r = t.random();
            ElementType outType = Gen.floatOutput(r);
            int n = t.rows(Gen.size(r, size(33)));
            int d = t.cols(Gen.size(r, size(257)));
            Tensor x = Gen.tensor(t, type, n, d, Gen.pick(r, Profile.UNIT, Profile.WIDE));
            for (int row = 0; row < n; row++) {
                if (r.nextInt(8) == 0) {
                    for (int c = 0; c < d; c++) {
                        x.set(row, c, 0f); // a zero row stays zero
                    }
                }
            }
            t.input("X", x);
            Tensor y = t.output("Y", outType, n, d);
            Tensor ref = t.reference(F32, n, d);
            subject().prepare().l2Normalize(x, y);
            oracle().prepare().l2Normalize(x, ref);
            Compare.within("Y", y, ref, l2Bound(d, outType));
        });
    }

    @ParameterizedTest(name = "X {0}")
    @EnumSource(value = ElementType.class, names = {"F32", "F16", "BF16"})
    void l2Normalize_should_work_in_place(ElementType type) {
        requireType(Op.L2_NORMALIZE, type);
        property(Op.L2_NORMALIZE, 3, t -> {
            SplittableRandom r = t.random();
            int n = t.rows(Gen.size(r, size(17)));
            int d = t.cols(Gen.size(r, size(257)));
            Tensor x = t.output("X (also Y)", type, n, d);
            Gen.fill(r, x, Profile.UNIT);
            Tensor ref = t.reference(F32, n, d);
            oracle().prepare().l2Normalize(x, ref);
            subject().prepare().l2Normalize(x, x);
            Compare.within("Y (in place)", x, ref, l2Bound(d, type));
        });
    }

    private static Compare.Bound l2Bound(int d, ElementType out) {
        // the sum of squares has no cancellation: relative error <= d*u, the square root halves it, the
        // division adds u
        return Compare.Bound.of("(2d+4)*2^-24*|ref| + ulp(" + out + ")/2",
                (z, c, e) -> (2.0 * d + 4) * U * Math.abs(e) + Tolerances.halfUlp(out, e) + 1e-30,
                (z, c) -> "d=" + d);
    }

    @ParameterizedTest(name = "X {0}")
    @EnumSource(ElementType.class)
    void rope_should_match_the_oracle_within_the_error_bound(ElementType type) {
        requireType(Op.ROPE, type);
        property(Op.ROPE, 6, t -> {
            SplittableRandom r = t.random();
            ElementType outType = Gen.floatOutput(r);
            int n = t.rows(Gen.size(r, size(33)));
            int d = 2 * t.cols(Gen.size(r, size(65)));
            float theta = t.param("theta", Gen.pick(r, 10000f, 500000f, 1e6f, 10f));
            int[] pos = new int[n];
            for (int i = 0; i < n; i++) {
                // positions far into a long context too: the angle must be computed in double
                pos[i] = r.nextInt(4) == 0 ? r.nextInt(0, 1 << 20) : r.nextInt(0, 4096);
            }
            Tensor x = t.input("X", Gen.tensor(t, type, n, d, Gen.pick(r, Profile.UNIT, Profile.WIDE)));
            Indices positions = t.input("positions", Gen.indices(t, pos));
            Tensor y = t.output("Y", outType, n, d);
            Tensor ref = t.reference(F32, n, d);
            subject().prepare().rope(x, positions, theta, y);
            oracle().prepare().rope(x, positions, theta, ref);
            Compare.within("Y", y, ref, Compare.Bound.of("4*2^-24*(|x_2i| + |x_2i+1|) + ulp(" + outType + ")/2",
                    (row, c, e) -> 4 * U * (Math.abs(x.get(row, c & ~1)) + Math.abs(x.get(row, c | 1)))
                            + Tolerances.halfUlp(outType, e) + 1e-30,
                    (row, c) -> "pair (" + Compare.num(x.get(row, c & ~1)) + ", " + Compare.num(x.get(row, c | 1))
                            + "), position " + pos[(int) row]));
        });
    }

    // ---- bm25Index ----

    @Test
    void bm25Index_should_match_the_oracle() {
        requireOp(Op.BM25_INDEX);
        property(Op.BM25_INDEX, 10, t -> {
            SplittableRandom r = t.random();
            int docs = t.rows(Gen.size(r, size(65)));
            int vocabulary = r.nextInt(1, 50);
            int[] offsets = new int[docs + 1];
            int[] tokens = new int[docs * 40 + 5];
            int at = 0;
            for (int doc = 0; doc < docs; doc++) {
                int len = r.nextInt(8) == 0 ? 0 : r.nextInt(1, 40);
                for (int i = 0; i < len; i++) {
                    tokens[at++] = r.nextInt(vocabulary);
                }
                offsets[doc + 1] = at;
            }
            // tokens past offsets[N] belong to no document
            int extra = r.nextInt(0, 3);
            for (int i = 0; i < extra; i++) {
                tokens[at + i] = vocabulary + 100;
            }
            Indices offsetList = t.input("offsets", Gen.indices(t, offsets));
            Indices tokenList = t.input("tokens", Gen.indices(t, Arrays.copyOf(tokens, at + extra)));
            Bm25Index got = subject().prepare().bm25Index(offsetList, tokenList);
            Bm25Index ref = oracle().prepare().bm25Index(offsetList, tokenList);
            checkSameIndex(got, ref);
        });
    }

    private static void checkSameIndex(Bm25Index got, Bm25Index ref) {
        if (got.numDocs() != ref.numDocs()) {
            throw new AssertionError("N = " + got.numDocs() + ", expected " + ref.numDocs());
        }
        if (got.avgDocLength() != ref.avgDocLength()) {
            throw new AssertionError("avglen = " + got.avgDocLength() + ", expected " + ref.avgDocLength());
        }
        Compare.sameInts("docLengths", got.docLengths(), ref.docLengths());
        int vocabulary = Math.max(got.vocabularySize(), ref.vocabularySize());
        for (int term = 0; term < vocabulary; term++) {
            if (got.docFreq(term) != ref.docFreq(term)) {
                throw new AssertionError("df(" + term + ") = " + got.docFreq(term) + ", expected " + ref.docFreq(term));
            }
            Compare.sameInts("postings(" + term + ").docs",
                    Arrays.copyOfRange(got.postingDocs(), got.postingStart(term), got.postingEnd(term)),
                    Arrays.copyOfRange(ref.postingDocs(), ref.postingStart(term), ref.postingEnd(term)));
            Compare.sameInts("postings(" + term + ").tfs",
                    Arrays.copyOfRange(got.postingTfs(), got.postingStart(term), got.postingEnd(term)),
                    Arrays.copyOfRange(ref.postingTfs(), ref.postingStart(term), ref.postingEnd(term)));
        }
    }

    // ---- bad input ----

    @Test
    void pageMinMax_should_reject_a_page_size_below_one() {
        requireOp(Op.PAGE_MIN_MAX);
        property(Op.PAGE_MIN_MAX, 2, t -> {
            SplittableRandom r = t.random();
            Tensor keys = t.input("K", Gen.tensor(t, declaredType(r, Op.PAGE_MIN_MAX), 9, 4, Profile.UNIT));
            int pageSize = t.param("P", Gen.pick(r, 0, -1, Integer.MIN_VALUE));
            Tensor min = t.output("min", F32, 9, 4);
            Tensor max = t.output("max", F32, 9, 4);
            BadInput.expect(t, IllegalArgumentException.class, "P", "pageMinMax with P=" + pageSize,
                    () -> subject().prepare().pageMinMax(keys, pageSize, min, max));
        });
    }

    @Test
    void pageMinMax_should_reject_outputs_of_the_wrong_shape() {
        requireOp(Op.PAGE_MIN_MAX);
        property(Op.PAGE_MIN_MAX, 3, t -> {
            SplittableRandom r = t.random();
            Tensor keys = t.input("K", Gen.tensor(t, declaredType(r, Op.PAGE_MIN_MAX), 9, 4, Profile.UNIT));
            boolean badMin = r.nextBoolean();
            // 9 rows in pages of 4 need 3 summary rows; 2 forgets the partial last page
            Tensor min = t.output("min", F32, badMin ? 2 : 3, 4);
            Tensor max = t.output("max", F32, badMin ? 3 : 2, 4);
            BadInput.expect(t, IllegalArgumentException.class, badMin ? "min" : "max",
                    "pageMinMax of 9 rows, P=4, into " + (badMin ? "min" : "max") + " of 2 rows",
                    () -> subject().prepare().pageMinMax(keys, 4, min, max));
        });
    }

    @Test
    void pagePool_should_reject_an_integer_output() {
        requireOp(Op.PAGE_POOL);
        property(Op.PAGE_POOL, 2, t -> {
            SplittableRandom r = t.random();
            Tensor keys = t.input("K", Gen.tensor(t, declaredType(r, Op.PAGE_POOL), 8, 4, Profile.UNIT));
            Tensor out = t.output("Y", Gen.pick(r, ElementType.I8, ElementType.I16), 2, 4);
            BadInput.expect(t, UnsupportedElementTypeException.class, "Y", "pagePool into " + out.type(),
                    () -> subject().prepare().pagePool(keys, 4, PoolMode.MEAN, out));
        });
    }

    @Test
    void pagePool_should_reject_a_page_size_below_one() {
        requireOp(Op.PAGE_POOL);
        property(Op.PAGE_POOL, 2, t -> {
            SplittableRandom r = t.random();
            Tensor keys = t.input("K", Gen.tensor(t, declaredType(r, Op.PAGE_POOL), 8, 4, Profile.UNIT));
            int pageSize = t.param("P", Gen.pick(r, 0, -3));
            Tensor out = t.output("Y", F32, 8, 4);
            BadInput.expect(t, IllegalArgumentException.class, "P", "pagePool with P=" + pageSize,
                    () -> subject().prepare().pagePool(keys, pageSize, PoolMode.MAX, out));
        });
    }

    @Test
    void project_should_reject_a_dimension_mismatch() {
        requireOp(Op.PROJECT);
        property(Op.PROJECT, 2, t -> {
            SplittableRandom r = t.random();
            Tensor x = t.input("X", Gen.tensor(t, declaredType(r, Op.PROJECT), 3, 16, Profile.UNIT));
            Tensor w = t.input("W", Gen.tensor(t, declaredType(r, Op.PROJECT), 5, 17, Profile.UNIT));
            Tensor y = t.output("Y", F32, 3, 5);
            BadInput.expect(t, IllegalArgumentException.class, "W", "project with X of h=16 and W of h=17",
                    () -> subject().prepare().project(x, w, y));
        });
    }

    @Test
    void quantize_should_reject_a_float_output() {
        requireOp(Op.QUANTIZE);
        property(Op.QUANTIZE, 2, t -> {
            SplittableRandom r = t.random();
            Tensor x = t.input("X", Gen.tensor(t, declaredType(r, Op.QUANTIZE), 3, 8, Profile.UNIT));
            Tensor q = t.output("X'", Gen.pick(r, F32, ElementType.F16, ElementType.BF16), 3, 8);
            BadInput.expect(t, UnsupportedElementTypeException.class, "X'", "quantize into " + q.type(),
                    () -> subject().prepare().quantize(x, q));
        });
    }

    @Test
    void l2Normalize_should_reject_a_closed_input() {
        requireOp(Op.L2_NORMALIZE);
        property(Op.L2_NORMALIZE, 2, t -> {
            Tensor x = Gen.closed(declaredType(t.random(), Op.L2_NORMALIZE), 3, 8);
            Tensor y = t.output("Y", F32, 3, 8);
            BadInput.expect(t, IllegalStateException.class, "X", "l2Normalize of X in a closed arena",
                    () -> subject().prepare().l2Normalize(x, y));
        });
    }

    @Test
    void rope_should_reject_a_negative_position() {
        requireOp(Op.ROPE);
        property(Op.ROPE, 2, t -> {
            SplittableRandom r = t.random();
            Tensor x = t.input("X", Gen.tensor(t, declaredType(r, Op.ROPE), 3, 8, Profile.UNIT));
            Indices positions = t.input("positions", Gen.indices(t, 0, Gen.pick(r, -1, Integer.MIN_VALUE), 2));
            Tensor y = t.output("Y", F32, 3, 8);
            BadInput.expect(t, IllegalArgumentException.class, "positions", "rope at a negative position",
                    () -> subject().prepare().rope(x, positions, 10000f, y));
        });
    }

    @Test
    void rope_should_reject_an_odd_row_width() {
        requireOp(Op.ROPE);
        property(Op.ROPE, 2, t -> {
            Tensor x = t.input("X", Gen.tensor(t, declaredType(t.random(), Op.ROPE), 2, 7, Profile.UNIT));
            Indices positions = t.input("positions", Gen.indices(t, 0, 1));
            Tensor y = t.output("Y", F32, 2, 7);
            BadInput.expect(t, IllegalArgumentException.class, "X", "rope of rows of odd width 7",
                    () -> subject().prepare().rope(x, positions, 10000f, y));
        });
    }

    @Test
    void bm25Index_should_reject_decreasing_offsets() {
        requireOp(Op.BM25_INDEX);
        property(Op.BM25_INDEX, 1, t -> {
            Indices offsets = t.input("offsets", Gen.indices(t, 0, 3, 2, 4));
            Indices tokens = t.input("tokens", Gen.indices(t, 1, 2, 3, 4));
            BadInput.expect(t, IllegalArgumentException.class, "offsets", "bm25Index with offsets 0, 3, 2, 4",
                    () -> subject().prepare().bm25Index(offsets, tokens));
        });
    }
}
