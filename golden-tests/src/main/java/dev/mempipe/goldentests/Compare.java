package dev.mempipe.goldentests;

import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.ValueLayout;
import java.util.Locale;

/**
 * Comparisons of a backend's outputs with the scalar oracle's, with SPEC.md's tolerances: derived error
 * bounds for float accumulation ({@link Tolerances}), bit-exact equality for integer paths, indices, gathers
 * and bitmaps, and the topK set rule. A mismatch throws an {@link AssertionError} naming the first differing
 * position (row-major), both values with their bits, the allowed tolerance and how it was derived.
 */
public final class Compare {
    private static final double U = Tolerances.U32;

    private Compare() {
    }

    /** The allowed error at one output element, and how it was derived (shown only on failure). */
    public interface Bound {
        /** The largest allowed {@code |got - ref|} at {@code (r, c)}, given the reference value. */
        double at(long r, int c, double ref);

        /** The formula and its terms at {@code (r, c)}, e.g. {@code 2*d*2^-24*sum|a*b| + ... with d=17, ...}. */
        String explain(long r, int c, double ref);

        static Bound of(String formula, Value value, Terms terms) {
            return new Bound() {
                @Override
                public double at(long r, int c, double ref) {
                    return value.at(r, c, ref);
                }

                @Override
                public String explain(long r, int c, double ref) {
                    String t = terms == null ? "" : terms.at(r, c);
                    return formula + (t.isEmpty() ? "" : " with " + t);
                }
            };
        }

        @FunctionalInterface
        interface Value {
            double at(long r, int c, double ref);
        }

        @FunctionalInterface
        interface Terms {
            String at(long r, int c);
        }
    }

    // ---- tolerances ----

    /**
     * SPEC.md's f32 dot-like bound {@code 2*d*2^-24*sum|a_i*b_i| + 1e-30} (+ half an output ulp), with the
     * sums of absolute products of each output element in {@code sumAbs[r][c]}.
     */
    public static Bound dotBound(ElementType out, long d, double[][] sumAbs) {
        return Bound.of("2*d*2^-24*sum|a*b| + 1e-30 + ulp(" + out + ")/2",
                (r, c, ref) -> Tolerances.dot(d, sumAbs[(int) r][c], out, ref),
                (r, c) -> "d=" + d + ", sum|a*b|=" + num(sumAbs[(int) r][c]));
    }

    /**
     * Integer-by-integer dot products are exact in {@code long}; only the final scaling (at most three roundings
     * of the exact value, in f32 or wider) and the output rounding may differ from the exact value.
     */
    public static Bound integerDotBound(ElementType out) {
        return Bound.of("exact integer sum, then 4*2^-24*|ref| + ulp(" + out + ")/2 for the scaling",
                (r, c, ref) -> 4 * U * Math.abs(ref) + Tolerances.halfUlp(out, ref) + 1e-30, null);
    }

    /** Bit-identical after rounding to the output type: no error allowed. */
    public static Bound exactBound() {
        return Bound.of("exact (no rounding beyond the output's own)", (r, c, ref) -> 0, null);
    }

    /** {@code sum_i |a_ri * b_ci|} over decoded elements, in double: the scale of a dot product's rounding error. */
    public static double[][] sumAbsProducts(Tensor a, Tensor b) {
        double[][] out = new double[(int) a.rows()][(int) b.rows()];
        float[] ad = a.toFloatArray();
        float[] bd = b.toFloatArray();
        int d = a.cols();
        for (int r = 0; r < a.rows(); r++) {
            for (int c = 0; c < b.rows(); c++) {
                double s = 0;
                for (int i = 0; i < d; i++) {
                    s += Math.abs((double) ad[r * d + i] * bd[c * d + i]);
                }
                out[r][c] = s;
            }
        }
        return out;
    }

    /** Whether both operands take the exact integer path of the contract. */
    public static boolean integerPath(Tensor a, Tensor b) {
        return a.type().isQuantized() && b.type().isQuantized();
    }

