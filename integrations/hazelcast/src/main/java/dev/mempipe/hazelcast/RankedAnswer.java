package dev.mempipe.hazelcast;

import java.io.Serial;

/**
 * A member's best rows for a query, best first, and the partitions (and replica generation) they were chosen from.
 *
 * @param partitions the partitions the member answered for
 * @param generation the member replica's generation the answer was read from
 * @param ids        row ids, best first
 * @param scores     their scores
 */
record RankedAnswer(int[] partitions, long generation, long[] ids, float[] scores) implements MemberAnswer {
    @Serial
    private static final long serialVersionUID = 1L;

    HitMerge.Ranked ranked() {
        return new HitMerge.Ranked(ids, scores);
    }
}
