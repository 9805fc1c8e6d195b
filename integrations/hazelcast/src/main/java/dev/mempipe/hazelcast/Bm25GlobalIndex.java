package dev.mempipe.hazelcast;

import dev.mempipe.spi.Bm25Index;

import java.util.Arrays;

/**
 * A member's BM25 index made to score with the cluster's statistics. The {@code bm25Score} op takes N, the mean
 * document length and each term's document frequency from the index it is given; so that a member scores its own
 * documents exactly as one node scoring every document would, this builds an index over the member's postings whose
 * statistics are the cluster's:
 * <ul>
 *   <li>document frequencies: the cluster's, for the query's terms (the op reads no others);</li>
 *   <li>N and the mean length: the member's documents come first, followed by {@code N - n} placeholder documents
 *       with no postings whose lengths add up to the other members' tokens, so the op's N is the cluster's and its
 *       mean length ({@code total tokens / N}, in the same long and double arithmetic) is the cluster's, to the
 *       bit. Placeholders score 0 and are never ranked: only the first {@code n} scores are read.</li>
 * </ul>
 * The price: the op's score row is the cluster's N long on every member (four bytes per document of the cluster and
 * the op's double scratch), though only the member's postings are walked. See docs/scale-out.md, "Limits".
 */
final class Bm25GlobalIndex {
    private Bm25GlobalIndex() {
    }

    /**
     * Lengths of the member's documents followed by placeholders, {@code globalDocs} in all, adding up to
     * {@code globalTokens}.
     */
    static int[] paddedLengths(int[] localLengths, int globalDocs, long globalTokens) {
        long localTokens = 0;
        for (int length : localLengths) {
            localTokens += length;
        }
        int placeholders = globalDocs - localLengths.length;
        long rest = globalTokens - localTokens;
        if (placeholders < 0 || rest < 0 || (placeholders == 0 && rest != 0)) {
            throw new IllegalStateException("cluster statistics (" + globalDocs + " documents, " + globalTokens
                    + " tokens) are smaller than this member's (" + localLengths.length + ", " + localTokens + ")");
        }
        int[] lengths = Arrays.copyOf(localLengths, globalDocs);
        if (placeholders > 0) {
            long each = rest / placeholders;
            long extra = rest % placeholders;
            for (int i = localLengths.length; i < globalDocs; i++) {
                lengths[i] = Math.toIntExact(each + (i - localLengths.length < extra ? 1 : 0));
            }
        }
        return lengths;
    }

    /**
     * {@code local}'s postings with the cluster's statistics.
     *
     * @param paddedLengths {@link #paddedLengths} of the local documents
     * @param terms         the query's term ids
     * @param globalDf      the cluster's document frequency of each of {@code terms}
     */
    static Bm25Index of(Bm25Index local, int[] paddedLengths, int[] terms, int[] globalDf) {
        int vocabulary = local.vocabularySize();
        int[] docFreq = new int[vocabulary];
        int[] postingOffsets = new int[vocabulary + 1];
        for (int t = 0; t < vocabulary; t++) {
            docFreq[t] = local.docFreq(t);
            postingOffsets[t] = local.postingStart(t);
        }
        postingOffsets[vocabulary] = local.postingDocs().length;
        for (int i = 0; i < terms.length; i++) {
            if (terms[i] >= 0 && terms[i] < vocabulary) {
                docFreq[terms[i]] = globalDf[i];
            }
        }
        return new Bm25Index(paddedLengths, docFreq, postingOffsets, local.postingDocs(), local.postingTfs());
    }
}
