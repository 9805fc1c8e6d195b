package dev.mempipe.goldentests;

import dev.mempipe.spi.ElementType;

/**
 * The error bounds of SPEC.md ("Tolerances the conformance kit uses"), derived from the arithmetic, not
 * tuned: a backend passes when it is within them, and an implementation with a real bug (a lost term, a
 * wrong scale, truncation instead of rounding) falls outside them.
 */
public final class Tolerances {
    /** Unit roundoff of f32. */
    public static final double U32 = 0x1p-24;

    private Tolerances() {
    }

    /**
     * Bound for an f32-accumulated dot-like result of length {@code d}:
     * {@code 2 * d * 2^-24 * sumAbsProducts + 1e-30}, plus half an output ulp of {@code ref} when the output
     * is stored as F16 or BF16.
     *
     * @param d              accumulation length
     * @param sumAbsProducts {@code sum_i |a_i * b_i|} computed in double from the decoded inputs
     * @param out            the output element type
     * @param ref            the reference value (computed in double)
     */
    public static double dot(long d, double sumAbsProducts, ElementType out, double ref) {
        return 2.0 * d * U32 * sumAbsProducts + 1e-30 + halfUlp(out, ref);
    }

    /** Half an ulp of {@code value} in the storage format {@code out} (0 for F32 outputs' own rounding). */
    public static double halfUlp(ElementType out, double value) {
        double a = Math.abs(value);
        return switch (out) {
            case F32 -> Math.ulp((float) a) / 2.0;
            case F16 -> Math.ulp(Float.float16ToFloat(Float.floatToFloat16((float) a))) * 0x1p13 / 2.0
                    + 0x1p-25;
            case BF16 -> Math.max(Math.ulp((float) a) * 0x1p16, 0x1p-133) / 2.0;
            case I8, I16 -> throw new IllegalArgumentException(out + " is not a float output type");
        };
    }

    /**
     * Attention bound per output coordinate: {@code c * (L + d) * 2^-24 * maxAbsV}, with c = 4, plus half an
     * output ulp.
     */
    public static double attention(long selectedRows, int d, double maxAbsV, ElementType out, double ref) {
        return 4.0 * (selectedRows + d) * U32 * maxAbsV + 1e-30 + halfUlp(out, ref);
    }

    // ---- TrainOps (SPEC.md, "Parametric memories"): products of products, bounded as a whole matrix ----

    /**
     * mlpForward: relative Frobenius error {@code 8 (d + h + 4) u}. Two products of length d feed the gate and one
     * of length h reads it; the gate's exp and division add a few roundings (the 4), and the factor 8 covers the
     * propagation through {@code silu} (|silu'| < 1.1) and the summation of one error bound per product.
     */
    public static double mlpForward(long d, long h) {
        return 8.0 * (d + h + 4) * U32;
    }

    /** mlpGradient: twice {@link #mlpForward}: the backward products reuse the forward pass's rounded results. */
    public static double mlpGradient(long d, long h) {
        return 2 * mlpForward(d, h);
    }

    /**
     * newtonSchulz: relative Frobenius error {@code 256 (r + c) u}. Each step multiplies by a quintic whose slope
     * at small singular values is {@code a = 3.4445}, so five steps amplify the f32 rounding of the products (of
     * length up to {@code r + c}) by up to a few hundred.
     */
    public static double newtonSchulz(long rows, long cols) {
        return 256.0 * (rows + cols) * U32;
    }

    /**
     * momentumUpdate's S': one product and one fused multiply-add, each rounded once (2u), against a reference that
     * rounds once more: {@code 4u (|eta S| + |theta G|)}, per element.
     */
    public static double momentum(double etaS, double thetaG) {
        return 4 * U32 * (Math.abs(etaS) + Math.abs(thetaG)) + 1e-30;
    }

    /**
     * momentumUpdate's W': S' (as {@link #momentum}) plus the rounding of {@code 1 - alpha} and of the final
     * multiply-add: {@code 6u (|(1 - alpha) W| + |eta S| + |theta G|)}, per element.
     */
    public static double momentumWeights(double keptW, double etaS, double thetaG) {
        return 6 * U32 * (Math.abs(keptW) + Math.abs(etaS) + Math.abs(thetaG)) + 1e-30;
    }

    /**
     * {@code ||got - ref||_F / ||ref||_F}, or {@code ||got - ref||_F} when ref is zero; NaN when any element of
     * {@code got} is not finite (so that every comparison with a bound fails).
     */
    public static double relativeFrobenius(double[] got, double[] ref) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < ref.length; i++) {
            if (!Double.isFinite(got[i])) {
                return Double.NaN;
            }
            double e = got[i] - ref[i];
            diff += e * e;
            norm += ref[i] * ref[i];
        }
        return norm == 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
    }
}
