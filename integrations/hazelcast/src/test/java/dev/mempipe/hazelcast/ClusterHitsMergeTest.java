package dev.mempipe.hazelcast;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The exact merge of member answers, against sorting the union (the oracle). */
class ClusterHitsMergeTest {

    @Test
    void should_tie_negative_and_positive_zero_and_prefer_the_lower_id() {
        ClusterHits a = new ClusterHits(new long[] {9, 4}, new float[] {0.5f, -0.0f});
        ClusterHits b = new ClusterHits(new long[] {2, 7}, new float[] {0.0f, -1f});
        ClusterHits merged = ClusterHits.merge(List.of(a, b), 4);
        assertArrayEquals(new long[] {9, 2, 4, 7}, merged.ids(), merged.toString());
    }

    @Test
    void should_return_everything_when_k_exceeds_the_rows_and_nothing_from_empty_lists() {
        ClusterHits a = new ClusterHits(new long[] {3}, new float[] {1f});
        ClusterHits empty = new ClusterHits(new long[0], new float[0]);
        assertArrayEquals(new long[] {3}, ClusterHits.merge(List.of(empty, a, empty), 10).ids());
        assertEquals(0, ClusterHits.merge(List.of(empty), 5).size());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ClusterHits.merge(List.of(a), 0));
        assertEquals("k must be >= 1, got 0", e.getMessage());
    }

    @Test
    void should_equal_the_sorted_union_on_random_lists_with_many_ties() {
        SplittableRandom random = TestData.random("merge");
        for (int trial = 0; trial < 300 * TestData.SCALE; trial++) {
            int members = 1 + random.nextInt(5);
            int k = 1 + random.nextInt(20);
            List<ClusterHits> lists = new ArrayList<>();
            List<long[]> union = new ArrayList<>(); // {id, score bits}
            for (int m = 0; m < members; m++) {
                int size = random.nextInt(k + 1);
                List<long[]> own = new ArrayList<>();
                java.util.Set<Long> taken = new java.util.HashSet<>();
                for (int i = 0; i < size; i++) {
                    long id = m + (long) members * random.nextInt(50);
                    if (!taken.add(id)) {
                        continue; // an id lives once
                    }
                    float score = random.nextInt(5) - 2; // few values: many ties
                    if (score == 0 && random.nextBoolean()) {
                        score = -0.0f; // and both zeros
                    }
                    // member m holds ids m, m + members, ...: disjoint across members, interleaved, so ties cross them
                    own.add(new long[] {id, Float.floatToRawIntBits(score)});
                }
                own.sort(ORDER);
                float[] scores = new float[own.size()];
                long[] allIds = new long[own.size()];
                for (int i = 0; i < own.size(); i++) {
                    allIds[i] = own.get(i)[0];
                    scores[i] = Float.intBitsToFloat((int) own.get(i)[1]);
                }
                lists.add(new ClusterHits(allIds, scores));
                union.addAll(own);
            }
            union.sort(ORDER);
            ClusterHits merged = ClusterHits.merge(lists, k);
            int expected = Math.min(k, union.size());
            assertEquals(expected, merged.size(), "trial " + trial + ", " + TestData.reproduce(getClass()));
            for (int i = 0; i < expected; i++) {
                float want = Float.intBitsToFloat((int) union.get(i)[1]);
                assertEquals(want + 0.0f, merged.score(i) + 0.0f, "trial " + trial + " rank " + i);
                assertEquals(union.get(i)[0], merged.id(i), "trial " + trial + " rank " + i + ", "
                        + TestData.reproduce(getClass()));
            }
        }
    }

    /** Score descending (signed zeros equal), then id ascending. */
    private static final Comparator<long[]> ORDER = Comparator
            .comparingDouble((long[] e) -> -(Float.intBitsToFloat((int) e[1]) + 0.0f))
            .thenComparingLong(e -> e[0]);
}
