package dev.mempipe.ops;

import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Indices;
import java.util.Arrays;

/**
 * Builds a {@link Bm25Index} with a counting sort over term ids: O(tokens + vocabulary) time, int arrays
 * only (no hash maps of boxed ints). Visiting documents in order makes every term's postings come out in
 * ascending document order without a comparison sort.
 */
final class SimdBm25Indexer {
    /** Largest vocabulary a Java array can index, with the usual headroom below Integer.MAX_VALUE. */
    private static final int MAX_TERM = Integer.MAX_VALUE - 16;

    private SimdBm25Indexer() {
    }

    /** @param offsets validated document offsets {@code [N+1]}; {@code tokens} holds valid term ids. */
    static Bm25Index build(int[] offsets, Indices tokens) {
        int numDocs = offsets.length - 1;
        int total = offsets[numDocs];
        int[] terms = tokens.prefix(total).toArray();

        int[] docLengths = new int[numDocs];
        for (int doc = 0; doc < numDocs; doc++) {
            docLengths[doc] = offsets[doc + 1] - offsets[doc];
        }
        int maxTerm = -1;
        for (int t : terms) {
            maxTerm = Math.max(maxTerm, t);
        }
        if (maxTerm >= MAX_TERM) {
            // The index holds per-term arrays of vocabulary size: a Java array cannot be that long.
            throw new IllegalArgumentException("bm25Index: argument 'tokens' holds term id " + maxTerm
                    + "; term ids must be below " + MAX_TERM + " (the index keeps arrays of vocabulary size)");
        }
        int vocabulary = maxTerm + 1;

        // Counting sort of token positions by term: start[t] is where term t's occurrences begin.
        int[] start = new int[vocabulary + 1];
        for (int t : terms) {
            start[t + 1]++;
        }
        for (int t = 0; t < vocabulary; t++) {
            start[t + 1] += start[t];
        }
        int[] cursor = Arrays.copyOf(start, vocabulary);
        int[] docOfOccurrence = new int[total];
        for (int doc = 0; doc < numDocs; doc++) {
            for (int i = offsets[doc]; i < offsets[doc + 1]; i++) {
                docOfOccurrence[cursor[terms[i]]++] = doc;
            }
        }

        // Collapse each term's run of equal documents into one (doc, tf) posting. Postings never outnumber
        // occurrences, so writing into the same array from the front is safe.
        int[] docFreq = new int[vocabulary];
        int[] postingOffsets = new int[vocabulary + 1];
        int[] tfs = new int[total];
        int out = 0;
        for (int t = 0; t < vocabulary; t++) {
            postingOffsets[t] = out;
            int prev = -1;
            for (int i = start[t]; i < start[t + 1]; i++) {
                int doc = docOfOccurrence[i];
                if (doc != prev) {
                    docOfOccurrence[out] = doc;
                    tfs[out] = 1;
                    out++;
                    prev = doc;
                } else {
                    tfs[out - 1]++;
                }
            }
            docFreq[t] = out - postingOffsets[t];
        }
        postingOffsets[vocabulary] = out;
        return new Bm25Index(docLengths, docFreq, postingOffsets, Arrays.copyOf(docOfOccurrence, out),
                Arrays.copyOf(tfs, out));
    }
}
