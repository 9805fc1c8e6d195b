package dev.mempipe.goldentests;

import dev.mempipe.goldentests.npy.NpyArray;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.OpDescriptor;
import dev.mempipe.spi.PoolMode;
import dev.mempipe.spi.Tensor;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The comparisons behind {@link GoldenCasesContract}: one per op, each with the bound SPEC.md gives for it
 * ("Tolerances the conformance kit uses"), computed per element from the case's decoded inputs. Where
 * SPEC.md names no bound (softmax, rope, l2Normalize, bm25Score, cosine) the bound is derived the same way,
 * from the rounding errors of an f32 implementation, and written next to the op below.
 */
public final class GoldenChecks {
    private static final double U = Tolerances.U32;

    private GoldenChecks() {
    }

    /** Per-element allowed error, given the element's row, column and reference value. */
    @FunctionalInterface
    private interface Bound {
        double at(int row, int col, double ref);
    }

    private static final Bound EXACT = (r, c, ref) -> 0;

    /**
     * Checks every output the op's descriptor names and the case holds: index and bitmap outputs exactly,
     * tensor outputs within {@link #tensorBound}; topK's outputs with its structural checks.
     */
    public static void check(GoldenCase g, GoldenCase.Outputs got) {
        if (g.op() == Op.TOP_K) {
            topK(g, got);
            return;
        }
        for (OpDescriptor.Arg out : g.op().descriptor().outputs()) {
            String name = GoldenCase.fileName(out.name());
            if (!g.outputs().contains(name)) {
                continue;
            }
            switch (out.role()) {
                case INDEX_OUTPUT, BITMAP_OUTPUT -> ints(g, name, got.ints().get(name));
                default -> {
                    if (g.op() == Op.ATTENTION) {
                        attention(g, got);
                    } else if (frobeniusBound(g) >= 0) {
                        frobenius(g, name, got.tensors().get(name), frobeniusBound(g));
                    } else if (bitExact(g.op())) {
                        bits(g, name, got.tensors().get(name));
                    } else {
                        near(g, name, got, tensorBound(g, name));
                    }
                }
            }
        }
    }

    /** Ops whose tensor outputs must match bit for bit, scales included (SPEC.md: quantization, copies). */
    private static boolean bitExact(Op op) {
        return op == Op.QUANTIZE || op == Op.CONVERT || op == Op.GATHER;
    }

    /**
     * SPEC.md's relative Frobenius bound for the outputs of the TrainOps built from products of products
     * (mlpForward, mlpGradient, newtonSchulz), or -1 for every other op.
     */
    private static double frobeniusBound(GoldenCase g) {
        return switch (g.op()) {
            case MLP_FORWARD -> Tolerances.mlpForward(g.array("X").cols(), g.array("W1").rows());
            case MLP_GRADIENT -> Tolerances.mlpGradient(g.array("X").cols(), g.array("W1").rows());
            case NEWTON_SCHULZ -> Tolerances.newtonSchulz(g.array("G").rows(), g.array("G").cols());
            default -> -1;
        };
    }

    /** The bound SPEC.md (or the rounding analysis written beside it) gives for a tensor output of the case's op. */
    private static Bound tensorBound(GoldenCase g, String output) {
        return switch (g.op()) {
            case PAGE_POOL -> PoolMode.valueOf(g.param("mode")) == PoolMode.MEAN ? meanBound(g) : EXACT;
            case PROJECT -> dotBound(g, "X", "W", "Y");
            case L2_NORMALIZE -> {
                // ||x|| in f32 has relative error <= d*u/2 + u, the division adds u
                int d = g.decoded("X")[0].length;
                ElementType out = g.outputType("Y");
                yield (r, c, ref) -> Tolerances.dot(d + 2, Math.abs(ref), out, ref);
            }
            case ROPE -> ropeBound(g);
            case DOT -> dotBound(g, "Q", "M", "S");
            case COSINE -> cosineBound(g);
            case QUEST_BOUND -> questBound(g);
            case INDEXER_SCORE -> indexerBound(g);
            case SOFTMAX -> softmaxBound(g);
            case BM25_SCORE -> {
                // computed in double by contract: one f32 rounding (plus summation-order noise in double)
                ElementType out = g.outputType("s");
                yield (r, c, ref) -> 2 * Tolerances.halfUlp(out, ref) + 1e-12;
            }
            case SOFT_RETRIEVE -> {
                float[] a = g.decoded("a")[0];
                float[][] v = g.decoded("V");
                ElementType out = g.outputType("o");
                yield (r, c, ref) -> {
                    double sumAbs = 0;
                    for (int i = 0; i < a.length; i++) {
                        sumAbs += Math.abs((double) a[i] * v[i][c]);
                    }
                    return Tolerances.dot(a.length, sumAbs, out, ref);
                };
            }
            case MOMENTUM_UPDATE -> momentumBound(g, output);
            // min/max, groupMax and dequantize are exact: no arithmetic beyond the output's own rounding
            case PAGE_MIN_MAX, GROUP_MAX, DEQUANTIZE -> EXACT;
            default -> throw new IllegalStateException("the kit has no tolerance for " + g.op() + "'s output "
                    + output + " (golden case " + g.name() + "); add one here with its SPEC.md bound");
        };
    }

