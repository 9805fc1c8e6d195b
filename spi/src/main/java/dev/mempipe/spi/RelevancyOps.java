package dev.mempipe.spi;

/**
 * Stage 2, Compute Relevancy: score the memory against the current query. Larger scores mean more relevant.
 * The common rules of {@link PrepareOps} apply.
 *
 * <p>Accuracy: f32-accumulated dot-like results are within
 * {@code 2 * d * 2^-24 * sum_i |a_i * b_i| + 1e-30} of the exact value. When both operands are integer
 * (I8/I16) the dot product is accumulated exactly in {@code long} and scaled once:
 * {@code (sum qa*qb) * scale_a * scale_b}.
 */
public interface RelevancyOps {

    /**
     * {@code S[j, i] = <Q_j, M_i>}.
     *
     * @param q Q {@code [m, d]}
     * @param m M {@code [n, d]}
     * @param s S {@code [m, n]}
     */
    void dot(Tensor q, Tensor m, Tensor s);

    /**
     * {@code s[j] = <q, K[rowIds[j]]>}: one query against a gathered set of rows (the neighbours an HNSW walk
     * visits, the candidates a filter left), with {@link #dot}'s accuracy: integer-by-integer rows are exact
     * in {@code long} and scaled once. A row id may repeat; a row id outside {@code [0, n)} fails naming its
     * position and value before anything is written.
     *
     * <p>Defined as {@link #dot} of q with each row, in order, which is what this default does; a backend
     * overrides it to read several rows at once so that their cache misses (or device reads) overlap.
     *
     * @param q      {@code [1, d]}
     * @param keys   K {@code [n, d]}
     * @param rowIds {@code [k]}, each in {@code [0, n)}
     * @param s      {@code [1, k]}
     */
    default void dotRows(Tensor q, Tensor keys, Indices rowIds, Tensor s) {
        // every check but the backend's declared types (dot checks those on the first row, before any write)
        OpArgs.check(Capabilities.all(), Op.DOT_ROWS, q, keys, rowIds, s);
        for (int j = 0; j < rowIds.length(); j++) {
            int row = rowIds.get(j);
            dot(q, keys.rowSlice(row, row + 1), s.columns(j, 1));
        }
    }

    /**
     * {@code s[j] = <queryCodes, codes[rowIds[j]]>} over scalar-quantized codes read as unsigned integers, where they
     * lie: the integer dot product a quantized HNSW walk corrects into a score (Lucene's 8-bit {@code UNSIGNED_BYTE}
     * and 4-bit {@code PACKED_NIBBLE} formats; the corrective terms stay with the caller). Both tensors are I8 views
     * of raw code bytes; their scales are not read.
     * <ul>
     *   <li>{@code bits = 8}: byte i of a row is one code, {@code 0..255}; {@code s[j] = sum_i u(q_i) * u(c_i)}.</li>
     *   <li>{@code bits = 4}: byte i holds two codes, its high nibble (bits 7-4) and its low nibble (bits 3-0), each
     *       {@code 0..15}; {@code s[j] = sum_i hi(q_i) * hi(c_i) + lo(q_i) * lo(c_i)}. In Lucene's PACKED_NIBBLE layout
     *       of a row of p bytes the high nibble of byte i is dimension i and the low one dimension {@code p + i} (an
     *       odd dimension count leaves the last low nibble 0); the query is packed the same way.</li>
     * </ul>
     * Exact: the sum is an integer, accumulated exactly, and stored as the nearest float (round to nearest even):
     * the integer itself when it is below 2^24 (always for 4-bit rows of up to 37282 bytes, and for 8-bit rows of up
     * to 258), as Lucene's scorer converts its {@code int} dot product. The largest possible sum,
     * {@code (2^bits - 1)^2 * codes per row}, must fit a 32-bit int (8-bit rows up to 33025 bytes, 4-bit rows up to
     * 4772185): a wider {@code codes} fails naming the argument and its width, so every backend may accumulate in
     * 32-bit integers. {@code bits} other than 4 or 8 fails; a row id outside {@code [0, n)} fails naming its position
     * and value; nothing is written before a failure. A row id may repeat.
     *
     * <p>Defined by this default, in plain Java (one row at a time); a backend overrides it to read several rows at
     * once so that their cache misses overlap.
     *
     * @param queryCodes {@code [1, p]} I8, read as unsigned codes
     * @param codes      {@code [n, p]} I8, read as unsigned codes
     * @param bits       8 or 4
     * @param rowIds     {@code [k]}, each in {@code [0, n)}
     * @param s          {@code [1, k]} F32
     */
    default void codeDotRows(Tensor queryCodes, Tensor codes, int bits, Indices rowIds, Tensor s) {
        OpArgs.codeDotRows(Capabilities.all(), queryCodes, codes, bits, rowIds, s);
        int p = queryCodes.cols();
        for (int j = 0; j < rowIds.length(); j++) {
            long row = rowIds.get(j);
            long sum = 0;
            for (int i = 0; i < p; i++) {
                int a = queryCodes.code(0, i) & 0xFF;
                int b = codes.code(row, i) & 0xFF;
                sum += bits == 8 ? a * b : (a >>> 4) * (b >>> 4) + (a & 0xF) * (b & 0xF);
            }
            s.set(0, j, (float) sum);
        }
    }

