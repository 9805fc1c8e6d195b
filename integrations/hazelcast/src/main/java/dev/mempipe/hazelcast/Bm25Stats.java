package dev.mempipe.hazelcast;

import java.io.Serial;

/**
 * A member's BM25 statistics for one query: what the cluster's N, mean length and document frequencies are summed
 * from.
 *
 * @param coverage   what was counted (the scoring pass must read the same copy: same partitions and generation)
 * @param documents  documents held
 * @param tokens     their total length
 * @param docFreq    documents holding each query term
 */
record Bm25Stats(Coverage coverage, int documents, long tokens, int[] docFreq)
        implements MemberAnswer {
    @Serial
    private static final long serialVersionUID = 1L;
}
