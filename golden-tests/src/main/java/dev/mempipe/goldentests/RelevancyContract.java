package dev.mempipe.goldentests;

import dev.mempipe.goldentests.Gen.Profile;
import dev.mempipe.spi.Bm25Idf;
import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Tensor;
import dev.mempipe.spi.UnsupportedElementTypeException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.SplittableRandom;

import static dev.mempipe.spi.ElementType.F32;

/**
 * Conformance of Stage 2, Compute Relevancy ({@link dev.mempipe.spi.RelevancyOps}): dot, cosine, questBound,
 * groupMax, indexerScore, softmax, bm25Score against the scalar oracle with SPEC.md's error bounds, their
 * metamorphic properties, and the bad-input contract. Extend it with one method:
 *
 * <pre>{@code
 * class MyRelevancyConformanceTest extends RelevancyContract {
 *     protected Backend backend() { return new MyBackend(); }
 * }
 * }</pre>
 */
public abstract class RelevancyContract extends BackendContract {
    private static final double U = Tolerances.U32;

    // ---- dot ----

    @ParameterizedTest(name = "M {0}")
    @EnumSource(ElementType.class)
    void dot_should_match_the_oracle_within_the_error_bound(ElementType mType) {
        requireType(Op.DOT, mType);
        property(Op.DOT, 6, t -> {
            SplittableRandom r = t.random();
            ElementType qType = declaredType(r, Op.DOT);
            ElementType outType = Gen.floatOutput(r);
            Profile profile = Gen.pick(r, Profile.UNIT, Profile.UNIT, Profile.WIDE);
            int m = t.rows(Gen.size(r, size(9)));
            int n = t.rows(Gen.size(r, size(33)));
            int d = t.cols(Gen.size(r, size(129)));
            Tensor q = t.input("Q", Gen.tensor(t, qType, m, d, profile));
            Tensor mm = t.input("M", Gen.tensor(t, mType, n, d, profile));
            Tensor s = t.output("S", outType, m, n);
            Tensor ref = t.reference(F32, m, n);
            subject().relevancy().dot(q, mm, s);
            oracle().relevancy().dot(q, mm, ref);
            Compare.within("S", s, ref, dotLikeBound(q, mm, outType));
        });
    }

    @ParameterizedTest(name = "{0} x {0}")
    @EnumSource(value = ElementType.class, names = {"I8", "I16"})
    void dot_should_accumulate_integer_codes_exactly(ElementType type) {
        requireType(Op.DOT, type);
        property(Op.DOT, 2, t -> {
            // partial sums far past 2^24 that cancel to a small exact result: see Gen.nearMaxCodes
            SplittableRandom r = t.random();
            int d = t.cols(type == ElementType.I8 ? Gen.pick(r, 65537, 131073) : Gen.pick(r, 127, 1025, 4097));
            int m = t.rows(Gen.size(r, 3));
            int n = t.rows(Gen.size(r, 5));
            Tensor q = t.input("Q", Gen.nearMaxCodes(t, type, m, d, false));
            Tensor mm = t.input("M", Gen.nearMaxCodes(t, type, n, d, true));
            Tensor s = t.output("S", F32, m, n);
            Tensor ref = t.reference(F32, m, n);
            subject().relevancy().dot(q, mm, s);
            oracle().relevancy().dot(q, mm, ref);
            Compare.within("S", s, ref, Compare.integerDotBound(F32));
        });
    }

    // ---- dotRows ----

    @ParameterizedTest(name = "K {0}")
    @EnumSource(ElementType.class)
    void dotRows_should_match_the_oracle_within_the_error_bound(ElementType kType) {
        requireType(Op.DOT_ROWS, kType);
        property(Op.DOT_ROWS, 6, t -> {
            SplittableRandom r = t.random();
            ElementType qType = declaredType(r, Op.DOT_ROWS);
            ElementType outType = Gen.floatOutput(r);
            Profile profile = Gen.pick(r, Profile.UNIT, Profile.UNIT, Profile.WIDE);
            // now and then enough rows for a backend to split them over threads (the SIMD one: 2^21 / d each)
            boolean many = r.nextInt(4) == 0;
            int n = t.rows(Gen.size(r, size(65)));
            int k = t.rows(many ? 20_000 + r.nextInt(4_000) : Gen.size(r, size(33)));
            int d = t.cols(many ? Gen.pick(r, 128, 131) : Gen.size(r, size(129)));
            Tensor q = t.input("q", Gen.tensor(t, qType, 1, d, profile));
            Tensor keys = t.input("K", Gen.tensor(t, kType, n, d, profile));
            int[] ids = new int[k];
            for (int j = 0; j < k; j++) {
                ids[j] = r.nextInt(n); // repeats allowed, any order: a walk's neighbour list
            }
            Indices rowIds = t.input("rowIds", Gen.indices(t, ids));
            Tensor s = t.output("s", outType, 1, k);
            subject().relevancy().dotRows(q, keys, rowIds, s);
            // the oracle scores each of the n rows once and the k ids pick from those: with 20000 ids over at most
            // 65 rows, the reference and the bound cost n dot products instead of k
            int[] every = new int[n];
            for (int i = 0; i < n; i++) {
                every[i] = i;
            }
            Tensor byRow = t.reference(F32, 1, n);
            oracle().relevancy().dotRows(q, keys, Indices.of(t.arena(), every), byRow);
            Tensor ref = t.reference(F32, 1, k);
            for (int j = 0; j < k; j++) {
                ref.set(0, j, byRow.get(0, ids[j]));
            }
            Compare.Bound rowBound = dotLikeBound(q, keys, outType);
            Compare.within("s", s, ref, new Compare.Bound() {
                @Override
                public double at(long row, int c, double e) {
                    return rowBound.at(row, ids[c], e);
                }

                @Override
                public String explain(long row, int c, double e) {
                    return rowBound.explain(row, ids[c], e) + " (K row " + ids[c] + ")";
                }
            });
        });
    }

