package dev.mempipe.spi;

import java.lang.foreign.MemorySegment;

/**
 * Steps that run back to back on one device, as one call: the intermediate scores never leave the device.
 * Each fused op is <em>defined</em> as the composition of existing ops written in its default method, so every
 * backend has them; a device overrides the ones its hardware fuses (a scoring unit with a top-k tail). The
 * conformance kit checks that every backend's fused op equals the composition.
 *
 * <p>Row batches: the query tensors may hold m independent queries; the results follow
 * {@link RetrievalOps#topK}'s layout (row j at {@code idx[j*c, (j+1)*c)}, {@code c = min(k, n)}).
 * Bad input fails before any output is written (the composition writes only its own scratch before the last
 * op checks the outputs). Thread-safe as the backend's ops are.
 */
public interface FusedOps {

    /** The backend whose ops the default compositions call. */
    Backend backend();

    /** {@code topK(dot(Q, M), k)}: the k best rows of M for each query row. */
    default int dotTopK(Tensor q, Tensor keys, int k, Indices idx, Tensor val) {
        Tensor s = scratch(q.rows(), keys.rows(), "dotTopK");
        backend().relevancy().dot(q, keys, s);
        return backend().retrieval().topK(s, k, idx, val);
    }

    /** {@code topK(groupMax(dot(Q, M), g), k)}: the k best groups of g rows (pages scored by their best token). */
    default int dotGroupMaxTopK(Tensor q, Tensor keys, int groupSize, int k, Indices idx, Tensor val) {
        Tensor s = scratch(q.rows(), keys.rows(), "dotGroupMaxTopK");
        backend().relevancy().dot(q, keys, s);
        if (groupSize <= 0) {
            throw new IllegalArgumentException("dotGroupMaxTopK: g must be >= 1, got " + groupSize);
        }
        Tensor y = scratch(q.rows(), OpArgs.ceilDiv(keys.rows(), groupSize), "dotGroupMaxTopK");
        backend().relevancy().groupMax(s, groupSize, y);
        return backend().retrieval().topK(y, k, idx, val);
    }

    /** {@code threshold(dot(Q, M), T)}: bit {@code j*n + i} set iff {@code <Q_j, M_i> > T}. */
    default void dotThreshold(Tensor q, Tensor keys, float t, Bitmap out) {
        Tensor s = scratch(q.rows(), keys.rows(), "dotThreshold");
        backend().relevancy().dot(q, keys, s);
        backend().retrieval().threshold(s, t, out);
    }

    /** {@code topK(questBound(q, min, max), k)}: the k pages of highest bound for each KV head's query. */
    default int questBoundTopK(Tensor q, Tensor min, Tensor max, int k, Indices idx, Tensor val) {
        Tensor s = scratch(q.rows(), min.rows(), "questBoundTopK");
        backend().relevancy().questBound(q, min, max, s);
        return backend().retrieval().topK(s, k, idx, val);
    }

    /** {@code topK(indexerScore(q, w, K, kScale), k)}: DSA's token selection for one decode position. */
    default int indexerTopK(Tensor q, Tensor w, Tensor keys, Tensor kScale, int k, Indices idx, Tensor val) {
        Tensor s = scratch(1, keys.rows(), "indexerTopK");
        backend().relevancy().indexerScore(q, w, keys, kScale, s);
        return backend().retrieval().topK(s, k, idx, val);
    }

    /** {@code topK(bm25Score(query, index), k)}: the k best documents. */
    default int bm25TopK(Indices query, Bm25Index index, Bm25Params params, int k, Indices idx, Tensor val) {
        if (index == null) {
            throw new IllegalArgumentException("bm25TopK: argument 'index' must not be null");
        }
        Tensor s = scratch(1, index.numDocs(), "bm25TopK");
        backend().relevancy().bm25Score(query, index, params, s);
        return backend().retrieval().topK(s, k, idx, val);
    }

    /**
     * F32 scratch {@code [rows, cols]} for an intermediate on the heap: not confined to a thread (a backend may
     * split the op over its pool) and nothing to close. A device's own fused op keeps it on the device instead.
     */
    private static Tensor scratch(long rows, long cols, String op) {
        long n = rows * cols;
        if (rows < 0 || cols < 0 || n > Integer.MAX_VALUE - 8 || cols > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": intermediate scores [" + rows + ", " + cols
                    + "] exceed the largest composed intermediate (2^31 - 9 floats); the backend must fuse it");
        }
        return Tensor.wrap(MemorySegment.ofArray(new float[(int) Math.max(n, 1)]), ElementType.F32, rows, (int) cols);
    }
}
