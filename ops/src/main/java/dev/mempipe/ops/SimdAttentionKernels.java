package dev.mempipe.ops;

import static dev.mempipe.ops.SimdRows.F;
import static dev.mempipe.ops.SimdRows.LANES;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

/**
 * The inner loops of {@link SimdAttention}, over a block of K/V rows gathered into a heap array (rows at a
 * fixed stride), where the JIT can hoist the bounds checks out of the loops.
 *
 * <p>Dot products come {@link #DOT_ROWS} rows at a time (one per lane) for one query head: one vector
 * accumulator per row, then a transposing reduction ({@link #fold}) that leaves row r's sum in lane r. A
 * lane reduction per row ({@code reduceLanes(ADD)}) would be a chain of LANES dependent scalar adds on x86
 * and cost more than the dot product itself at d = 128.
 */
final class SimdAttentionKernels {
    /** Rows per transposed dot product: one per lane where a kernel exists for the lane count, else 1. */
    static final int DOT_ROWS = LANES == 16 || LANES == 8 ? LANES : 1;

    // fold(x, y, MASK_s, SWAP_s): lanes with bit s clear get x[i] + x[i ^ s], lanes with it set y[i] + y[i ^ s].
    private static final VectorMask<Float> MASK_8 = mask(8);
    private static final VectorMask<Float> MASK_4 = mask(4);
    private static final VectorMask<Float> MASK_2 = mask(2);
    private static final VectorMask<Float> MASK_1 = mask(1);
    private static final VectorShuffle<Float> SWAP_8 = swap(8);
    private static final VectorShuffle<Float> SWAP_4 = swap(4);
    private static final VectorShuffle<Float> SWAP_2 = swap(2);
    private static final VectorShuffle<Float> SWAP_1 = swap(1);

    private SimdAttentionKernels() {
    }

    private static VectorMask<Float> mask(int bit) {
        boolean[] set = new boolean[LANES];
        for (int i = 0; i < LANES; i++) {
            set[i] = (i & bit) != 0;
        }
        return VectorMask.fromArray(F, set, 0);
    }

    private static VectorShuffle<Float> swap(int bit) {
        return VectorShuffle.fromOp(F, i -> (i ^ bit) % LANES);
    }

    private static FloatVector fold(FloatVector x, FloatVector y, VectorMask<Float> m, VectorShuffle<Float> s) {
        return x.blend(y, m).add(y.blend(x, m).rearrange(s));
    }