    @ParameterizedTest(name = "{0} x {0}")
    @EnumSource(value = ElementType.class, names = {"I8", "I16"})
    void dotRows_should_accumulate_integer_codes_exactly(ElementType type) {
        requireType(Op.DOT_ROWS, type);
        property(Op.DOT_ROWS, 2, t -> {
            SplittableRandom r = t.random();
            int d = t.cols(type == ElementType.I8 ? Gen.pick(r, 65537, 131073) : Gen.pick(r, 127, 1025, 4097));
            int n = t.rows(Gen.size(r, 5));
            int k = t.rows(Gen.size(r, 9));
            Tensor q = t.input("q", Gen.nearMaxCodes(t, type, 1, d, false));
            Tensor keys = t.input("K", Gen.nearMaxCodes(t, type, n, d, true));
            int[] ids = new int[k];
            for (int j = 0; j < k; j++) {
                ids[j] = r.nextInt(n);
            }
            Indices rowIds = t.input("rowIds", Gen.indices(t, ids));
            Tensor s = t.output("s", F32, 1, k);
            Tensor ref = t.reference(F32, 1, k);
            subject().relevancy().dotRows(q, keys, rowIds, s);
            oracle().relevancy().dotRows(q, keys, rowIds, ref);
            Compare.within("s", s, ref, Compare.integerDotBound(F32));
        });
    }

    @Test
    void dotRows_should_reject_a_row_id_outside_the_keys_naming_its_position_and_value() {
        requireOp(Op.DOT_ROWS);
        property(Op.DOT_ROWS, 3, t -> {
            SplittableRandom r = t.random();
            int n = r.nextInt(1, 9);
            int k = r.nextInt(1, 9);
            OneBadRowId bad = OneBadRowId.draw(r, n, k);
            Tensor q = t.input("q", Gen.tensor(t, declaredType(r, Op.DOT_ROWS), 1, 7, Profile.UNIT));
            Tensor keys = t.input("K", Gen.tensor(t, declaredType(r, Op.DOT_ROWS), n, 7, Profile.UNIT));
            Indices rowIds = t.input("rowIds", Gen.indices(t, bad.ids()));
            Tensor s = t.output("s", F32, 1, k);
            bad.expectRejected(t, "dotRows", n, () -> subject().relevancy().dotRows(q, keys, rowIds, s));
        });
    }

    @Test
    void dotRows_should_reject_a_query_of_more_than_one_row() {
        requireOp(Op.DOT_ROWS);
        property(Op.DOT_ROWS, 2, t -> {
            SplittableRandom r = t.random();
            Tensor q = t.input("q", Gen.tensor(t, declaredType(r, Op.DOT_ROWS), 2, 5, Profile.UNIT));
            Tensor keys = t.input("K", Gen.tensor(t, declaredType(r, Op.DOT_ROWS), 3, 5, Profile.UNIT));
            Indices rowIds = t.input("rowIds", Gen.indices(t, 0, 2));
            Tensor s = t.output("s", F32, 1, 2);
            BadInput.expect(t, IllegalArgumentException.class, "q", "dotRows with a [2, 5] query",
                    () -> subject().relevancy().dotRows(q, keys, rowIds, s));
        });
    }

    // ---- codeDotRows ----

    @ParameterizedTest(name = "{0}-bit codes")
    @ValueSource(ints = {8, 4})
    void codeDotRows_should_equal_the_oracle_exactly(int bits) {
        requireType(Op.CODE_DOT_ROWS, ElementType.I8);
        property(Op.CODE_DOT_ROWS, 8, t -> {
            SplittableRandom r = t.random();
            // awkward widths around vector lengths, and Lucene's 384-d rows (384 bytes at 8 bits, 192 at 4)
            int p = t.cols(r.nextInt(4) == 0 ? Gen.pick(r, 192, 384, 1023) : Gen.size(r, size(129)));
            int n = t.rows(Gen.size(r, size(65)));
            int k = t.rows(Gen.size(r, size(67))); // several groups of four and every tail length
            boolean extremes = r.nextInt(3) == 0; // codes only at the ends of their range: 0 and 2^bits - 1
            Tensor q = t.input("queryCodes", codes(t, 1, p, extremes));
            Tensor codes = t.input("codes", codes(t, n, p, extremes));
            int[] ids = new int[k];
            for (int j = 0; j < k; j++) {
                ids[j] = r.nextInt(n); // repeats allowed, any order: a walk's neighbour list
            }
            Indices rowIds = t.input("rowIds", Gen.indices(t, ids));
            Tensor s = t.output("s", F32, 1, k);
            Tensor ref = t.reference(F32, 1, k);
            subject().relevancy().codeDotRows(q, codes, bits, rowIds, s);
            oracle().relevancy().codeDotRows(q, codes, bits, rowIds, ref);
            Compare.sameValues("s", s, ref);
        });
    }

    @ParameterizedTest(name = "{0}-bit codes")
    @ValueSource(ints = {8, 4})
    void codeDotRows_should_be_exact_at_the_widest_row_it_accepts(int bits) {
        requireType(Op.CODE_DOT_ROWS, ElementType.I8);
        property(Op.CODE_DOT_ROWS, 1, t -> {
            // every code the largest: the sum is the largest possible, (2^bits - 1)^2 * codes per row, just below
            // 2^31 (an int lane or a float accumulator of 24 bits that overflows, or drops low bits, is caught)
            SplittableRandom r = t.random();
            int p = dev.mempipe.spi.OpArgs.maxCodeBytes(bits);
            Tensor q = t.input("queryCodes", Gen.layout(t, ElementType.I8, 1, p, (byte) -1));
            Tensor codes = Gen.layout(t, ElementType.I8, 2, p, (byte) -1);
            codes.setCode(1, r.nextInt(p), 0x7E); // and a row whose sum is not a multiple of 16
            t.input("codes", codes);
            Indices rowIds = t.input("rowIds", Gen.indices(t, 0, 1, 0));
            Tensor s = t.output("s", F32, 1, 3);
            subject().relevancy().codeDotRows(q, codes, bits, rowIds, s);
            long max = (long) ((1 << bits) - 1) * ((1 << bits) - 1);
            long largest = max * dev.mempipe.spi.OpArgs.codesPerRow(bits, p);
            if (s.get(0, 0) != (float) largest || s.get(0, 2) != (float) largest) {
                throw new AssertionError(bits + "-bit codes, " + p + " bytes, every code the largest: expected "
                        + (float) largest + " (the float nearest " + largest + "), got " + s.get(0, 0) + " and "
                        + s.get(0, 2));
            }
            Tensor ref = t.reference(F32, 1, 3);
            oracle().relevancy().codeDotRows(q, codes, bits, rowIds, ref);
            Compare.sameValues("s", s, ref);
        });
    }