    // ---- bounds ----

    /** SPEC.md's dot bound; integer-by-integer products are exact, so only the final scaling may round. */
    private static Bound dotBound(GoldenCase g, String aName, String bName, String outName) {
        float[][] a = g.decoded(aName);
        float[][] b = g.decoded(bName);
        boolean exactInts = g.inputType(aName).isQuantized() && g.inputType(bName).isQuantized();
        ElementType out = g.outputType(outName);
        int d = a.length == 0 ? 0 : a[0].length;
        return (j, i, ref) -> exactInts
                // the long sum converted to f32 and two f32 multiplications by the scales: <= 3 roundings
                ? Tolerances.dot(2, Math.abs(ref), out, ref)
                : Tolerances.dot(d, sumAbsProducts(a[j], b[i]), out, ref);
    }

    /**
     * Cosine: the dot bound scaled by both norms, doubled because each f32 norm adds relative error of
     * about d*u/2 (sumAbs / (|a| |b|) >= |cos|, so doubling covers it). Exactly 0 for a zero row.
     */
    private static Bound cosineBound(GoldenCase g) {
        float[][] a = g.decoded("Q");
        float[][] b = g.decoded("M");
        ElementType out = g.outputType("S");
        int d = a.length == 0 ? 0 : a[0].length;
        return (j, i, ref) -> {
            double norms = norm(a[j]) * norm(b[i]);
            return norms == 0 ? 0 : Tolerances.dot(d, 2 * sumAbsProducts(a[j], b[i]) / norms, out, ref);
        };
    }

    /** MEAN pooling is a dot product with weights 1/count over the page's rows. */
    private static Bound meanBound(GoldenCase g) {
        float[][] k = g.decoded("K");
        int pageSize = Integer.parseInt(g.param("P"));
        ElementType out = g.outputType("Y");
        return (p, c, ref) -> {
            int start = p * pageSize;
            int end = Math.min(start + pageSize, k.length);
            double sumAbs = 0;
            for (int r = start; r < end; r++) {
                sumAbs += Math.abs(k[r][c]);
            }
            return Tolerances.dot(end - start, sumAbs / (end - start), out, ref);
        };
    }

    /** y = x0*cos -/+ x1*sin: a two-term dot product (cos and sin rounded to f32 add one u each). */
    private static Bound ropeBound(GoldenCase g) {
        float[][] x = g.decoded("X");
        ElementType out = g.outputType("Y");
        return (r, c, ref) -> {
            int even = c & ~1;
            return Tolerances.dot(2, Math.abs(x[r][even]) + Math.abs(x[r][even + 1]), out, ref);
        };
    }

    private static Bound questBound(GoldenCase g) {
        float[] q = g.decoded("q")[0];
        float[][] min = g.decoded("min");
        float[][] max = g.decoded("max");
        ElementType out = g.outputType("s");
        return (r, p, ref) -> {
            double sumAbs = 0;
            for (int i = 0; i < q.length; i++) {
                sumAbs += Math.max(Math.abs((double) q[i] * min[p][i]), Math.abs((double) q[i] * max[p][i]));
            }
            return Tolerances.dot(q.length, sumAbs, out, ref);
        };
    }

    /**
     * {@code s_t = sum_h w_h ReLU(ks_t <q_h, K_t>)}: each head's dot bound scaled by {@code |w_h ks_t|} (ReLU
     * does not grow errors), plus an H-term outer sum; one dot bound of length dI + H + 2 covers both.
     */
    private static Bound indexerBound(GoldenCase g) {
        float[][] q = g.decoded("q");
        float[] w = g.decoded("w")[0];
        float[][] k = g.decoded("K");
        float[] kScale = g.inputs().contains("kScale") ? g.decoded("kScale")[0] : null;
        ElementType out = g.outputType("s");
        int d = k.length == 0 ? 0 : k[0].length;
        return (r, t, ref) -> {
            double ks = kScale == null ? 1 : Math.abs(kScale[t]);
            double sumAbs = 0;
            for (int h = 0; h < q.length; h++) {
                sumAbs += Math.abs(w[h]) * ks * sumAbsProducts(q[h], k[t]);
            }
            return Tolerances.dot(d + q.length + 2, sumAbs, out, ref);
        };
    }

