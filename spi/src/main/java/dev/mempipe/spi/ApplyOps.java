package dev.mempipe.spi;

/** Stage 4, Apply to Inference. The common rules of {@link PrepareOps} apply. */
public interface ApplyOps {

    /**
     * Attention of one decode position with grouped-query heads: query head h reads KV head
     * {@code h / (Hq / Hkv)}; {@code o_h = sum_i softmax_i(scale * <q_h, K_i>) V_i} over the selected rows
     * (every row when {@code idx} is null), computed with a running max (online softmax) so no logit
     * overflows. Sparse attention over every row equals dense attention.
     *
     * @param q       {@code [Hq, d]}
     * @param keys    K {@code [L, Hkv * d]}: row i holds the Hkv key heads of token i
     * @param values  V {@code [L, Hkv * d]}
     * @param kvHeads Hkv {@code >= 1}, dividing Hq
     * @param idx     selected rows, each in {@code [0, L)}, at least one; or null for all L rows (L >= 1)
     * @param out     o {@code [Hq, d]}
     */
    void attention(Tensor q, Tensor keys, Tensor values, int kvHeads, Indices idx, float scale, Tensor out);

    /**
     * Compressed-memory read (HMT): {@code o = sum_i a_i V_i}. The weights are used as given (pass them
     * through {@code softmax} first for a convex combination).
     *
     * @param a   {@code [1, n]}
     * @param v   V {@code [n, d]}
     * @param out o {@code [1, d]}
     */
    void softRetrieve(Tensor a, Tensor v, Tensor out);
}
