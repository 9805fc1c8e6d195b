package dev.mempipe.fpga;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.FusedOps;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.OpArgs;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;

/**
 * The fused ops of {@link XrtBackend}, each one kernel run (per block of at most 64 query rows): the score kernel
 * with its top-k, groupMax + top-k or threshold tail, or the bm25 kernel with its top-k tail. The intermediate
 * scores stay on the card; only the selection (or the bitmap) comes back.
 *
 * <p>Arguments are checked as the composition that defines each op checks them (the same checks on a scratch
 * of the intermediate's shape), so bad input fails the same way and before anything is written. Sizes the
 * kernels do not fuse fall back to that composition, on this backend's own ops: an empty side, a threshold over
 * more than 64 query rows, an indexer with more than 64 heads. Thread-safe as the backend is.
 */
final class XrtFusedOps implements FusedOps {
    private final XrtBackend backend;

    XrtFusedOps(XrtBackend backend) {
        this.backend = backend;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public int dotTopK(Tensor q, Tensor keys, int k, Indices idx, Tensor val) {
        backend.ensureOpen();
        int n = checkedRows(keys);
        try (Arena arena = Arena.ofConfined()) {
            Tensor s = scratch(arena, q, n);
            OpArgs.dot(caps(), q, keys, s);
            OpArgs.topK(caps(), s, k, idx, val);
        }
        if (n == 0 || q.rows() == 0 || q.cols() == 0) {
            return FusedOps.super.dotTopK(q, keys, k, idx, val);
        }
        int count = Math.min(k, n);
        return backend.scoreTopK(q, keys, null, null, null, null, XrtBackend.OP_DOT, 0, n, count, idx, val);
    }

    @Override
    public int dotGroupMaxTopK(Tensor q, Tensor keys, int groupSize, int k, Indices idx, Tensor val) {
        backend.ensureOpen();
        int n = checkedRows(keys);
        try (Arena arena = Arena.ofConfined()) {
            Tensor s = scratch(arena, q, n);
            OpArgs.dot(caps(), q, keys, s);
            if (groupSize <= 0) {
                throw new IllegalArgumentException("dotGroupMaxTopK: g must be >= 1, got " + groupSize);
            }
            Tensor y = scratch(arena, q, (int) OpArgs.ceilDiv(n, groupSize));
            OpArgs.groupMax(caps(), s, groupSize, y);
            OpArgs.topK(caps(), y, k, idx, val);
        }
        if (n == 0 || q.rows() == 0 || q.cols() == 0) {
            return FusedOps.super.dotGroupMaxTopK(q, keys, groupSize, k, idx, val);
        }
        int groups = (int) OpArgs.ceilDiv(n, groupSize);
        int count = Math.min(k, groups);
        return backend.scoreTopK(q, keys, null, null, null, null, XrtBackend.OP_DOT, groupSize, groups, count, idx,
                val);
    }

    @Override
    public void dotThreshold(Tensor q, Tensor keys, float t, Bitmap out) {
        backend.ensureOpen();
        int n = checkedRows(keys);
        try (Arena arena = Arena.ofConfined()) {
            Tensor s = scratch(arena, q, n);
            OpArgs.dot(caps(), q, keys, s);
            OpArgs.threshold(caps(), s, t, out);
        }
        if (n == 0 || q.rows() == 0 || q.cols() == 0 || q.rows() > XrtBackend.MAX_QUERY_ROWS) {
            FusedOps.super.dotThreshold(q, keys, t, out);
            return;
        }
        backend.dotThreshold(q, keys, t, out);
    }

    @Override
    public int questBoundTopK(Tensor q, Tensor min, Tensor max, int k, Indices idx, Tensor val) {
        backend.ensureOpen();
        int pages = checkedRows(min);
        try (Arena arena = Arena.ofConfined()) {
            Tensor s = scratch(arena, q, pages);
            OpArgs.questBound(caps(), q, min, max, s);
            OpArgs.topK(caps(), s, k, idx, val);
        }
        if (pages == 0 || q.rows() == 0 || q.cols() == 0) {
            return FusedOps.super.questBoundTopK(q, min, max, k, idx, val);
        }
        int count = Math.min(k, pages);
        return backend.scoreTopK(q, null, min, max, null, null, XrtBackend.OP_QUEST_BOUND, 0, pages, count, idx,
                val);
    }

    @Override
    public int indexerTopK(Tensor q, Tensor w, Tensor keys, Tensor kScale, int k, Indices idx, Tensor val) {
        backend.ensureOpen();
        int n = checkedRows(keys);
        try (Arena arena = Arena.ofConfined()) {
            Tensor s = Tensor.allocate(arena, ElementType.F32, 1, n);
            OpArgs.indexerScore(caps(), q, w, keys, kScale, s);
            OpArgs.topK(caps(), s, k, idx, val);
        }
        if (n == 0 || q.rows() == 0 || q.cols() == 0 || q.rows() > XrtBackend.MAX_QUERY_ROWS) {
            return FusedOps.super.indexerTopK(q, w, keys, kScale, k, idx, val);
        }
        int count = Math.min(k, n);
        return backend.scoreTopK(q, keys, null, null, w, kScale, XrtBackend.OP_INDEXER, 0, n, count, idx, val);
    }

    @Override
    public int bm25TopK(Indices query, Bm25Index index, Bm25Params params, int k, Indices idx, Tensor val) {
        backend.ensureOpen();
        if (index == null) {
            throw new IllegalArgumentException("bm25TopK: argument 'index' must not be null");
        }
        try (Arena arena = Arena.ofConfined()) {
            Tensor s = Tensor.allocate(arena, ElementType.F32, 1, index.numDocs());
            OpArgs.bm25Score(caps(), query, index, params, s);
            OpArgs.topK(caps(), s, k, idx, val);
        }
        if (index.numDocs() == 0) {
            return FusedOps.super.bm25TopK(query, index, params, k, idx, val);
        }
        return backend.bm25TopK(query, index, params, Math.min(k, index.numDocs()), idx, val);
    }

    private Capabilities caps() {
        return backend.capabilities();
    }

    /** The rows of a tensor argument the kernel indexes with an int (null is left to the op's own check). */
    private static int checkedRows(Tensor t) {
        if (t != null && t.rows() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("argument with " + t.rows() + " rows: the score kernel indexes rows"
                    + " with 32-bit ints");
        }
        return t == null ? 0 : (int) t.rows();
    }

    /** An F32 tensor of the intermediate's shape [q rows, cols], only for the composition's argument checks. */
    private static Tensor scratch(Arena arena, Tensor q, int cols) {
        long rows = q == null ? 0 : q.rows();
        return Tensor.allocate(arena, ElementType.F32, rows, cols);
    }
}
