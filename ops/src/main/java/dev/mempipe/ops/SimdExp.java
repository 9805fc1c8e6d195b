package dev.mempipe.ops;

import static dev.mempipe.ops.SimdRows.F;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * {@code e^x} of every lane in f32, within about 2 ulps of the exact value: Cody-Waite reduction
 * {@code x = n ln 2 + r}, {@code |r| <= ln 2 / 2}, Cephes' degree-6 polynomial for {@code e^r}, and {@code 2^n} built in
 * the exponent bits. {@code lanewise(EXP)} computes the same, but where the JDK has no vector intrinsic for it (as on
 * this project's AVX-512 VMs) it runs lane by lane and took longer than the three matrix products of a SwiGLU layer.
 *
 * <p>Inputs are clamped to {@code [-87.3, 88.37]}, so results stay finite and normal: {@code e^x} below
 * {@code 1.2e-38} comes out as about {@code 1.2e-38}, above {@code 2.4e38} as about {@code 2.4e38} (the SwiGLU gate
 * {@code a / (1 + e^-a)} is then exact to f32 either way). NaN lanes give unspecified values. Stateless.
 */
final class SimdExp {
    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 split in two (Cephes): C1 has few bits, so {@code n * C1} is exact for the n that occur. */
    private static final float C1 = 0.693359375f;
    private static final float C2 = -2.12194440e-4f;
    /** 1.5 * 2^23: adding it rounds a float below 2^22 in magnitude to an integer, held in the low mantissa bits. */
    private static final float ROUND = 12582912f;
    private static final int ROUND_BITS = 0x4B400000;
    private static final float LO = -87.3f;
    /** n = round(x log2 e) must stay <= 127, or 2^n overflows: x < 127.5 ln 2. */
    private static final float HI = 88.37f;

    private SimdExp() {
    }

    static FloatVector exp(FloatVector x) {
        x = x.max(LO).min(HI);
        FloatVector t = x.fma(FloatVector.broadcast(F, LOG2E), FloatVector.broadcast(F, ROUND));
        FloatVector n = t.sub(ROUND);
        IntVector bits = t.reinterpretAsInts().sub(ROUND_BITS).add(127).lanewise(VectorOperators.LSHL, 23);
        FloatVector r = n.fma(FloatVector.broadcast(F, -C1), x);
        r = n.fma(FloatVector.broadcast(F, -C2), r);
        FloatVector p = FloatVector.broadcast(F, 1.9875691500E-4f);
        p = p.fma(r, FloatVector.broadcast(F, 1.3981999507E-3f));
        p = p.fma(r, FloatVector.broadcast(F, 8.3334519073E-3f));
        p = p.fma(r, FloatVector.broadcast(F, 4.1665795894E-2f));
        p = p.fma(r, FloatVector.broadcast(F, 1.6666665459E-1f));
        p = p.fma(r, FloatVector.broadcast(F, 5.0000001201E-1f));
        FloatVector e = p.fma(r.mul(r), r).add(1f);
        return e.mul(bits.reinterpretAsFloats());
    }
}