    // ---- comparisons ----

    /**
     * Every element of {@code got} within {@code bound} of the oracle's {@code ref} (same shape; ref is usually
     * F32). An infinite result is accepted only where the reference, within the bound, overflows the output type.
     */
    public static void within(String name, Tensor got, Tensor ref, Bound bound) {
        checkShape(name, got, ref);
        for (long r = 0; r < got.rows(); r++) {
            for (int c = 0; c < got.cols(); c++) {
                double g = got.get(r, c);
                double e = ref.get(r, c);
                double tol = bound.at(r, c, e);
                if (!close(g, e, tol, got.type())) {
                    throw new AssertionError(name + position(got, r, c) + " differs: got " + show(got, r, c)
                            + ", expected " + num(e) + " (oracle), |got - expected| = " + num(Math.abs(g - e))
                            + " > allowed " + num(tol) + " = " + bound.explain(r, c, e));
                }
            }
        }
    }

    /**
     * The relative Frobenius error of {@code got} against {@code ref} ({@link Tolerances#relativeFrobenius}) within
     * {@code bound}: SPEC.md's tolerance of the TrainOps, whose outputs are products of products. On failure, names
     * the bound's formula and the element with the largest difference.
     */
    public static void withinFrobenius(String name, Tensor got, Tensor ref, double bound, String formula) {
        checkShape(name, got, ref);
        int cols = got.cols();
        double[] g = new double[(int) got.rows() * cols];
        double[] e = new double[g.length];
        int worst = 0;
        for (int i = 0; i < g.length; i++) {
            g[i] = got.get(i / cols, i % cols);
            e[i] = ref.get(i / cols, i % cols);
            if (!(Math.abs(g[i] - e[i]) <= Math.abs(g[worst] - e[worst]))) {
                worst = i;
            }
        }
        double error = Tolerances.relativeFrobenius(g, e);
        if (!(error <= bound)) {
            throw new AssertionError(name + " " + got.shapeString() + ": relative Frobenius error " + num(error)
                    + " > allowed " + num(bound) + " = " + formula + "; largest difference" + position(got,
                    worst / cols, worst % cols) + ": got " + show(got, worst / cols, worst % cols) + ", expected "
                    + num(e[worst]) + " (oracle)");
        }
    }

    /**
     * Every element numerically equal ({@code -0.0 == +0.0}; NaN equals NaN): for ops whose result is one of
     * the inputs or a single correctly rounded operation.
     */
    public static void sameValues(String name, Tensor got, Tensor ref) {
        checkShape(name, got, ref);
        for (long r = 0; r < got.rows(); r++) {
            for (int c = 0; c < got.cols(); c++) {
                float g = got.get(r, c);
                float e = ref.get(r, c);
                if (!(g == e || (Float.isNaN(g) && Float.isNaN(e)))) {
                    throw new AssertionError(name + position(got, r, c) + " differs: got " + show(got, r, c)
                            + ", expected " + show(ref, r, c) + " (oracle); allowed tolerance 0 (exact op)");
                }
            }
        }
    }

    /** Identical storage bits of every element (and identical scales for integer types). */
    public static void sameBits(String name, Tensor got, Tensor ref) {
        checkShape(name, got, ref);
        if (got.type() != ref.type()) {
            throw new AssertionError(name + ": element type " + got.type() + ", expected " + ref.type());
        }
        for (long r = 0; r < got.rows(); r++) {
            if (got.type().isQuantized()
                    && Float.floatToRawIntBits(got.scale(r)) != Float.floatToRawIntBits(ref.scale(r))) {
                throw new AssertionError(name + " scale of row " + r + " differs: got " + got.scale(r) + " (0x"
                        + Integer.toHexString(Float.floatToRawIntBits(got.scale(r))) + "), expected " + ref.scale(r)
                        + " (0x" + Integer.toHexString(Float.floatToRawIntBits(ref.scale(r)))
                        + "); allowed: bit-exact");
            }
            for (int c = 0; c < got.cols(); c++) {
                if (bits(got, r, c) != bits(ref, r, c)) {
                    throw new AssertionError(name + position(got, r, c) + " differs: got " + show(got, r, c)
                            + ", expected " + show(ref, r, c) + " (oracle); allowed: bit-exact");
                }
            }
        }
    }

