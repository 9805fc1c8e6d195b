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
}
