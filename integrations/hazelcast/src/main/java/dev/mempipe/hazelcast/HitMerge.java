package dev.mempipe.hazelcast;

import java.util.List;

/**
 * The exact merge of per-member top-k lists: each list is sorted in the contract's total order (score descending,
 * then id ascending, {@code -0.0 == +0.0}) and holds that member's best {@code min(k, rows)}; the merged list is the
 * best {@code k} of their union in the same order. Because every row lives on exactly one member and each member's
 * list is its own exact top-k, the merged list is the top-k of all rows, index for index what one node computes.
 */
final class HitMerge {
    private HitMerge() {
    }

    /** One member's best rows: ids and scores, best first. */
    record Ranked(long[] ids, float[] scores) {
        Ranked {
            if (ids.length != scores.length) {
                throw new IllegalArgumentException("ids has " + ids.length + " entries but scores " + scores.length);
            }
        }
    }

    /** {@code a} ranks before {@code b}: a higher score, or an equal score (signed zeros equal) and a lower id. */
    static boolean before(float scoreA, long idA, float scoreB, long idB) {
        float a = scoreA + 0.0f; // -0.0 + 0.0 is +0.0: the two zeros tie
        float b = scoreB + 0.0f;
        if (a != b) {
            return a > b;
        }
        return idA < idB;
    }

    /** The best {@code k} of the lists' union, best first; a k-way merge costing {@code O(k * lists)}. */
    static ClusterHits merge(List<Ranked> lists, int k) {
        int total = 0;
        for (Ranked list : lists) {
            total += list.ids().length;
        }
        int count = Math.min(k, total);
        long[] ids = new long[count];
        float[] scores = new float[count];
        int[] next = new int[lists.size()];
        for (int out = 0; out < count; out++) {
            int best = -1;
            for (int l = 0; l < lists.size(); l++) {
                Ranked list = lists.get(l);
                if (next[l] < list.ids().length && (best < 0 || before(list.scores()[next[l]], list.ids()[next[l]],
                        lists.get(best).scores()[next[best]], lists.get(best).ids()[next[best]]))) {
                    best = l;
                }
            }
            Ranked winner = lists.get(best);
            ids[out] = winner.ids()[next[best]];
            scores[out] = winner.scores()[next[best]];
            next[best]++;
        }
        return new ClusterHits(ids, scores);
    }
}
