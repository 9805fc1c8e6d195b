package dev.mempipe.ops;

import static dev.mempipe.ops.SimdRows.F;
import static dev.mempipe.ops.SimdRows.LANES;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The inner loops of {@link SimdAttention}, over a block of K/V rows gathered into heap arrays (rows at a
 * fixed stride), where the JIT hoists the bounds checks out of the loops. The rows are already in L1/L2
 * when these run (the gather took the cache misses), so the kernels are about instruction count.
 */
final class SimdAttentionKernels {
    /**
     * Logits of four consecutive query heads (q rows at {@code qOff}, {@code qOff + d}, ...) against one key:
     * {@code out[outOff + g * outStride] = scale * <q_g, k[at, at+d)>}. Each loaded key vector feeds four FMAs
     * (about 1.5x faster than four {@link #dot} calls); every head's sum is formed exactly as in {@link #dot}.
     */
    static void dot4(float[] q, int qOff, int d, float[] k, int at, float scale, float[] out, int outOff,
                     int outStride) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        int q1 = qOff + d;
        int q2 = q1 + d;
        int q3 = q2 + d;
        int c = 0;
        for (int bound = F.loopBound(d); c < bound; c += LANES) {
            FloatVector kv = FloatVector.fromArray(F, k, at + c);
            a0 = FloatVector.fromArray(F, q, qOff + c).fma(kv, a0);
            a1 = FloatVector.fromArray(F, q, q1 + c).fma(kv, a1);
            a2 = FloatVector.fromArray(F, q, q2 + c).fma(kv, a2);
            a3 = FloatVector.fromArray(F, q, q3 + c).fma(kv, a3);
        }
        out[outOff] = scale * tail(a0, q, qOff, d, k, at, c);
        out[outOff + outStride] = scale * tail(a1, q, q1, d, k, at, c);
        out[outOff + 2 * outStride] = scale * tail(a2, q, q2, d, k, at, c);
        out[outOff + 3 * outStride] = scale * tail(a3, q, q3, d, k, at, c);
    }

    /** {@link #dot4} for two heads. */
    static void dot2(float[] q, int qOff, int d, float[] k, int at, float scale, float[] out, int outOff,
                     int outStride) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        int q1 = qOff + d;
        int c = 0;
        for (int bound = F.loopBound(d); c < bound; c += LANES) {
            FloatVector kv = FloatVector.fromArray(F, k, at + c);
            a0 = FloatVector.fromArray(F, q, qOff + c).fma(kv, a0);
            a1 = FloatVector.fromArray(F, q, q1 + c).fma(kv, a1);
        }
        out[outOff] = scale * tail(a0, q, qOff, d, k, at, c);
        out[outOff + outStride] = scale * tail(a1, q, q1, d, k, at, c);
    }

    /** {@code scale * <q[qOff, qOff+d), k[at, at+d)>}. */
    static float dot(float[] q, int qOff, int d, float[] k, int at, float scale) {
        FloatVector a = FloatVector.zero(F);
        int c = 0;
        for (int bound = F.loopBound(d); c < bound; c += LANES) {
            a = FloatVector.fromArray(F, q, qOff + c).fma(FloatVector.fromArray(F, k, at + c), a);
        }
        return scale * tail(a, q, qOff, d, k, at, c);
    }

    /** The lane sum of {@code a}, then the scalar tail {@code [c, d)}: the one reduction order of all dots. */
    private static float tail(FloatVector a, float[] q, int qOff, int d, float[] k, int at, int c) {
        float s = SimdRows.laneSum(a);
        for (; c < d; c++) {
            s = Math.fma(q[qOff + c], k[at + c], s);
        }
        return s;
    }

    /**
     * {@code acc[accOff + i] += w[wOff + r] * v[base + r*stride + i]} for r = 0..7 in order, each a fused
     * multiply-add, so the result equals eight calls of {@link #accumulate1} in row order. Eight rows per
     * pass load and store each accumulator vector once instead of eight times (about twice as fast).
     */
    static void accumulate8(float[] acc, int accOff, int d, float[] w, int wOff, float[] v, int base, int stride) {
        float s0 = w[wOff];
        float s1 = w[wOff + 1];
        float s2 = w[wOff + 2];
        float s3 = w[wOff + 3];
        float s4 = w[wOff + 4];
        float s5 = w[wOff + 5];
        float s6 = w[wOff + 6];
        float s7 = w[wOff + 7];
        FloatVector w0 = FloatVector.broadcast(F, s0);
        FloatVector w1 = FloatVector.broadcast(F, s1);
        FloatVector w2 = FloatVector.broadcast(F, s2);
        FloatVector w3 = FloatVector.broadcast(F, s3);
        FloatVector w4 = FloatVector.broadcast(F, s4);
        FloatVector w5 = FloatVector.broadcast(F, s5);
        FloatVector w6 = FloatVector.broadcast(F, s6);
        FloatVector w7 = FloatVector.broadcast(F, s7);
        int c = 0;
        for (int bound = F.loopBound(d); c < bound; c += LANES) {
            int o = base + c;
            FloatVector a = FloatVector.fromArray(F, acc, accOff + c);
            a = FloatVector.fromArray(F, v, o).fma(w0, a);
            a = FloatVector.fromArray(F, v, o + stride).fma(w1, a);
            a = FloatVector.fromArray(F, v, o + 2 * stride).fma(w2, a);
            a = FloatVector.fromArray(F, v, o + 3 * stride).fma(w3, a);
            a = FloatVector.fromArray(F, v, o + 4 * stride).fma(w4, a);
            a = FloatVector.fromArray(F, v, o + 5 * stride).fma(w5, a);
            a = FloatVector.fromArray(F, v, o + 6 * stride).fma(w6, a);
            a = FloatVector.fromArray(F, v, o + 7 * stride).fma(w7, a);
            a.intoArray(acc, accOff + c);
        }
        for (; c < d; c++) {
            int o = base + c;
            float a = acc[accOff + c];
            a = Math.fma(v[o], s0, a);
            a = Math.fma(v[o + stride], s1, a);
            a = Math.fma(v[o + 2 * stride], s2, a);
            a = Math.fma(v[o + 3 * stride], s3, a);
            a = Math.fma(v[o + 4 * stride], s4, a);
            a = Math.fma(v[o + 5 * stride], s5, a);
            a = Math.fma(v[o + 6 * stride], s6, a);
            a = Math.fma(v[o + 7 * stride], s7, a);
            acc[accOff + c] = a;
        }
    }

    /** {@code acc[accOff + i] += weight * v[at + i]}. */
    static void accumulate1(float[] acc, int accOff, int d, float weight, float[] v, int at) {
        FloatVector wv = FloatVector.broadcast(F, weight);
        int c = 0;
        for (int bound = F.loopBound(d); c < bound; c += LANES) {
            FloatVector a = FloatVector.fromArray(F, acc, accOff + c);
            FloatVector.fromArray(F, v, at + c).fma(wv, a).intoArray(acc, accOff + c);
        }
        for (; c < d; c++) {
            acc[accOff + c] = Math.fma(v[at + c], weight, acc[accOff + c]);
        }
    }

    /**
     * Widens {@code lo/hi[off, off+d)} to cover rows {@code v[base + r*stride, +d)}, r in [0, rows). Compare
     * and blend rather than {@code min}/{@code max}: Java's NaN and signed-zero rules make those several
     * instructions each on x86, and NaN needs no care here (a NaN in V already makes the output NaN).
     */
    static void range(float[] lo, float[] hi, int off, int d, float[] v, int base, int stride, int rows) {
        int c = 0;
        for (int bound = F.loopBound(d); c < bound; c += LANES) {
            FloatVector l = FloatVector.fromArray(F, lo, off + c);
            FloatVector h = FloatVector.fromArray(F, hi, off + c);
            for (int r = 0; r < rows; r++) {
                FloatVector x = FloatVector.fromArray(F, v, base + r * stride + c);
                l = l.blend(x, x.compare(VectorOperators.LT, l));
                h = h.blend(x, x.compare(VectorOperators.GT, h));
            }
            l.intoArray(lo, off + c);
            h.intoArray(hi, off + c);
        }
        for (; c < d; c++) {
            float l = lo[off + c];
            float h = hi[off + c];
            for (int r = 0; r < rows; r++) {
                float x = v[base + r * stride + c];
                l = x < l ? x : l;
                h = x > h ? x : h;
            }
            lo[off + c] = l;
            hi[off + c] = h;
        }
    }
}
