package dev.mempipe.core.pipeline;

import dev.mempipe.spi.Tensor;

/**
 * The head layout of one attention layer: Hq query heads, Hkv KV heads (Hq a multiple of Hkv: grouped-query
 * attention, query head h reads KV head {@code h / G} with {@code G = Hq / Hkv}), head dimension d.
 */
public record AttentionShape(int queryHeads, int kvHeads, int headDim) {
    public AttentionShape {
        if (queryHeads < 1 || kvHeads < 1 || headDim < 1) {
            throw new IllegalArgumentException("queryHeads, kvHeads and headDim must be >= 1, got " + queryHeads
                    + ", " + kvHeads + ", " + headDim);
        }
        if (queryHeads % kvHeads != 0) {
            throw new IllegalArgumentException("queryHeads " + queryHeads + " must be a multiple of kvHeads " + kvHeads);
        }
    }

    /** Query heads per KV head, G. */
    public int groupSize() {
        return queryHeads / kvHeads;
    }

    /** Width of a K or V row, {@code Hkv*d}. */
    public int kvWidth() {
        return kvHeads * headDim;
    }

    /** The softmax scale {@code 1/sqrt(d)}. */
    public float scale() {
        return (float) (1 / Math.sqrt(headDim));
    }

    /** Query heads {@code [g*G, (g+1)*G)} of KV head g, as rows of {@code q [Hq, d]}. */
    public Tensor group(Tensor q, int kvHead) {
        return q.rowSlice((long) kvHead * groupSize(), (long) (kvHead + 1) * groupSize());
    }

    /** Fails unless {@code q} is a query {@code [Hq, d]}. */
    public void checkQuery(String name, Tensor q) {
        if (q.rows() != queryHeads || q.cols() != headDim) {
            throw new IllegalArgumentException(name + " must be [Hq, d] = [" + queryHeads + ", " + headDim + "], got "
                    + q.shapeString());
        }
    }
}