    @Test
    void codeDotRows_should_reject_bits_other_than_4_and_8_and_rows_past_the_exactness_bound() {
        requireType(Op.CODE_DOT_ROWS, ElementType.I8);
        property(Op.CODE_DOT_ROWS, 2, t -> {
            SplittableRandom r = t.random();
            int badBits = Gen.pick(r, 0, 1, 2, 3, 5, 6, 7, 9, 16, -8);
            Tensor q = t.input("queryCodes", codes(t, 1, 9, false));
            Tensor codes = t.input("codes", codes(t, 4, 9, false));
            Indices rowIds = t.input("rowIds", Gen.indices(t, 0, 3));
            Tensor s = t.output("s", F32, 1, 2);
            BadInput.expect(t, IllegalArgumentException.class, "bits", "codeDotRows with bits = " + badBits,
                    () -> subject().relevancy().codeDotRows(q, codes, badBits, rowIds, s));
            int bits = Gen.pick(r, 4, 8);
            int wide = dev.mempipe.spi.OpArgs.maxCodeBytes(bits) + 1;
            Tensor wideQ = t.input("queryCodes", Gen.layout(t, ElementType.I8, 1, wide, (byte) 1));
            Tensor wideCodes = t.input("codes", Gen.layout(t, ElementType.I8, 1, wide, (byte) 1));
            Indices zero = t.input("rowIds", Gen.indices(t, 0));
            Tensor one = t.output("s", F32, 1, 1);
            IllegalArgumentException e = BadInput.expect(t, IllegalArgumentException.class, "codes",
                    "codeDotRows with " + bits + "-bit rows of " + wide + " bytes",
                    () -> subject().relevancy().codeDotRows(wideQ, wideCodes, bits, zero, one));
            if (!e.getMessage().contains(Integer.toString(wide))) {
                throw new AssertionError("the message must name the width " + wide + ", got: " + e.getMessage());
            }
        });
    }

    @Test
    void codeDotRows_should_reject_a_row_id_outside_the_codes_a_float_tensor_and_a_query_of_two_rows() {
        requireType(Op.CODE_DOT_ROWS, ElementType.I8);
        property(Op.CODE_DOT_ROWS, 3, t -> {
            SplittableRandom r = t.random();
            int n = r.nextInt(1, 9);
            int k = r.nextInt(1, 9);
            OneBadRowId bad = OneBadRowId.draw(r, n, k);
            int bits = Gen.pick(r, 4, 8);
            Tensor q = t.input("queryCodes", codes(t, 1, 7, false));
            Tensor codes = t.input("codes", codes(t, n, 7, false));
            Indices rowIds = t.input("rowIds", Gen.indices(t, bad.ids()));
            Tensor s = t.output("s", F32, 1, k);
            bad.expectRejected(t, "codeDotRows", n,
                    () -> subject().relevancy().codeDotRows(q, codes, bits, rowIds, s));
            Tensor floats = t.input("codes", Gen.tensor(t, F32, n, 7, Profile.UNIT));
            Indices first = t.input("rowIds", Gen.indices(t, 0));
            Tensor one = t.output("s", F32, 1, 1);
            BadInput.expect(t, IllegalArgumentException.class, "codes", "codeDotRows with F32 codes",
                    () -> subject().relevancy().codeDotRows(q, floats, bits, first, one));
            Tensor twoRows = t.input("queryCodes", codes(t, 2, 7, false));
            BadInput.expect(t, IllegalArgumentException.class, "queryCodes", "codeDotRows with a [2, 7] query",
                    () -> subject().relevancy().codeDotRows(twoRows, codes, bits, first, one));
        });
    }

    /** k row ids over n rows, all valid but one, at {@code position}, just outside {@code [0, n)}. */
    private record OneBadRowId(int[] ids, int position, int bad) {
        static OneBadRowId draw(SplittableRandom r, int n, int k) {
            int[] ids = new int[k];
            for (int j = 0; j < k; j++) {
                ids[j] = r.nextInt(n);
            }
            int position = r.nextInt(k);
            int bad = r.nextBoolean() ? n + r.nextInt(3) : -1 - r.nextInt(3);
            ids[position] = bad;
            return new OneBadRowId(ids, position, bad);
        }

        /** The call must fail naming {@code rowIds}, the bad id and its position, and write nothing. */
        void expectRejected(Trial t, String op, int n, BadInput.Call call) {
            IllegalArgumentException e = BadInput.expect(t, IllegalArgumentException.class, "rowIds",
                    op + " with row id " + bad + " at position " + position + " of " + n + " rows", call);
            String message = e.getMessage();
            if (!BadInput.names(message, Integer.toString(bad)) || !message.contains("position " + position)) {
                throw new AssertionError("the message must name the bad row id " + bad + " and its position "
                        + position + ", got: " + message);
            }
        }
    }

    /** I8 code bytes of every value (or only 0x00 and 0xFF), in a random layout; their scales are not read. */
    private static Tensor codes(Trial t, long rows, int p, boolean extremes) {
        Tensor x = Gen.layout(t, ElementType.I8, rows, p, Trial.SENTINEL);
        SplittableRandom r = t.random();
        for (long row = 0; row < rows; row++) {
            x.setScale(row, Float.NaN); // a kernel that reads the scales would show it
            for (int c = 0; c < p; c++) {
                x.setCode(row, c, extremes ? (r.nextBoolean() ? -1 : 0) : r.nextInt(-128, 128));
            }
        }
        return x;
    }