    /**
     * {@code out[outOff + r] = scale * <q[qOff, qOff+d), k[base + r*stride, +d)>} for r in [0, DOT_ROWS), for
     * DOT_ROWS = 16. Each row's sum: its vector accumulator, folded, then the scalar tail {@code [d - d%LANES, d)}.
     */
    static void dots16(float[] q, int qOff, int d, float[] k, int base, int stride, float scale, float[] out,
                       int outOff, float[] sums) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F);
        FloatVector a5 = FloatVector.zero(F);
        FloatVector a6 = FloatVector.zero(F);
        FloatVector a7 = FloatVector.zero(F);
        FloatVector a8 = FloatVector.zero(F);
        FloatVector a9 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F);
        FloatVector a11 = FloatVector.zero(F);
        FloatVector a12 = FloatVector.zero(F);
        FloatVector a13 = FloatVector.zero(F);
        FloatVector a14 = FloatVector.zero(F);
        FloatVector a15 = FloatVector.zero(F);
        int bound = F.loopBound(d);
        for (int c = 0; c < bound; c += LANES) {
            FloatVector qv = FloatVector.fromArray(F, q, qOff + c);
            int o = base + c;
            a0 = qv.fma(FloatVector.fromArray(F, k, o), a0);
            a1 = qv.fma(FloatVector.fromArray(F, k, o + stride), a1);
            a2 = qv.fma(FloatVector.fromArray(F, k, o + 2 * stride), a2);
            a3 = qv.fma(FloatVector.fromArray(F, k, o + 3 * stride), a3);
            a4 = qv.fma(FloatVector.fromArray(F, k, o + 4 * stride), a4);
            a5 = qv.fma(FloatVector.fromArray(F, k, o + 5 * stride), a5);
            a6 = qv.fma(FloatVector.fromArray(F, k, o + 6 * stride), a6);
            a7 = qv.fma(FloatVector.fromArray(F, k, o + 7 * stride), a7);
            a8 = qv.fma(FloatVector.fromArray(F, k, o + 8 * stride), a8);
            a9 = qv.fma(FloatVector.fromArray(F, k, o + 9 * stride), a9);
            a10 = qv.fma(FloatVector.fromArray(F, k, o + 10 * stride), a10);
            a11 = qv.fma(FloatVector.fromArray(F, k, o + 11 * stride), a11);
            a12 = qv.fma(FloatVector.fromArray(F, k, o + 12 * stride), a12);
            a13 = qv.fma(FloatVector.fromArray(F, k, o + 13 * stride), a13);
            a14 = qv.fma(FloatVector.fromArray(F, k, o + 14 * stride), a14);
            a15 = qv.fma(FloatVector.fromArray(F, k, o + 15 * stride), a15);
        }
        // The accumulators go through scratch so that the fold runs in its own (small) compiled method: inlined
        // here, the kernel exceeds the JIT's node budget and the vectors get boxed.
        a0.intoArray(sums, 0);
        a1.intoArray(sums, 16);
        a2.intoArray(sums, 2 * 16);
        a3.intoArray(sums, 3 * 16);
        a4.intoArray(sums, 4 * 16);
        a5.intoArray(sums, 5 * 16);
        a6.intoArray(sums, 6 * 16);
        a7.intoArray(sums, 7 * 16);
        a8.intoArray(sums, 8 * 16);
        a9.intoArray(sums, 9 * 16);
        a10.intoArray(sums, 10 * 16);
        a11.intoArray(sums, 11 * 16);
        a12.intoArray(sums, 12 * 16);
        a13.intoArray(sums, 13 * 16);
        a14.intoArray(sums, 14 * 16);
        a15.intoArray(sums, 15 * 16);
        fold16(sums, out, outOff);
        finish(q, qOff, d, bound, k, base, stride, scale, out, outOff);
    }

    /** Row r's lane sum into {@code out[outOff + r]}, for the 16 accumulators in {@code sums}. */
    private static void fold16(float[] sums, float[] out, int outOff) {
        FloatVector b0 = fold(FloatVector.fromArray(F, sums, 0), FloatVector.fromArray(F, sums, 8 * 16), MASK_8, SWAP_8);
        FloatVector b1 = fold(FloatVector.fromArray(F, sums, 16), FloatVector.fromArray(F, sums, 9 * 16), MASK_8, SWAP_8);
        FloatVector b2 = fold(FloatVector.fromArray(F, sums, 2 * 16), FloatVector.fromArray(F, sums, 10 * 16), MASK_8, SWAP_8);
        FloatVector b3 = fold(FloatVector.fromArray(F, sums, 3 * 16), FloatVector.fromArray(F, sums, 11 * 16), MASK_8, SWAP_8);
        FloatVector b4 = fold(FloatVector.fromArray(F, sums, 4 * 16), FloatVector.fromArray(F, sums, 12 * 16), MASK_8, SWAP_8);
        FloatVector b5 = fold(FloatVector.fromArray(F, sums, 5 * 16), FloatVector.fromArray(F, sums, 13 * 16), MASK_8, SWAP_8);
        FloatVector b6 = fold(FloatVector.fromArray(F, sums, 6 * 16), FloatVector.fromArray(F, sums, 14 * 16), MASK_8, SWAP_8);
        FloatVector b7 = fold(FloatVector.fromArray(F, sums, 7 * 16), FloatVector.fromArray(F, sums, 15 * 16), MASK_8, SWAP_8);
        FloatVector c0 = fold(b0, b4, MASK_4, SWAP_4);
        FloatVector c1 = fold(b1, b5, MASK_4, SWAP_4);
        FloatVector c2 = fold(b2, b6, MASK_4, SWAP_4);
        FloatVector c3 = fold(b3, b7, MASK_4, SWAP_4);
        FloatVector e0 = fold(c0, c2, MASK_2, SWAP_2);
        FloatVector e1 = fold(c1, c3, MASK_2, SWAP_2);
        fold(e0, e1, MASK_1, SWAP_1).intoArray(out, outOff);
    }

    /** {@link #dots16} for DOT_ROWS = 8 (256-bit vectors). */
    static void dots8(float[] q, int qOff, int d, float[] k, int base, int stride, float scale, float[] out,
                      int outOff, float[] sums) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F);
        FloatVector a5 = FloatVector.zero(F);
        FloatVector a6 = FloatVector.zero(F);
        FloatVector a7 = FloatVector.zero(F);
        int bound = F.loopBound(d);
        for (int c = 0; c < bound; c += LANES) {
            FloatVector qv = FloatVector.fromArray(F, q, qOff + c);
            int o = base + c;
            a0 = qv.fma(FloatVector.fromArray(F, k, o), a0);
            a1 = qv.fma(FloatVector.fromArray(F, k, o + stride), a1);
            a2 = qv.fma(FloatVector.fromArray(F, k, o + 2 * stride), a2);
            a3 = qv.fma(FloatVector.fromArray(F, k, o + 3 * stride), a3);
            a4 = qv.fma(FloatVector.fromArray(F, k, o + 4 * stride), a4);
            a5 = qv.fma(FloatVector.fromArray(F, k, o + 5 * stride), a5);
            a6 = qv.fma(FloatVector.fromArray(F, k, o + 6 * stride), a6);
            a7 = qv.fma(FloatVector.fromArray(F, k, o + 7 * stride), a7);
        }
        a0.intoArray(sums, 0);
        a1.intoArray(sums, 8);
        a2.intoArray(sums, 2 * 8);
        a3.intoArray(sums, 3 * 8);
        a4.intoArray(sums, 4 * 8);
        a5.intoArray(sums, 5 * 8);
        a6.intoArray(sums, 6 * 8);
        a7.intoArray(sums, 7 * 8);
        fold8(sums, out, outOff);
        finish(q, qOff, d, bound, k, base, stride, scale, out, outOff);
    }

    private static void fold8(float[] sums, float[] out, int outOff) {
        FloatVector b0 = fold(FloatVector.fromArray(F, sums, 0), FloatVector.fromArray(F, sums, 4 * 8), MASK_4, SWAP_4);
        FloatVector b1 = fold(FloatVector.fromArray(F, sums, 8), FloatVector.fromArray(F, sums, 5 * 8), MASK_4, SWAP_4);
        FloatVector b2 = fold(FloatVector.fromArray(F, sums, 2 * 8), FloatVector.fromArray(F, sums, 6 * 8), MASK_4, SWAP_4);
        FloatVector b3 = fold(FloatVector.fromArray(F, sums, 3 * 8), FloatVector.fromArray(F, sums, 7 * 8), MASK_4, SWAP_4);
        FloatVector c0 = fold(b0, b2, MASK_2, SWAP_2);
        FloatVector c1 = fold(b1, b3, MASK_2, SWAP_2);
        fold(c0, c1, MASK_1, SWAP_1).intoArray(out, outOff);
    }

    /** Adds the scalar tails past {@code bound} to the rows' sums in {@code out} and scales them. */
    private static void finish(float[] q, int qOff, int d, int bound, float[] k, int base, int stride, float scale,
                               float[] out, int outOff) {
        for (int r = 0; r < LANES; r++) {
            float s = out[outOff + r];
            for (int c = bound; c < d; c++) {
                s = Math.fma(q[qOff + c], k[base + r * stride + c], s);
            }
            out[outOff + r] = scale * s;
        }
    }

    /** One row: {@code scale * <q[qOff, qOff+d), k[at, at+d)>} (block tails and other lane counts). */
    static float dot(float[] q, int qOff, int d, float[] k, int at, float scale) {
        FloatVector a = FloatVector.zero(F);
        int c = 0;
        for (int bound = F.loopBound(d); c < bound; c += LANES) {
            a = FloatVector.fromArray(F, q, qOff + c).fma(FloatVector.fromArray(F, k, at + c), a);
        }
        float s = a.reduceLanes(VectorOperators.ADD);
        for (; c < d; c++) {
            s = Math.fma(q[qOff + c], k[at + c], s);
        }
        return scale * s;
    }

    /**
     * {@code acc[accOff + i] += w[wOff + r] * v[base + r*stride + i]} for r = 0..7 in order, each a fused
     * multiply-add, so the result equals eight calls of {@link #accumulate1} in row order.
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