    /**
     * p_i = exp(x_i - m) / sum: rounding x_i = scale*s_i and m in f32 shifts the exponent by up to
     * 2u(|x_i| + |m|), which is a relative error of p_i; the sum carries the p-weighted mean of those plus
     * n roundings; exp itself a few ulps. Values below f32's normal range may flush to zero.
     */
    private static Bound softmaxBound(GoldenCase g) {
        float[] s = g.decoded("s")[0];
        double scale = Float.parseFloat(g.param("scale"));
        double[] expected = g.array("p").toDoubles();
        ElementType out = g.outputType("p");
        double max = Double.NEGATIVE_INFINITY;
        for (float v : s) {
            max = Math.max(max, scale * v);
        }
        double m = Math.abs(max);
        double sumShift = 0;
        for (int i = 0; i < s.length; i++) {
            sumShift += expected[i] * 2 * U * (Math.abs(scale * s[i]) + m);
        }
        double common = sumShift + 2.0 * (s.length + 4) * U;
        return (r, i, ref) -> Math.abs(ref) * (2 * U * (Math.abs(scale * s[i]) + m) + common)
                + Tolerances.halfUlp(out, ref) + Float.MIN_NORMAL;
    }

    /**
     * momentumUpdate, per element: S' within {@link Tolerances#momentum}, W' within {@link Tolerances#momentumWeights}
     * of the terms of the update (eta, theta and alpha as the f32 parameters the op receives).
     */
    private static Bound momentumBound(GoldenCase g, String output) {
        float[][] w = g.decoded("W");
        float[][] gradient = g.decoded("G");
        float[][] s = g.decoded("S");
        double eta = Float.parseFloat(g.param("eta"));
        double theta = Float.parseFloat(g.param("theta"));
        double alpha = Float.parseFloat(g.param("alpha"));
        boolean weights = output.equals("Wprime");
        return (r, c, ref) -> weights
                ? Tolerances.momentumWeights((1 - alpha) * w[r][c], eta * s[r][c], theta * gradient[r][c])
                : Tolerances.momentum(eta * s[r][c], theta * gradient[r][c]);
    }

    // ---- ops with structural checks ----

    /**
     * topK over given scores: the reference scores are the decoded inputs themselves, so tau = 0 and the
     * answer is unique; the structural checks come first because their messages say what is wrong.
     */
    private static void topK(GoldenCase g, GoldenCase.Outputs got) {
        float[] s = g.decoded("s")[0];
        int k = Integer.parseInt(g.param("k"));
        int[] idx = got.ints().get("idx");
        int count = got.ints().get("count")[0];
        int want = Math.min(k, s.length);
        String where = "golden case " + g.name() + ", output idx: ";
        if (count != want) {
            fail(where + "topK returned " + count + ", expected min(k=" + k + ", n=" + s.length + ") = " + want);
        }
        Set<Integer> seen = new HashSet<>();
        for (int j = 0; j < idx.length; j++) {
            if (idx[j] < 0 || idx[j] >= s.length) {
                fail(where + "position " + j + " holds " + idx[j] + ", outside [0, " + s.length + ")");
            }
            if (!seen.add(idx[j])) {
                fail(where + "index " + idx[j] + " is returned twice (position " + j + ")");
            }
            if (j > 0 && ScalarRetrievalOps.compareTotalOrder(s[idx[j - 1]], idx[j - 1], s[idx[j]], idx[j]) > 0) {
                fail(where + "not in the total order (score descending, then index ascending) at position " + j
                        + ": (" + idx[j - 1] + ", " + s[idx[j - 1]] + ") before (" + idx[j] + ", " + s[idx[j]] + ")");
            }
        }
        float[] sorted = s.clone();
        Arrays.sort(sorted);
        double kth = sorted[s.length - want];
        double tau = 0;
        for (int j = 0; j < idx.length; j++) {
            if (s[idx[j]] < kth - tau) {
                fail(where + "index " + idx[j] + " with score " + s[idx[j]] + " is returned but the k-th best score is "
                        + kth + " (tau " + tau + ")");
            }
        }
        for (int i = 0; i < s.length; i++) {
            if (s[i] > kth + tau && !seen.contains(i)) {
                fail(where + "index " + i + " with score " + s[i] + " is missing; the k-th best score is " + kth
                        + " (tau " + tau + ")");
            }
        }
        ints(g, "idx", idx);
        Tensor val = got.tensors().get("val");
        for (int j = 0; j < want; j++) {
            // numeric equality: -0.0 and +0.0 are the same score in the contract's order
            if (val.get(0, j) != s[idx[j]]) {
                fail("golden case " + g.name() + ", output val: position " + j + " holds " + val.get(0, j)
                        + " but s[" + idx[j] + "] is " + s[idx[j]]);
            }
        }
    }