    /** As {@link #dot} divided by both norms; 0 when either norm is 0. */
    void cosine(Tensor q, Tensor m, Tensor s);

    /**
     * Quest's upper bound of a page's attention logits: {@code s_p = sum_i max(q_i * min_pi, q_i * max_pi)},
     * which is {@code >= <q, k>} for every key k summarized by page p. A row batch over the KV heads of a
     * layer: query row j is bounded against its head's band of the summaries, columns {@code [j*d, (j+1)*d)} of
     * a token row that holds every head (the layout of {@code [L, Hkv*d]} keys), giving score row j.
     *
     * @param q   {@code [m, d]}, m {@code >= 1} queries, one per KV head
     * @param min {@code [p, m*d]}
     * @param max {@code [p, m*d]}
     * @param s   {@code [m, p]}
     */
    void questBound(Tensor q, Tensor min, Tensor max, Tensor s);

    /**
     * Max over consecutive groups of g scores (page score from token scores); the last group may be partial.
     * Each of the m rows is grouped independently.
     *
     * @param s {@code [m, n]}
     * @param y {@code [m, ceil(n/g)]}
     */
    void groupMax(Tensor s, int groupSize, Tensor y);

    /**
     * DeepSeek's lightning indexer: {@code s_t = sum_h w_h * ReLU(kScale_t * <q_h, K_t>)}.
     *
     * @param q      {@code [H, dI]}
     * @param w      {@code [1, H]}
     * @param keys   K {@code [n, dI]}
     * @param kScale {@code [1, n]}, or null for all ones
     * @param s      {@code [1, n]}
     */
    void indexerScore(Tensor q, Tensor w, Tensor keys, Tensor kScale, Tensor s);

    /**
     * Stable softmax of {@code scale * s}: the max is subtracted first, so large scores do not overflow;
     * the result sums to 1 (within rounding). {@code s} and {@code p} may be the same tensor.
     *
     * @param s {@code [1, n]}, n {@code >= 1}
     * @param p {@code [1, n]}
     */
    void softmax(Tensor s, float scale, Tensor p);

    /**
     * BM25 score of every document: {@code sum over distinct query terms t in doc:
     * idf(t) * tf*(k1+1) / (tf + k1*(1 - b + b*len/avglen))}. A repeated query term counts once; a term
     * the index has never seen contributes 0. Computed in double, stored rounded.
     *
     * @param query term ids {@code [q]}
     * @param s     {@code [1, N]}
     */
    void bm25Score(Indices query, Bm25Index index, Bm25Params params, Tensor s);
}
