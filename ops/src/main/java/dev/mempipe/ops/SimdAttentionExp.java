package dev.mempipe.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * {@code exp(x)} for {@code x <= 0}, the only arguments online softmax needs ({@code logit - runningMax}).
 *
 * <p>Why not {@code lanewise(EXP)}: its result depends on whether the JIT intrinsified the call (SVML) or
 * ran the Java fallback, so one call could differ from the next while the code warms up, and dense attention
 * would no longer equal sparse attention over every row bit for bit. This is the Cephes {@code expf}
 * polynomial (about 1 ulp on {@code [-87, 0]}) built from IEEE add, multiply and fused multiply-add only,
 * which give the same bits in every tier. Results below {@code e^-87 ~ 1.6e-38} flush to 0: a weight that
 * small cannot change a softmax whose largest weight is 1.
 */
final class SimdAttentionExp {
    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 split so that {@code n * LN2_HI} is exact for the |n| <= 126 used here (Cephes C1, C2). */
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** Adding 1.5 * 2^23 rounds to an integer (ties to even) and leaves it in the low mantissa bits. */
    private static final float ROUND = 0x1.8p23f;
    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    private static final float FLUSH_BELOW = -87f;
    private static final float P0 = 1.9875691500E-4f;
    private static final float P1 = 1.3981999507E-3f;
    private static final float P2 = 8.3334519073E-3f;
    private static final float P3 = 4.1665795894E-2f;
    private static final float P4 = 1.6666665459E-1f;
    private static final float P5 = 5.0000001201E-1f;

    private SimdAttentionExp() {
    }

    /** Lane-wise {@code exp(x)} for lanes {@code <= 0} (and -inf); NaN stays NaN. */
    static FloatVector expNonPositive(FloatVector x) {
        VectorMask<Float> flush = x.lt(FLUSH_BELOW);
        FloatVector xc = x.max(FLUSH_BELOW);
        FloatVector t = xc.fma(LOG2E, ROUND);
        FloatVector n = t.sub(ROUND);
        FloatVector r = n.fma(bc(-LN2_HI), xc);
        r = n.fma(bc(-LN2_LO), r);
        FloatVector p = r.fma(P0, P1);
        p = p.fma(r, bc(P2));
        p = p.fma(r, bc(P3));
        p = p.fma(r, bc(P4));
        p = p.fma(r, bc(P5));
        FloatVector r2 = r.mul(r);
        p = p.fma(r2, r).add(1f);
        // 2^n from the integer left in t's mantissa: n in [-126, 0] keeps the exponent field normal.
        FloatVector pow2 = ((IntVector) t.reinterpretAsInts())
                .sub(ROUND_BITS - 127)
                .lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats();
        return p.mul(pow2).blend(0f, flush);
    }

    private static FloatVector bc(float c) {
        return FloatVector.broadcast(SimdRows.F, c);
    }

    /** The scalar twin of {@link #expNonPositive(FloatVector)}, same operations in the same order. */
    static float expNonPositive(float x) {
        if (x < FLUSH_BELOW) {
            return 0f;
        }
        if (x != x) {
            return x;
        }
        float t = Math.fma(x, LOG2E, ROUND);
        float n = t - ROUND;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(r, P0, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float r2 = r * r;
        p = Math.fma(p, r2, r) + 1f;
        float pow2 = Float.intBitsToFloat((Float.floatToRawIntBits(t) - (ROUND_BITS - 127)) << 23);
        return p * pow2;
    }
}
