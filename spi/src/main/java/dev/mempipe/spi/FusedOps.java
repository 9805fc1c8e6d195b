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

    /**
     * Exact batched search: for each query row j, the k best rows i of M among those {@code accept} lets through,
     * by {@code S[j, i] = <Q_j, M_i> * w_i} in {@link RetrievalOps#topK}'s total order (score descending, then row
     * ascending; {@code -0.0} equals {@code +0.0}). With {@code c = min(k, n)} and {@code r = min(k, accepted rows)},
     * query j's rows are written at {@code idx[j*c, j*c + r)} and its scores in the first r columns of {@code val}
     * row j; nothing else is written. The scores have {@link RelevancyOps#dot}'s accuracy times one rounding of the
     * weight multiply; a backend that fuses the op must rank a query the same whether it comes alone or in a batch.
     *
     * <p>Defined by this default: {@code dot} (or {@code dotRows} over the accepted rows), the weights, then
     * {@code topK}. A backend fuses it so that the {@code [m, n]} scores never exist (this default needs them on
     * the heap, at most 2^31 - 9 floats).
     *
     * @param q      Q {@code [m, d]}
     * @param keys   M {@code [n, d]}
     * @param w      F32 {@code [1, n]}, or null for all ones
     * @param accept n bits, or null for every row
     * @param k      {@code >= 1}
     * @param idx    out, capacity {@code >= m * min(k, n)}
     * @param val    out F32 {@code [m, >= min(k, n)]}, or null
     * @return r, the rows written per query
     * @throws NaNInputException when a score of an accepted row is NaN (argument {@code S}, position
     *                           {@code j*n + i})
     */
    default int dotTopK(Tensor q, Tensor keys, Tensor w, Bitmap accept, int k, Indices idx, Tensor val) {
        OpArgs.dotTopK(Capabilities.all(), q, keys, w, accept, k, idx, val);
        int m = Math.toIntExact(q.rows());
        int n = Math.toIntExact(keys.rows());
        int c = Math.min(k, n);
        int[] rows = acceptedRows(accept, n);
        int a = rows == null ? n : rows.length;
        int r = Math.min(k, a);
        if (m == 0 || r == 0) {
            return r;
        }
        Tensor s = scratch(m, a, "dotTopK");
        if (rows == null) {
            backend().relevancy().dot(q, keys, s);
        } else {
            Indices ids = Indices.wrap(MemorySegment.ofArray(rows), a);
            for (int j = 0; j < m; j++) {
                backend().relevancy().dotRows(q.rowSlice(j, j + 1), keys, ids, s.rowSlice(j, j + 1));
            }
        }
        for (int j = 0; j < m; j++) {
            for (int i = 0; i < a; i++) {
                float score = w == null ? s.get(j, i) : s.get(j, i) * w.get(0, rows == null ? i : rows[i]);
                if (Float.isNaN(score)) {
                    throw new NaNInputException("S", (long) j * n + (rows == null ? i : rows[i]));
                }
                s.set(j, i, score);
            }
        }
        Indices top = Indices.wrap(MemorySegment.ofArray(new int[m * r]), m * r);
        Tensor topVal = scratch(m, r, "dotTopK");
        backend().retrieval().topK(s, k, top, topVal);
        for (int j = 0; j < m; j++) {
            for (int t = 0; t < r; t++) {
                int i = top.get(j * r + t);
                idx.set(j * c + t, rows == null ? i : rows[i]);
                if (val != null) {
                    val.set(j, t, topVal.get(j, t));
                }
            }
        }
        return r;
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

    /** The set bits of {@code accept} ascending, or null when every row is accepted. */
    private static int[] acceptedRows(Bitmap accept, int n) {
        if (accept == null) {
            return null;
        }
        int count = 0;
        for (int i = 0; i < n; i++) {
            count += accept.get(i) ? 1 : 0;
        }
        int[] rows = new int[count];
        for (int i = 0, t = 0; i < n; i++) {
            if (accept.get(i)) {
                rows[t++] = i;
            }
        }
        return rows;
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
