package dev.mempipe.ops;

import static dev.mempipe.ops.SimdRows.F;
import static dev.mempipe.ops.SimdRows.LANES;

import dev.mempipe.spi.ApplyOps;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.OpArgs;
import dev.mempipe.spi.Tensor;
import jdk.incubator.vector.FloatVector;

/** Stage 4 on the Vector API. Attention lives in {@link SimdAttention}. */
final class SimdApplyOps implements ApplyOps {
    /**
     * Rows per softRetrieve chunk: partial sums are added in chunk order, and the chunking depends on the row
     * count only, so the result does not depend on the thread count.
     */
    private static final long SOFT_RETRIEVE_CHUNK_ROWS = 4096;

    private final Capabilities caps;
    private final SimdState state;

    SimdApplyOps(Capabilities caps, SimdState state) {
        this.state = state;
        this.caps = caps;
    }

    @Override
    public void attention(Tensor q, Tensor keys, Tensor values, int kvHeads, Indices idx, float scale, Tensor out) {
        state.ensureOpen("attention");
        OpArgs.attention(caps, q, keys, values, kvHeads, idx, scale, out);
        SimdAttention.attention(q, keys, values, kvHeads, idx, scale, out);
    }

    @Override
    public void softRetrieve(Tensor a, Tensor v, Tensor out) {
        state.ensureOpen("softRetrieve");
        OpArgs.softRetrieve(caps, a, v, out);
        int n = a.cols();
        int d = v.cols();
        float[] weights = new float[n];
        SimdRows.decode(a, 0, weights);
        int chunks = (int) Math.max(1, (n + SOFT_RETRIEVE_CHUNK_ROWS - 1) / SOFT_RETRIEVE_CHUNK_ROWS);
        float[][] partial = new float[chunks][];
        Parallel.forRange(chunks, 1, (from, to) -> {
            float[] row = new float[d];
            for (long c = from; c < to; c++) {
                float[] acc = new float[d];
                long end = Math.min(n, (c + 1) * SOFT_RETRIEVE_CHUNK_ROWS);
                for (long r = c * SOFT_RETRIEVE_CHUNK_ROWS; r < end; r++) {
                    SimdRows.decode(v, r, row);
                    axpy(weights[(int) r], row, acc, d);
                }
                partial[(int) c] = acc;
            }
        }, SimdPrepareOps.touched(v));
        float[] o = partial[0];
        for (int c = 1; c < chunks; c++) {
            axpy(1f, partial[c], o, d);
        }
        SimdRows.encode(o, out, 0);
    }

    /** {@code acc += w * x}, fused. */
    private static void axpy(float w, float[] x, float[] acc, int d) {
        FloatVector wv = FloatVector.broadcast(F, w);
        int i = 0;
        for (int bound = F.loopBound(d); i < bound; i += LANES) {
            FloatVector.fromArray(F, x, i).fma(wv, FloatVector.fromArray(F, acc, i)).intoArray(acc, i);
        }
        for (; i < d; i++) {
            acc[i] = Math.fma(x[i], w, acc[i]);
        }
    }
}
