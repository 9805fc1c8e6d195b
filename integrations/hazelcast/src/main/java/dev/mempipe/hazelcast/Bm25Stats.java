package dev.mempipe.hazelcast;

import java.io.Serial;

/**
 * A member's BM25 statistics for one query: what the cluster's N, mean length and document frequencies are summed
 * from.
 *
 * @param partitions the partitions counted
 * @param generation the replica generation they were read from (the scoring pass must see the same)
 * @param documents  documents held
 * @param tokens     their total length
 * @param docFreq    documents holding each query term
 */
record Bm25Stats(int[] partitions, long generation, int documents, long tokens, int[] docFreq)
        implements MemberAnswer {
    @Serial
    private static final long serialVersionUID = 1L;
}
