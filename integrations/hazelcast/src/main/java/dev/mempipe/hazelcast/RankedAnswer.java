package dev.mempipe.hazelcast;

import java.io.Serial;

/**
 * A member's best rows for a query, best first, and what they were chosen from.
 *
 * @param coverage   the partitions the member answered for, their versions and its copy's generation
 * @param ids        row ids, best first
 * @param scores     their scores
 */
record RankedAnswer(Coverage coverage, long[] ids, float[] scores) implements MemberAnswer {
    @Serial
    private static final long serialVersionUID = 1L;

    HitMerge.Ranked ranked() {
        return new HitMerge.Ranked(ids, scores);
    }
}