    /** Identical int lists (indices, counts); {@code what} names each entry in the report. */
    public static void sameInts(String name, int[] got, int[] ref) {
        if (got.length != ref.length) {
            int at = java.util.Arrays.mismatch(got, ref);
            throw new AssertionError(name + " has " + got.length + " entries, expected " + ref.length
                    + (at >= 0 && at < Math.min(got.length, ref.length)
                    ? "; first difference at [" + at + "]: got " + got[at] + ", expected " + ref[at]
                    : "") + "; got " + abbreviate(got) + ", expected " + abbreviate(ref));
        }
        int at = java.util.Arrays.mismatch(got, ref);
        if (at >= 0) {
            throw new AssertionError(name + "[" + at + "] differs: got " + got[at] + ", expected " + ref[at]
                    + " (oracle); allowed: bit-exact; got " + abbreviate(got) + ", expected " + abbreviate(ref));
        }
    }

    /** Identical bits {@code [0, length)} of two bitmaps, and {@code got}'s bits past the length all 0. */
    public static void sameBits(String name, Bitmap got, Bitmap ref) {
        if (got.length() != ref.length()) {
            throw new AssertionError(name + " has " + got.length() + " bits, expected " + ref.length());
        }
        long full = got.length() >>> 6; // whole words first: a 2^24-bit map in a quarter of a million steps
        for (long w = 0; w <= full && w < Bitmap.wordCount(got.length()); w++) {
            long diff = got.word(w) ^ ref.word(w);
            long i = (w << 6) + Long.numberOfTrailingZeros(diff);
            if (diff != 0 && i < got.length()) {
                throw new AssertionError(name + "[" + i + "] differs: got " + got.get(i) + ", expected " + ref.get(i)
                        + " (oracle); allowed: bit-exact");
            }
        }
        int tailBits = (int) (got.length() & 63);
        if (tailBits != 0) {
            long lastWord = got.word(Bitmap.wordCount(got.length()) - 1);
            if ((lastWord >>> tailBits) != 0) {
                throw new AssertionError(name + " has bits set past its length " + got.length() + " (last word 0x"
                        + Long.toHexString(lastWord) + "); the Bitmap contract keeps them 0");
            }
        }
    }

    /**
     * SPEC.md's topK rule for computed scores: {@code count = min(k, n)} entries, no duplicates, sorted in the
     * total order by the reference scores within {@code tau}, every returned index scores {@code >= ref_k - tau},
     * and every index scoring {@code > ref_k + tau} is returned.
     *
     * @param ref the reference (double) score of every position
     */
    public static void topKSetRule(String name, int[] idx, int k, double[] ref, double tau) {
        int n = ref.length;
        int count = Math.min(k, n);
        if (idx.length != count) {
            throw new AssertionError(name + " has " + idx.length + " entries, expected min(k=" + k + ", n=" + n
                    + ") = " + count);
        }
        boolean[] seen = new boolean[n];
        for (int j = 0; j < count; j++) {
            if (idx[j] < 0 || idx[j] >= n) {
                throw new AssertionError(name + "[" + j + "] = " + idx[j] + " is outside [0, " + n + ")");
            }
            if (seen[idx[j]]) {
                throw new AssertionError(name + "[" + j + "] = " + idx[j] + " is returned twice");
            }
            seen[idx[j]] = true;
            if (j > 0 && ref[idx[j]] > ref[idx[j - 1]] + 2 * tau) {
                throw new AssertionError(name + " is not sorted: [" + (j - 1) + "] = " + idx[j - 1] + " (score "
                        + num(ref[idx[j - 1]]) + ") before [" + j + "] = " + idx[j] + " (score " + num(ref[idx[j]])
                        + "), allowed tau=" + num(tau));
            }
        }
        double[] sorted = ref.clone();
        java.util.Arrays.sort(sorted);
        double refK = sorted[n - count];
        for (int j = 0; j < count; j++) {
            if (ref[idx[j]] < refK - tau) {
                throw new AssertionError(name + "[" + j + "] = " + idx[j] + " scores " + num(ref[idx[j]])
                        + " < the k-th best " + num(refK) + " - tau " + num(tau));
            }
        }
        for (int i = 0; i < n; i++) {
            if (ref[i] > refK + tau && !seen[i]) {
                throw new AssertionError(name + " misses position " + i + " scoring " + num(ref[i])
                        + " > the k-th best " + num(refK) + " + tau " + num(tau));
            }
        }
    }