    @ParameterizedTest(name = "M {0}")
    @EnumSource(ElementType.class)
    void cosine_should_match_the_oracle_within_the_error_bound(ElementType mType) {
        requireType(Op.COSINE, mType);
        property(Op.COSINE, 5, t -> {
            SplittableRandom r = t.random();
            ElementType qType = declaredType(r, Op.COSINE);
            ElementType outType = Gen.floatOutput(r);
            Profile profile = Gen.pick(r, Profile.UNIT, Profile.WIDE);
            int m = t.rows(Gen.size(r, size(9)));
            int n = t.rows(Gen.size(r, size(33)));
            int d = t.cols(Gen.size(r, size(129)));
            Tensor q = Gen.tensor(t, qType, m, d, profile);
            Tensor mm = Gen.tensor(t, mType, n, d, profile);
            zeroSomeRows(r, q);
            zeroSomeRows(r, mm);
            t.input("Q", q);
            t.input("M", mm);
            Tensor s = t.output("S", outType, m, n);
            Tensor ref = t.reference(F32, m, n);
            subject().relevancy().cosine(q, mm, s);
            oracle().relevancy().cosine(q, mm, ref);
            double[][] sumAbs = Compare.sumAbsProducts(q, mm);
            double[] qn = norms(q);
            double[] mn = norms(mm);
            Compare.within("S", s, ref, Compare.Bound.of(
                    "2*d*2^-24*sum|a*b|/(|a||b|) + (2d+6)*2^-24*|ref| + ulp(" + outType + ")/2 (0 when a norm is 0)",
                    (j, i, e) -> qn[(int) j] == 0 || mn[i] == 0 ? Tolerances.halfUlp(outType, e) + 1e-30
                            : 2.0 * d * U * sumAbs[(int) j][i] / (qn[(int) j] * mn[i]) + (2.0 * d + 6) * U * Math.abs(e)
                            + Tolerances.halfUlp(outType, e) + 1e-30,
                    (j, i) -> "d=" + d + ", |a|=" + Compare.num(qn[(int) j]) + ", |b|=" + Compare.num(mn[i])));
        });
    }

    // ---- questBound ----

    @ParameterizedTest(name = "min/max {0}")
    @EnumSource(ElementType.class)
    void questBound_should_match_the_oracle_within_the_error_bound(ElementType type) {
        requireType(Op.QUEST_BOUND, type);
        property(Op.QUEST_BOUND, 5, t -> {
            SplittableRandom r = t.random();
            ElementType qType = declaredType(r, Op.QUEST_BOUND);
            ElementType outType = Gen.floatOutput(r);
            Profile profile = Gen.pick(r, Profile.UNIT, Profile.WIDE);
            int pages = t.rows(Gen.size(r, size(65)));
            int d = t.cols(Gen.size(r, size(129)));
            int m = t.param("m", r.nextInt(3) == 0 ? 1 + r.nextInt(8) : 1); // a row batch: one query per KV head
            Tensor q = t.input("q", Gen.tensor(t, qType, m, d, profile));
            Tensor min = t.input("min", Gen.tensor(t, type, pages, m * d, profile)); // head j: columns [j*d, (j+1)*d)
            Tensor max = t.input("max", Gen.tensor(t, type, pages, m * d, profile));
            Tensor s = t.output("s", outType, m, pages);
            Tensor ref = t.reference(F32, m, pages);
            subject().relevancy().questBound(q, min, max, s);
            oracle().relevancy().questBound(q, min, max, ref);
            double[][] sumAbs = new double[m][pages];
            for (int j = 0; j < m; j++) {
                for (int p = 0; p < pages; p++) {
                    for (int i = 0; i < d; i++) {
                        double qi = q.get(j, i);
                        int c = j * d + i;
                        sumAbs[j][p] += Math.max(Math.abs(qi * min.get(p, c)), Math.abs(qi * max.get(p, c)));
                    }
                }
            }
            Compare.within("s", s, ref, Compare.dotBound(outType, d, sumAbs));
        });
    }

    @ParameterizedTest(name = "K {0}")
    @EnumSource(value = ElementType.class, names = {"F32", "F16", "BF16"})
    void questBound_should_bound_every_key_in_its_page(ElementType type) {
        requireType(Op.QUEST_BOUND, type);
        property(Op.QUEST_BOUND, 6, t -> {
            // min/max of keys of a float type are keys of that type: the page summary is exact, so the bound
            // must hold for every key up to the bound's own rounding.
            SplittableRandom r = t.random();
            ElementType qType = declaredType(r, Op.QUEST_BOUND);
            int length = t.rows(Gen.size(r, size(257)));
            int d = t.cols(Gen.size(r, size(129)));
            int pageSize = Gen.size(r, 33);
            int pages = (length + pageSize - 1) / pageSize;
            t.param("P", pageSize);
            Tensor keys = t.input("K", Gen.tensor(t, type, length, d, Gen.pick(r, Profile.UNIT, Profile.WIDE)));
            Tensor q = t.input("q", Gen.tensor(t, qType, 1, d, Profile.UNIT));
            Tensor min = Gen.layout(t, type, pages, d, Trial.SENTINEL);
            Tensor max = Gen.layout(t, type, pages, d, Trial.SENTINEL);
            oracle().prepare().pageMinMax(keys, pageSize, min, max);
            t.input("min", min);
            t.input("max", max);
            Tensor s = t.output("s", F32, 1, pages);
            subject().relevancy().questBound(q, min, max, s);
            for (int row = 0; row < length; row++) {
                int p = row / pageSize;
                double dot = 0;
                double sumAbs = 0;
                for (int i = 0; i < d; i++) {
                    double qi = q.get(0, i);
                    dot += qi * keys.get(row, i);
                    sumAbs += Math.max(Math.abs(qi * min.get(p, i)), Math.abs(qi * max.get(p, i)));
                }
                double tol = Tolerances.dot(d, sumAbs, F32, dot);
                if (!(s.get(0, p) >= dot - tol)) {
                    throw new AssertionError("s[" + p + "] = " + Compare.num(s.get(0, p)) + " does not bound key "
                            + row + " of page " + p + ": <q, K[" + row + "]> = " + Compare.num(dot)
                            + " (exact), allowed slack " + Compare.num(tol) + " = 2*d*2^-24*sum|q*minmax| + ...");
                }
            }
        });
    }

    // ---- groupMax ----

    @ParameterizedTest(name = "s {0}")
    @EnumSource(ElementType.class)
    void groupMax_should_match_the_oracle_exactly(ElementType type) {
        requireType(Op.GROUP_MAX, type);
        property(Op.GROUP_MAX, 6, t -> {
            SplittableRandom r = t.random();
            ElementType outType = Gen.floatOutput(r);
            int n = t.cols(Gen.size(r, size(1025)));
            int g = t.param("g", Gen.size(r, 65));
            int groups = (n + g - 1) / g;
            int m = t.param("m", r.nextInt(3) == 0 ? 1 + r.nextInt(8) : 1); // a row batch
            Tensor s = t.input("s", Gen.tensor(t, type, m, n, Profile.SCORES));
            Tensor y = t.output("y", outType, m, groups);
            Tensor ref = t.reference(outType, m, groups);
            subject().relevancy().groupMax(s, g, y);
            oracle().relevancy().groupMax(s, g, ref);
            Compare.sameValues("y", y, ref);
        });
    }

