package dev.mempipe.spi;

/**
 * Stage 3, Retrieval: choose what to use. The common rules of {@link PrepareOps} apply; ops that produce a
 * variable number of indices write a prefix of the output and return its length.
 */
public interface RetrievalOps {

    /**
     * The k largest scores in a total order: score descending, then index ascending; {@code -0.0} equals
     * {@code +0.0}. A row batch: each of the m rows of {@code s} is an independent score vector (one per KV
     * head, one per query); row j's result is written at {@code idx[j*c, (j+1)*c)} and {@code val} row j, with
     * {@code c = min(k, n)}. Nothing is written past the first {@code m*c} entries of {@code idx} or the first
     * c columns of {@code val}.
     *
     * @param s   {@code [m, n]}; NaN anywhere is rejected with {@link NaNInputException} naming the position
     *            (its flat row-major position {@code j*n + i})
     * @param k   {@code >= 1}; {@code k > n} returns all n
     * @param idx out, capacity {@code >= m * min(k, n)}: the chosen positions within each row, best first
     * @param val out {@code [m, >= min(k, n)]} F32 scores in the same order, or null when not wanted
     * @return {@code min(k, n)}, the entries written per row
     */
    int topK(Tensor s, int k, Indices idx, Tensor val);

    /**
     * Bit i set iff {@code s_i > t} (strict). A row batch: row j of {@code s [m, n]} sets bits
     * {@code [j*n, (j+1)*n)}.
     *
     * @param s   {@code [m, n]}; NaN is rejected with {@link NaNInputException} (flat position {@code j*n + i})
     * @param out bitmap of {@code m*n} bits, fully overwritten
     */
    void threshold(Tensor s, float t, Bitmap out);

    /**
     * The positions of the set bits, ascending.
     *
     * @param out capacity {@code >= bits.cardinality()}
     * @return the number of set bits
     */
    int bitmapToIndices(Bitmap bits, Indices out);

    /**
     * Token rows for selected blocks: the union of {@code [bP, min((b+1)P, L))} for every block b, the first
     * {@code sink} tokens and the last {@code window} tokens, sorted ascending without duplicates.
     *
     * @param blocks    block numbers, each in {@code [0, ceil(L/P))}, any order, duplicates allowed
     * @param blockSize P {@code >= 1}
     * @param length    L {@code >= 0}
     * @param sink      {@code >= 0} (more than L means all)
     * @param window    {@code >= 0} (more than L means all)
     * @param out       capacity {@code >=} the result length; when too small the call fails naming the
     *                  needed capacity and writes nothing
     * @return the number of tokens written
     */
    int expandBlocks(Indices blocks, int blockSize, long length, int sink, int window, Indices out);

    /**
     * Bit-exact copy of rows {@code x[idx[j]]} to {@code y[j]} (with their scales for integer types).
     *
     * @param x   {@code [n, d]}
     * @param idx each in {@code [0, n)}; anything else fails naming the position and value
     * @param y   {@code [idx.length, d]}, same element type as x
     */
    void gather(Tensor x, Indices idx, Tensor y);
}
