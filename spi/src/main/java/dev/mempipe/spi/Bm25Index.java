package dev.mempipe.spi;

import java.util.Objects;

/**
 * The prepared form of a BM25 memory (output of {@code bm25Index}): per-term document frequencies, an
 * inverted list per term of {@code (document, tf)} pairs in ascending document order, document lengths,
 * the document count N and the mean length. Term ids are non-negative ints; {@code vocabularySize} is one
 * more than the largest id seen.
 *
 * <p>Immutable and safe to share between threads. Arrays are held, not copied: the constructor is for
 * backends building it, which hand over ownership.
 */
public final class Bm25Index {
    private final int numDocs;
    private final double avgDocLength;
    private final int[] docLengths;
    private final int[] docFreq;
    private final int[] postingOffsets;
    private final int[] postingDocs;
    private final int[] postingTfs;

    /**
     * @param docLengths     token count of each document (length N)
     * @param docFreq        documents containing each term (length V)
     * @param postingOffsets term t's postings are {@code [postingOffsets[t], postingOffsets[t+1])} (length V+1)
     * @param postingDocs    document of each posting, ascending within a term
     * @param postingTfs     occurrences of the term in that document, {@code >= 1}
     */
    public Bm25Index(int[] docLengths, int[] docFreq, int[] postingOffsets, int[] postingDocs, int[] postingTfs) {
        this.docLengths = Objects.requireNonNull(docLengths, "docLengths");
        this.docFreq = Objects.requireNonNull(docFreq, "docFreq");
        this.postingOffsets = Objects.requireNonNull(postingOffsets, "postingOffsets");
        this.postingDocs = Objects.requireNonNull(postingDocs, "postingDocs");
        this.postingTfs = Objects.requireNonNull(postingTfs, "postingTfs");
        if (postingOffsets.length != docFreq.length + 1) {
            throw new IllegalArgumentException("postingOffsets has " + postingOffsets.length
                    + " entries, expected vocabulary size + 1 = " + (docFreq.length + 1));
        }
        if (postingDocs.length != postingTfs.length || postingOffsets[docFreq.length] != postingDocs.length) {
            throw new IllegalArgumentException("postings are inconsistent: " + postingDocs.length + " docs, "
                    + postingTfs.length + " tfs, last offset " + postingOffsets[docFreq.length]);
        }
        this.numDocs = docLengths.length;
        long total = 0;
        for (int len : docLengths) {
            total += len;
        }
        this.avgDocLength = numDocs == 0 ? 0 : (double) total / numDocs;
    }

    /** N, the number of documents. */
    public int numDocs() {
        return numDocs;
    }

    /** Mean document length in tokens (0 for an empty index). */
    public double avgDocLength() {
        return avgDocLength;
    }

    /** One more than the largest term id indexed. */
    public int vocabularySize() {
        return docFreq.length;
    }

    public int docLength(int doc) {
        return docLengths[doc];
    }

    /** Documents containing {@code term}; 0 for a term id never seen (including ids past the vocabulary). */
    public int docFreq(int term) {
        return term >= 0 && term < docFreq.length ? docFreq[term] : 0;
    }

    /** Start of term's postings in {@link #postingDocs()}; ids past the vocabulary have none. */
    public int postingStart(int term) {
        return term >= 0 && term < docFreq.length ? postingOffsets[term] : 0;
    }

    public int postingEnd(int term) {
        return term >= 0 && term < docFreq.length ? postingOffsets[term + 1] : 0;
    }

    /** Shared, not copied: do not modify. */
    public int[] postingDocs() {
        return postingDocs;
    }

    /** Shared, not copied: do not modify. */
    public int[] postingTfs() {
        return postingTfs;
    }

    /** Shared, not copied: do not modify. */
    public int[] docLengths() {
        return docLengths;
    }
}