    // ---- indexerScore ----

    @ParameterizedTest(name = "K {0}")
    @EnumSource(ElementType.class)
    void indexerScore_should_match_the_oracle_within_the_error_bound(ElementType kType) {
        requireType(Op.INDEXER_SCORE, kType);
        property(Op.INDEXER_SCORE, 5, t -> {
            SplittableRandom r = t.random();
            ElementType qType = declaredType(r, Op.INDEXER_SCORE);
            ElementType wType = declaredType(r, Op.INDEXER_SCORE);
            ElementType outType = Gen.floatOutput(r);
            int heads = t.rows(Gen.size(r, size(9)));
            int dI = t.cols(Gen.size(r, size(129)));
            int n = t.rows(Gen.size(r, size(65)));
            Tensor q = t.input("q", Gen.tensor(t, qType, heads, dI, Profile.UNIT));
            Tensor w = t.input("w", Gen.tensor(t, wType, 1, heads, Profile.UNIT));
            Tensor keys = t.input("K", Gen.tensor(t, kType, n, dI, Gen.pick(r, Profile.UNIT, Profile.WIDE)));
            Tensor kScale = r.nextBoolean() ? null
                    : t.input("kScale", Gen.tensor(t, declaredType(r, Op.INDEXER_SCORE), 1, n, Profile.UNIT));
            if (kScale == null) {
                t.describe("kScale", "null (all ones)");
            }
            Tensor s = t.output("s", outType, 1, n);
            Tensor ref = t.reference(F32, 1, n);
            subject().relevancy().indexerScore(q, w, keys, kScale, s);
            oracle().relevancy().indexerScore(q, w, keys, kScale, ref);
            double[][] sumAbs = Compare.sumAbsProducts(q, keys); // [H][n]
            double[] bound = new double[n];
            for (int i = 0; i < n; i++) {
                double ks = kScale == null ? 1 : kScale.get(0, i);
                double logitErr = 0;
                double sumTerms = 0;
                for (int h = 0; h < heads; h++) {
                    double wh = Math.abs(w.get(0, h));
                    double dot = 0;
                    for (int c = 0; c < dI; c++) {
                        dot += (double) q.get(h, c) * keys.get(i, c);
                    }
                    logitErr += wh * (Math.abs(ks) * 2.0 * dI * U * sumAbs[h][i] + 2 * U * Math.abs(ks * dot));
                    sumTerms += wh * Math.max(0, ks * dot);
                }
                bound[i] = logitErr + 2.0 * heads * U * sumTerms + 1e-30;
            }
            Compare.within("s", s, ref, Compare.Bound.of(
                    "sum_h |w_h|*(|kScale|*2*dI*2^-24*sum|q_h*K| + 2^-23*|logit|) + 2*H*2^-24*sum|terms| + ulp/2",
                    (z, i, e) -> bound[i] + Tolerances.halfUlp(outType, e),
                    (z, i) -> "H=" + heads + ", dI=" + dI + ", bound before output rounding " + Compare.num(bound[i])));
        });
    }

    // ---- softmax ----

    @ParameterizedTest(name = "s {0}")
    @EnumSource(ElementType.class)
    void softmax_should_match_the_oracle_within_the_error_bound(ElementType type) {
        requireType(Op.SOFTMAX, type);
        property(Op.SOFTMAX, 6, t -> {
            SplittableRandom r = t.random();
            ElementType outType = Gen.floatOutput(r);
            int n = t.cols(Gen.size(r, size(1025)));
            Profile profile = Gen.pick(r, Profile.UNIT, Profile.UNIT, Profile.WIDE);
            float scale = t.param("scale", profile == Profile.WIDE ? 1f
                    : Gen.pick(r, 1f, 0.125f, 0.088388346f, 30f, 1000f));
            Tensor s = t.input("s", Gen.tensor(t, type, 1, n, profile));
            Tensor p = t.output("p", outType, 1, n);
            Tensor ref = t.reference(F32, 1, n);
            subject().relevancy().softmax(s, scale, p);
            oracle().relevancy().softmax(s, scale, ref);
            Compare.within("p", p, ref, softmaxBound(s, scale, ref, outType));
        });
    }

    @ParameterizedTest(name = "s {0}")
    @EnumSource(ElementType.class)
    void softmax_should_not_overflow_on_large_scores(ElementType type) {
        requireType(Op.SOFTMAX, type);
        property(Op.SOFTMAX, 3, t -> {
            // scores in the thousands: exp overflows f32 above 88.7 (and f64 above 709) unless the max is
            // subtracted first
            SplittableRandom r = t.random();
            int n = t.cols(Gen.size(r, size(257)));
            Tensor s = Gen.tensor(t, type, 1, n, Profile.UNIT);
            Gen.scaleValues(s, type == ElementType.F16 ? 6e4f : 1e4f);
            t.input("s", s);
            Tensor p = t.output("p", F32, 1, n);
            Tensor ref = t.reference(F32, 1, n);
            subject().relevancy().softmax(s, 1f, p);
            oracle().relevancy().softmax(s, 1f, ref);
            Compare.within("p", p, ref, softmaxBound(s, 1f, ref, F32));
        });
    }

    @ParameterizedTest(name = "s {0}")
    @EnumSource(ElementType.class)
    void softmax_should_sum_to_one(ElementType type) {
        requireType(Op.SOFTMAX, type);
        property(Op.SOFTMAX, 4, t -> {
            SplittableRandom r = t.random();
            int n = t.cols(Gen.size(r, size(1025)));
            float scale = t.param("scale", Gen.pick(r, 1f, 0.125f, 30f));
            Tensor s = t.input("s", Gen.tensor(t, type, 1, n, Gen.pick(r, Profile.UNIT, Profile.WIDE)));
            Tensor p = t.output("p", F32, 1, n);
            subject().relevancy().softmax(s, scale, p);
            double sum = 0;
            for (int i = 0; i < n; i++) {
                double v = p.get(0, i);
                if (!(v >= 0 && v <= 1)) {
                    throw new AssertionError("p[" + i + "] = " + v + " is not a probability");
                }
                sum += v;
            }
            // each p_i = x_i / S' for one computed sum S': the sum is 1 up to S' and the divisions' rounding
            double tol = (2.0 * n + 8) * U;
            if (!(Math.abs(sum - 1) <= tol)) {
                throw new AssertionError("sum(p) = " + Compare.num(sum) + ", expected 1 within " + Compare.num(tol)
                        + " = (2n+8)*2^-24 with n=" + n);
            }
        });
    }