    /**
     * SPEC.md: per coordinate within {@code c*(L+d)*2^-24 * max|V|}, and inside the [min, max] of the
     * selected V rows. The range check allows two output ulps beyond the range, for the final division of
     * an online softmax whose weights sum to 1 only within rounding.
     */
    private static void attention(GoldenCase g, GoldenCase.Outputs got) {
        float[][] q = g.decoded("q");
        float[][] v = g.decoded("V");
        int kvHeads = Integer.parseInt(g.param("Hkv"));
        int d = q[0].length;
        int group = q.length / kvHeads;
        int[] rows = g.inputs().contains("idx") ? toInts(g.array("idx").toLongs()) : range(v.length);
        ElementType out = g.outputType("o");
        double[][] lo = new double[q.length][d];
        double[][] hi = new double[q.length][d];
        double[] maxAbs = new double[q.length];
        for (int h = 0; h < q.length; h++) {
            int base = (h / group) * d;
            Arrays.fill(lo[h], Double.POSITIVE_INFINITY);
            Arrays.fill(hi[h], Double.NEGATIVE_INFINITY);
            for (int row : rows) {
                for (int c = 0; c < d; c++) {
                    double x = v[row][base + c];
                    lo[h][c] = Math.min(lo[h][c], x);
                    hi[h][c] = Math.max(hi[h][c], x);
                    maxAbs[h] = Math.max(maxAbs[h], Math.abs(x));
                }
            }
        }
        near(g, "o", got, (h, c, ref) -> Tolerances.attention(rows.length, d, maxAbs[h], out, ref));
        Tensor o = got.tensors().get("o");
        for (int h = 0; h < q.length; h++) {
            for (int c = 0; c < d; c++) {
                double x = o.get(h, c);
                double slack = 4 * Tolerances.halfUlp(out, Math.max(Math.abs(lo[h][c]), Math.abs(hi[h][c])));
                if (!(x >= lo[h][c] - slack && x <= hi[h][c] + slack)) {
                    fail("golden case " + g.name() + ", output o: [" + h + ", " + c + "] = " + x
                            + " lies outside the selected V rows' range [" + lo[h][c] + ", " + hi[h][c]
                            + "] (slack " + slack + ")");
                }
            }
        }
    }

    // ---- comparisons ----

    /** Every element of tensor output {@code output} within {@code bound} of the expected reference. */
    private static void near(GoldenCase g, String output, GoldenCase.Outputs got, Bound bound) {
        Tensor t = got.tensors().get(output);
        NpyArray expectedArray = g.array(output);
        double[] expected = expectedArray.toDoubles();
        String where = "golden case " + g.name() + ", output " + output + " " + t.shapeString();
        if (t.rows() != expectedArray.rows() || t.cols() != expectedArray.cols()) {
            fail(where + ": expected shape [" + expectedArray.rows() + ", " + expectedArray.cols() + "]");
        }
        int failures = 0;
        String first = null;
        for (int r = 0; r < t.rows(); r++) {
            for (int c = 0; c < t.cols(); c++) {
                double ref = expected[r * t.cols() + c];
                double value = t.get(r, c);
                double allowed = bound.at(r, c, ref);
                boolean ok = Double.isNaN(ref) ? Double.isNaN(value) : Math.abs(value - ref) <= allowed;
                if (!ok) {
                    if (first == null) {
                        first = "first at [" + r + ", " + c + "]: got " + value + ", expected " + ref + ", |diff| "
                                + Math.abs(value - ref) + (allowed == 0 ? " (must be exact)" : " > allowed " + allowed);
                    }
                    failures++;
                }
            }
        }
        if (failures > 0) {
            fail(where + ": " + failures + " of " + t.size() + " elements outside tolerance; " + first);
        }
    }

