package dev.mempipe.ops;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.FusedOps;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.OpArgs;
import dev.mempipe.spi.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * The CPU backend's fused ops: {@code dotTopK} runs fused ({@link SimdDotTopK}: no score matrix, the blocked
 * kernel for batches); the others are {@link FusedOps}' compositions of this backend's ops. Integer queries
 * against integer keys (exact {@code long} sums) keep the composition, whose {@code dot} is exact. Stateless
 * and thread-safe.
 */
final class SimdFusedOps implements FusedOps {
    private final Backend backend;
    private final Capabilities caps;
    private final SimdState state;

    SimdFusedOps(Backend backend, Capabilities caps, SimdState state) {
        this.backend = backend;
        this.caps = caps;
        this.state = state;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public int dotTopK(Tensor q, Tensor keys, int k, Indices idx, Tensor val) {
        return dotTopK(q, keys, null, null, k, idx, val);
    }

    @Override
    public int dotTopK(Tensor q, Tensor keys, Tensor w, Bitmap accept, int k, Indices idx, Tensor val) {
        state.ensureOpen("dotTopK");
        OpArgs.dotTopK(caps, q, keys, w, accept, k, idx, val);
        if (q.type().isQuantized() && keys.type().isQuantized()) {
            return FusedOps.super.dotTopK(q, keys, w, accept, k, idx, val);
        }
        int m = Math.toIntExact(q.rows());
        int d = q.cols();
        float[][] qs = new float[m][];
        float[] row = new float[d];
        for (int j = 0; j < m; j++) {
            SimdRows.decode(q, j, row);
            qs[j] = SimdDotKernels.layout(row, d, keys.type());
        }
        MemorySegment[] touched = {keys.data(), keys.scales(), w == null ? null : w.data(),
                accept == null ? null : accept.words()};
        return SimdDotTopK.search(qs, keys, w, accept, k, idx, val, touched);
    }
}