    /**
     * Softmax's bound per element: the argument {@code scale*s_i - scale*max} carries up to
     * {@code 2u(|scale*s_i| + |scale*max|) + u|arg|} (none when s_i is the max), exp adds a few ulps, the sum
     * adds {@code n u} and the weighted argument errors of all terms.
     */
    private static Compare.Bound softmaxBound(Tensor s, float scale, Tensor ref, ElementType out) {
        int n = s.cols();
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, (double) scale * s.get(0, i));
        }
        double[] argErr = new double[n];
        double weighted = 0;
        for (int i = 0; i < n; i++) {
            double x = (double) scale * s.get(0, i);
            argErr[i] = x == max ? 0 : 2 * U * (Math.abs(x) + Math.abs(max)) + U * Math.abs(x - max);
            weighted += ref.get(0, i) * argErr[i];
        }
        double sumErr = Math.expm1(weighted) + (2.0 * n + 8) * U;
        double weightedErr = weighted;
        return Compare.Bound.of("p*(expm1(argErr_i) + expm1(sum_j p_j*argErr_j) + (2n+8)*2^-24) + ulp/2 + 2^-124",
                (z, i, e) -> Math.abs(e) * (Math.expm1(argErr[i]) + sumErr) + Tolerances.halfUlp(out, e)
                        + 0x1p-124,
                (z, i) -> "n=" + n + ", argErr=" + Compare.num(argErr[i]) + ", sum_j p_j*argErr_j="
                        + Compare.num(weightedErr));
    }

    // ---- bm25Score ----

    @Test
    void bm25Score_should_match_the_oracle() {
        requireOp(Op.BM25_SCORE);
        property(Op.BM25_SCORE, 12, t -> {
            SplittableRandom r = t.random();
            Bm25Index index = randomIndex(t);
            int vocabulary = Math.max(1, index.vocabularySize());
            int[] terms = new int[t.cols(r.nextInt(1, 9))];
            for (int i = 0; i < terms.length; i++) {
                // repeats and terms the index never saw are part of the contract
                terms[i] = r.nextInt(8) == 0 ? vocabulary + r.nextInt(3) : r.nextInt(vocabulary);
            }
            if (terms.length > 1 && r.nextBoolean()) {
                terms[r.nextInt(terms.length)] = terms[0];
            }
            Bm25Params params = t.param("params", Gen.pick(r, Bm25Params.DEFAULT, Bm25Params.FPGA_KERNEL,
                    new Bm25Params((float) r.nextDouble(0, 3), (float) r.nextDouble(), Gen.pick(r, Bm25Idf.values()))));
            Indices query = t.input("query", Gen.indices(t, terms));
            ElementType outType = Gen.floatOutput(r);
            Tensor s = t.output("s", outType, 1, index.numDocs());
            Tensor ref = t.reference(F32, 1, index.numDocs());
            subject().relevancy().bm25Score(query, index, params, s);
            oracle().relevancy().bm25Score(query, index, params, ref);
            Compare.within("s", s, ref, bm25Bound(index, params, terms, outType));
        });
    }

    @Test
    void bm25Score_should_count_a_repeated_query_term_once() {
        requireOp(Op.BM25_SCORE);
        property(Op.BM25_SCORE, 4, t -> {
            SplittableRandom r = t.random();
            Bm25Index index = randomIndex(t);
            int vocabulary = Math.max(1, index.vocabularySize());
            int term = r.nextInt(vocabulary);
            int other = r.nextInt(vocabulary);
            Bm25Params params = t.param("params", Gen.pick(r, Bm25Params.DEFAULT, Bm25Params.FPGA_KERNEL));
            Indices once = t.input("query once", Gen.indices(t, term, other));
            Indices repeated = t.input("query repeated", Gen.indices(t, term, other, term, term));
            Tensor s1 = t.output("s (once)", F32, 1, index.numDocs());
            Tensor s2 = t.output("s (repeated)", F32, 1, index.numDocs());
            subject().relevancy().bm25Score(once, index, params, s1);
            subject().relevancy().bm25Score(repeated, index, params, s2);
            // the backend against itself: same terms, so the same arithmetic; allow only the bound
            Compare.within("s (query " + term + ", " + other + ", " + term + ", " + term + " vs " + term + ", "
                    + other + ")", s2, s1, bm25Bound(index, params, new int[] {term, other}, F32));
        });
    }

    @Test
    void bm25Score_with_b0_and_classic_idf_should_equal_the_formula_on_a_hand_computed_example() {
        requireOp(Op.BM25_SCORE);
        property(Op.BM25_SCORE, 1, t -> {
            // d0 = [1 2 2 3], d1 = [2 4], d2 = [5 5 5]; N = 3; query [2 5 7] (7 is unseen).
            // b = 0, k1 = 1.2: term weight tf*2.2/(tf + 1.2). CLASSIC idf ln((N - df + 0.5)/(df + 0.5)):
            // idf(2) = ln(1.5/2.5) = ln 0.6 (negative: term 2 is in most documents), idf(5) = ln(2.5/1.5) = ln(5/3).
            // d0: tf(2) = 2 -> 4.4/3.2 = 1.375; d1: tf(2) = 1 -> 1; d2: tf(5) = 3 -> 6.6/4.2 = 11/7.
            double[] expected = {1.375 * Math.log(0.6), Math.log(0.6), 11.0 / 7.0 * Math.log(5.0 / 3.0)};
            checkHandComputed(t, Bm25Params.FPGA_KERNEL, expected);
        });
    }

    @Test
    void bm25Score_with_lucene_idf_should_equal_the_formula_on_a_hand_computed_example() {
        requireOp(Op.BM25_SCORE);
        property(Op.BM25_SCORE, 1, t -> {
            // Same corpus, k1 = 1.2, b = 0.75, avglen = 9/3 = 3. LUCENE idf ln(1 + (N - df + 0.5)/(df + 0.5)):
            // idf(2) = ln 1.6, idf(5) = ln(8/3). Length norms 1 - b + b*len/avglen: d0 (len 4) 1.25,
            // d1 (len 2) 0.75, d2 (len 3) 1.
            // d0: 2*2.2/(2 + 1.2*1.25) = 4.4/3.5 = 44/35; d1: 2.2/(1 + 0.9) = 22/19; d2: 6.6/(3 + 1.2) = 11/7.
            double[] expected = {44.0 / 35.0 * Math.log(1.6), 22.0 / 19.0 * Math.log(1.6),
                11.0 / 7.0 * Math.log(8.0 / 3.0)};
            checkHandComputed(t, Bm25Params.DEFAULT, expected);
        });
    }

    private void checkHandComputed(Trial t, Bm25Params params, double[] expected) {
        Indices offsets = Gen.indices(t, 0, 4, 6, 9);
        Indices tokens = Gen.indices(t, 1, 2, 2, 3, 2, 4, 5, 5, 5);
        Bm25Index index = oracle().prepare().bm25Index(offsets, tokens);
        Indices query = t.input("query", Gen.indices(t, 2, 5, 7));
        t.param("params", params);
        Tensor s = t.output("s", F32, 1, 3);
        subject().relevancy().bm25Score(query, index, params, s);
        for (int doc = 0; doc < 3; doc++) {
            double tol = 8 * U * Math.abs(expected[doc]) + Tolerances.halfUlp(F32, expected[doc]);
            if (!(Math.abs(s.get(0, doc) - expected[doc]) <= tol)) {
                throw new AssertionError("s[" + doc + "] = " + Compare.num(s.get(0, doc)) + ", hand-computed "
                        + Compare.num(expected[doc]) + ", allowed " + Compare.num(tol) + " = 8*2^-24*|ref| + ulp/2");
            }
        }
    }

    /** Upper bound of rounding: every contribution is at most |idf|*(k1+1); 8 ulps of their sum, plus output. */
    private static Compare.Bound bm25Bound(Bm25Index index, Bm25Params params, int[] terms, ElementType out) {
        Set<Integer> distinct = new LinkedHashSet<>();
        for (int term : terms) {
            distinct.add(term);
        }
        double sumAbs = 0;
        for (int term : distinct) {
            int df = index.docFreq(term);
            if (df > 0) {
                sumAbs += Math.abs(params.idf().idf(index.numDocs(), df)) * (params.k1() + 1);
            }
        }
        double terms8 = 8 * U * sumAbs;
        double sumAbsTerms = sumAbs;
        return Compare.Bound.of("8*2^-24*sum_t |idf_t|*(k1+1) + ulp(" + out + ")/2",
                (z, i, e) -> terms8 + Tolerances.halfUlp(out, e) + 1e-30,
                (z, i) -> "sum_t |idf_t|*(k1+1)=" + Compare.num(sumAbsTerms));
    }

    /** A random corpus (N in awkward sizes, short documents over a small vocabulary) indexed by the oracle. */
    private Bm25Index randomIndex(Trial t) {
        SplittableRandom r = t.random();
        int docs = t.rows(Gen.size(r, size(65)));
        int vocabulary = r.nextInt(1, 40);
        int[] offsets = new int[docs + 1];
        int[] tokens = new int[docs * 40];
        int at = 0;
        for (int d = 0; d < docs; d++) {
            int len = r.nextInt(8) == 0 ? 0 : r.nextInt(1, 40);
            for (int i = 0; i < len; i++) {
                tokens[at++] = r.nextInt(vocabulary);
            }
            offsets[d + 1] = at;
        }
        t.param("N", docs);
        t.param("vocabulary", vocabulary);
        return oracle().prepare().bm25Index(Gen.indices(t, offsets),
                Gen.indices(t, java.util.Arrays.copyOf(tokens, at)));
    }

    // ---- bad input ----

    @Test
    void dot_should_reject_an_integer_output() {
        requireOp(Op.DOT);
        property(Op.DOT, 2, t -> {
            SplittableRandom r = t.random();
            Tensor q = t.input("Q", Gen.tensor(t, declaredType(r, Op.DOT), 2, 5, Profile.UNIT));
            Tensor m = t.input("M", Gen.tensor(t, declaredType(r, Op.DOT), 3, 5, Profile.UNIT));
            Tensor s = t.output("S", Gen.pick(r, ElementType.I8, ElementType.I16), 2, 3);
            BadInput.expect(t, UnsupportedElementTypeException.class, "S", "dot into an " + s.type() + " output",
                    () -> subject().relevancy().dot(q, m, s));
        });
    }

    @Test
    void dot_should_reject_a_dimension_mismatch() {
        requireOp(Op.DOT);
        property(Op.DOT, 2, t -> {
            SplittableRandom r = t.random();
            int d = r.nextInt(1, 17);
            Tensor q = t.input("Q", Gen.tensor(t, declaredType(r, Op.DOT), 2, d, Profile.UNIT));
            Tensor m = t.input("M", Gen.tensor(t, declaredType(r, Op.DOT), 3, d + r.nextInt(1, 4), Profile.UNIT));
            Tensor s = t.output("S", F32, 2, 3);
            BadInput.expect(t, IllegalArgumentException.class, "M", "dot with Q of d=" + d + " and M of d="
                    + m.cols(), () -> subject().relevancy().dot(q, m, s));
        });
    }

    @Test
    void dot_should_reject_a_closed_input() {
        requireOp(Op.DOT);
        property(Op.DOT, 2, t -> {
            SplittableRandom r = t.random();
            Tensor q = t.input("Q", Gen.tensor(t, declaredType(r, Op.DOT), 2, 7, Profile.UNIT));
            Tensor m = Gen.closed(declaredType(r, Op.DOT), 3, 7);
            Tensor s = t.output("S", F32, 2, 3);
            BadInput.expect(t, IllegalStateException.class, "M", "dot with M in a closed arena",
                    () -> subject().relevancy().dot(q, m, s));
        });
    }

    @Test
    void dot_should_reject_an_output_of_the_wrong_shape() {
        requireOp(Op.DOT);
        property(Op.DOT, 2, t -> {
            SplittableRandom r = t.random();
            Tensor q = t.input("Q", Gen.tensor(t, declaredType(r, Op.DOT), 2, 7, Profile.UNIT));
            Tensor m = t.input("M", Gen.tensor(t, declaredType(r, Op.DOT), 3, 7, Profile.UNIT));
            Tensor s = r.nextBoolean() ? t.output("S", F32, 2, 2) : t.output("S", F32, 3, 3);
            BadInput.expect(t, IllegalArgumentException.class, "S", "dot [2, 7] x [3, 7] into " + s.shapeString(),
                    () -> subject().relevancy().dot(q, m, s));
        });
    }

    @Test
    void dot_should_reject_element_types_it_does_not_declare() {
        requireOp(Op.DOT);
        Set<ElementType> undeclared = EnumSet.complementOf(EnumSet.copyOf(declared(Op.DOT)));
        Assumptions.assumeFalse(undeclared.isEmpty(), () -> "skipped: backend '" + subject().name()
                + "' declares every element type for dot, so there is none to reject");
        property(Op.DOT, 2, t -> {
            SplittableRandom r = t.random();
            Tensor q = t.input("Q", Gen.tensor(t, declaredType(r, Op.DOT), 2, 7, Profile.UNIT));
            Tensor m = t.input("M", Gen.tensor(t, Gen.pickType(r, undeclared), 3, 7, Profile.UNIT));
            Tensor s = t.output("S", F32, 2, 3);
            BadInput.expect(t, UnsupportedElementTypeException.class, "M", "dot with an undeclared M type "
                    + m.type(), () -> subject().relevancy().dot(q, m, s));
        });
    }

    @Test
    void questBound_should_reject_min_and_max_of_different_shapes() {
        requireOp(Op.QUEST_BOUND);
        property(Op.QUEST_BOUND, 2, t -> {
            SplittableRandom r = t.random();
            ElementType type = declaredType(r, Op.QUEST_BOUND);
            Tensor q = t.input("q", Gen.tensor(t, type, 1, 9, Profile.UNIT));
            Tensor min = t.input("min", Gen.tensor(t, type, 4, 9, Profile.UNIT));
            Tensor max = t.input("max", Gen.tensor(t, type, 5, 9, Profile.UNIT));
            Tensor s = t.output("s", F32, 1, 4);
            BadInput.expect(t, IllegalArgumentException.class, "max", "questBound with min [4, 9] and max [5, 9]",
                    () -> subject().relevancy().questBound(q, min, max, s));
        });
    }

    @Test
    void groupMax_should_reject_a_group_size_below_one() {
        requireOp(Op.GROUP_MAX);
        property(Op.GROUP_MAX, 2, t -> {
            SplittableRandom r = t.random();
            Tensor s = t.input("s", Gen.tensor(t, declaredType(r, Op.GROUP_MAX), 1, 9, Profile.UNIT));
            Tensor y = t.output("y", F32, 1, 9);
            int g = t.param("g", Gen.pick(r, 0, -1, Integer.MIN_VALUE));
            BadInput.expect(t, IllegalArgumentException.class, "g", "groupMax with g=" + g,
                    () -> subject().relevancy().groupMax(s, g, y));
        });
    }

    @Test
    void indexerScore_should_reject_weights_of_the_wrong_length() {
        requireOp(Op.INDEXER_SCORE);
        property(Op.INDEXER_SCORE, 2, t -> {
            SplittableRandom r = t.random();
            ElementType type = declaredType(r, Op.INDEXER_SCORE);
            Tensor q = t.input("q", Gen.tensor(t, type, 4, 8, Profile.UNIT));
            Tensor w = t.input("w", Gen.tensor(t, type, 1, 3, Profile.UNIT));
            Tensor keys = t.input("K", Gen.tensor(t, type, 6, 8, Profile.UNIT));
            Tensor s = t.output("s", F32, 1, 6);
            BadInput.expect(t, IllegalArgumentException.class, "w", "indexerScore with 4 heads and 3 weights",
                    () -> subject().relevancy().indexerScore(q, w, keys, null, s));
        });
    }

    @Test
    void softmax_should_reject_an_empty_input() {
        requireOp(Op.SOFTMAX);
        property(Op.SOFTMAX, 1, t -> {
            Tensor s = t.input("s", Gen.tensor(t, declaredType(t.random(), Op.SOFTMAX), 1, 0, Profile.UNIT));
            Tensor p = t.output("p", F32, 1, 0);
            BadInput.expect(t, IllegalArgumentException.class, "s", "softmax of no scores",
                    () -> subject().relevancy().softmax(s, 1f, p));
        });
    }

    @Test
    void bm25Score_should_reject_an_output_of_the_wrong_length() {
        requireOp(Op.BM25_SCORE);
        property(Op.BM25_SCORE, 1, t -> {
            Bm25Index index = oracle().prepare().bm25Index(Gen.indices(t, 0, 2, 3), Gen.indices(t, 1, 2, 1));
            Indices query = t.input("query", Gen.indices(t, 1));
            Tensor s = t.output("s", F32, 1, 3);
            BadInput.expect(t, IllegalArgumentException.class, "s", "bm25Score of 2 documents into [1, 3]",
                    () -> subject().relevancy().bm25Score(query, index, Bm25Params.DEFAULT, s));
        });
    }

    // ---- helpers ----

    private static Compare.Bound dotLikeBound(Tensor a, Tensor b, ElementType out) {
        return Compare.integerPath(a, b) ? Compare.integerDotBound(out)
                : Compare.dotBound(out, a.cols(), Compare.sumAbsProducts(a, b));
    }

    /** Zeroes about one row in eight (cosine's zero-norm rule). */
    private static void zeroSomeRows(SplittableRandom r, Tensor x) {
        for (long row = 0; row < x.rows(); row++) {
            if (r.nextInt(8) == 0) {
                for (int c = 0; c < x.cols(); c++) {
                    x.set(row, c, 0f);
                }
            }
        }
    }

    private static double[] norms(Tensor x) {
        double[] out = new double[(int) x.rows()];
        for (int row = 0; row < x.rows(); row++) {
            double s = 0;
            for (int c = 0; c < x.cols(); c++) {
                double v = x.get(row, c);
                s += v * v;
            }
            out[row] = Math.sqrt(s);
        }
        return out;
    }
}