    /** Tensor output {@code output} within relative Frobenius error {@code bound} of the expected reference. */
    private static void frobenius(GoldenCase g, String output, Tensor t, double bound) {
        NpyArray expectedArray = g.array(output);
        String where = "golden case " + g.name() + ", output " + output + " " + t.shapeString();
        if (t.rows() != expectedArray.rows() || t.cols() != expectedArray.cols()) {
            fail(where + ": expected shape [" + expectedArray.rows() + ", " + expectedArray.cols() + "]");
        }
        double[] expected = expectedArray.toDoubles();
        double[] values = new double[expected.length];
        int worst = 0;
        for (int i = 0; i < values.length; i++) {
            values[i] = t.get(i / t.cols(), i % t.cols());
            if (!(Math.abs(values[i] - expected[i]) <= Math.abs(values[worst] - expected[worst]))) {
                worst = i;
            }
        }
        double error = Tolerances.relativeFrobenius(values, expected);
        if (!(error <= bound)) {
            fail(where + ": relative Frobenius error " + error + " > allowed " + bound + "; largest difference at ["
                    + worst / t.cols() + ", " + worst % t.cols() + "]: got " + values[worst] + ", expected "
                    + expected[worst]);
        }
    }

    /** Bit-exact stored elements (and per-row scales for I8/I16) of tensor output {@code output}. */
    private static void bits(GoldenCase g, String output, Tensor got) {
        String where = "golden case " + g.name() + ", output " + output + " " + got.shapeString();
        NpyArray expected = g.array(output);
        if (got.rows() != expected.rows() || got.cols() != expected.cols()) {
            fail(where + ": expected shape [" + expected.rows() + ", " + expected.cols() + "]");
        }
        compareBytes(where, NpyArray.of(output, got), expected, got.cols());
        if (got.type().isQuantized()) {
            compareBytes(where + " scales", NpyArray.scalesOf(output + "_scale", got), g.array(output + "_scale"), 1);
        }
    }

    private static void compareBytes(String where, NpyArray got, NpyArray expected, int cols) {
        if (got.dtype() != expected.dtype()) {
            fail(where + ": stored as " + got.dtype() + " but the expected output is " + expected.dtype());
        }
        byte[] a = got.data();
        byte[] b = expected.data();
        int item = got.dtype().itemSize();
        for (int i = 0; i < a.length; i += item) {
            if (!Arrays.equals(a, i, i + item, b, i, i + item)) {
                int e = i / item;
                fail(where + ": must be bit-exact; first difference at [" + e / cols + ", " + e % cols + "]: got "
                        + got.toDoubles()[e] + " (0x" + hex(a, i, item) + "), expected " + expected.toDoubles()[e]
                        + " (0x" + hex(b, i, item) + ")");
            }
        }
    }

    /** An index, bitmap or BM25 array output equal to the expected one. */
    private static void ints(GoldenCase g, String output, int[] got) {
        String where = "golden case " + g.name() + ", output " + output;
        long[] expected = g.array(output).toLongs();
        if (got.length != expected.length) {
            fail(where + ": " + got.length + " entries, expected " + expected.length + " (got "
                    + abbreviate(got) + ", expected " + abbreviate(toInts(expected)) + ")");
        }
        for (int i = 0; i < got.length; i++) {
            if (got[i] != expected[i]) {
                fail(where + ": must be exact; first difference at position " + i + ": got " + got[i]
                        + ", expected " + expected[i]);
            }
        }
    }

    // ---- helpers ----

    private static double sumAbsProducts(float[] a, float[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += Math.abs((double) a[i] * b[i]);
        }
        return sum;
    }

    private static double norm(float[] a) {
        double sum = 0;
        for (float x : a) {
            sum += (double) x * x;
        }
        return Math.sqrt(sum);
    }

    private static int[] toInts(long[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Math.toIntExact(values[i]);
        }
        return out;
    }

    private static int[] range(int n) {
        int[] out = new int[n];
        Arrays.setAll(out, i -> i);
        return out;
    }

    private static String abbreviate(int[] values) {
        String s = Arrays.toString(values);
        return s.length() <= 200 ? s : s.substring(0, 200) + "...]";
    }

    private static String hex(byte[] bytes, int from, int length) {
        StringBuilder sb = new StringBuilder();
        for (int i = from + length - 1; i >= from; i--) {
            sb.append(String.format("%02x", bytes[i] & 0xFF)); // little-endian: most significant byte first
        }
        return sb.toString();
    }
}