    // ---- helpers ----

    /** Whether {@code got} is within {@code tol} of {@code ref}, or an overflow the bound allows. */
    static boolean close(double got, double ref, double tol, ElementType out) {
        if (got == ref) {
            return true;
        }
        if (Double.isInfinite(got) && !Double.isInfinite(ref)) {
            // the output type overflowed: allowed only when the reference, within the bound, rounds to infinity
            return Math.signum(got) == Math.signum(ref) && Math.abs(ref) + tol >= overflow(out);
        }
        return Math.abs(got - ref) <= tol;
    }

    /** The smallest magnitude that rounds to infinity in {@code type}. */
    static double overflow(ElementType type) {
        return switch (type) {
            case F16 -> 65520.0;
            case BF16 -> Math.scalb(2.0 - 0x1p-8, 127);
            default -> Math.scalb(2.0 - 0x1p-24, 127);
        };
    }

    private static void checkShape(String name, Tensor got, Tensor ref) {
        if (got.rows() != ref.rows() || got.cols() != ref.cols()) {
            throw new AssertionError(name + " has shape [" + got.rows() + ", " + got.cols() + "], expected ["
                    + ref.rows() + ", " + ref.cols() + "]");
        }
    }

    private static String position(Tensor t, long r, int c) {
        return t.rows() == 1 ? "[" + c + "]" : "[" + r + ", " + c + "]";
    }

    /** Storage bits of one element. */
    static int bits(Tensor t, long r, int c) {
        long at = t.offset(r, c);
        return switch (t.type()) {
            case F32 -> t.data().get(ValueLayout.JAVA_INT_UNALIGNED, at);
            case F16, BF16, I16 -> t.data().get(ValueLayout.JAVA_SHORT_UNALIGNED, at) & 0xFFFF;
            case I8 -> t.data().get(ValueLayout.JAVA_BYTE, at) & 0xFF;
        };
    }

    /** A stored element as a report shows it: decoded value and raw storage bits (or code and scale). */
    static String show(Tensor t, long r, int c) {
        if (t.type().isQuantized()) {
            return num(t.get(r, c)) + " (" + t.type() + " code " + t.code(r, c) + " * scale " + t.scale(r) + ")";
        }
        int width = t.type() == ElementType.F32 ? 8 : 4;
        return num(t.get(r, c)) + " (" + t.type() + " 0x" + String.format("%0" + width + "x", bits(t, r, c)) + ")";
    }

    /** A number with enough digits to tell f32 values apart. */
    static String num(double v) {
        if (v == 0 && 1 / v < 0) {
            return "-0.0";
        }
        if (v == 0 || Double.isNaN(v) || Double.isInfinite(v)) {
            return Double.toString(v);
        }
        return String.format(Locale.ROOT, "%.9g", v);
    }

    private static String abbreviate(int[] a) {
        if (a.length <= 24) {
            return java.util.Arrays.toString(a);
        }
        return java.util.Arrays.toString(java.util.Arrays.copyOf(a, 24)).replace("]", ", ... (" + a.length + ")]");
    }
}
