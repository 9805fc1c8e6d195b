package dev.mempipe.langchain4j;

import java.util.Comparator;

/**
 * A row and its cosine with the query.
 *
 * @param row    row number in the store (insertion order)
 * @param cosine in {@code [-1, 1]}
 */
record RowHit(int row, float cosine) {
    RowHit {
        cosine = cosine + 0.0f; // -0.0 becomes +0.0: the two must tie, as in topK
    }

    /** Best first: cosine descending, then the row added first (the order of the contract's {@code topK}). */
    static final Comparator<RowHit> BEST_FIRST =
            Comparator.comparingDouble((RowHit h) -> -h.cosine).thenComparingInt(RowHit::row);
}
