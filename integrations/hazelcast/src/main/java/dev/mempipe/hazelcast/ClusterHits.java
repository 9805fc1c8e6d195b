package dev.mempipe.hazelcast;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The result of a distributed search: row ids and their scores, best first in the op contract's total order (score
 * descending, then id ascending; {@code -0.0} ties {@code +0.0}). Ids are the {@code long} ids the memory handed out
 * on append, so a cluster may hold more than {@code 2^31} rows.
 *
 * <p>Immutable: arrays are copied in and out.
 */
public final class ClusterHits {
    private static final ClusterHits EMPTY = new ClusterHits(new long[0], new float[0]);

    private final long[] ids;
    private final float[] scores;

    public ClusterHits(long[] ids, float[] scores) {
        Objects.requireNonNull(ids, "ids");
        Objects.requireNonNull(scores, "scores");
        if (ids.length != scores.length) {
            throw new IllegalArgumentException("ids has " + ids.length + " entries but scores has " + scores.length);
        }
        this.ids = ids.clone();
        this.scores = scores.clone();
    }

    /**
     * The best {@code k} of several results, each best first and over disjoint rows (members, shards, clusters): an
     * exact k-way merge in the contract's total order, costing {@code O(k * lists)}. This is how a distributed search
     * combines its members' answers.
     *
     * @throws IllegalArgumentException when {@code k < 1}
     */
    public static ClusterHits merge(List<ClusterHits> lists, int k) {
        Objects.requireNonNull(lists, "lists");
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1, got " + k);
        }
        List<HitMerge.Ranked> ranked = new ArrayList<>(lists.size());
        for (int i = 0; i < lists.size(); i++) {
            ClusterHits hits = Objects.requireNonNull(lists.get(i), "lists[" + i + "]");
            ranked.add(new HitMerge.Ranked(hits.ids, hits.scores));
        }
        return HitMerge.merge(ranked, k);
    }

    static ClusterHits empty() {
        return EMPTY;
    }

    public int size() {
        return ids.length;
    }

    /** The id of the {@code rank}-th best row (0 = best). */
    public long id(int rank) {
        return ids[rank];
    }

    public float score(int rank) {
        return scores[rank];
    }

    public long[] ids() {
        return ids.clone();
    }

    public float[] scores() {
        return scores.clone();
    }

    /** Equal when both hold the same ids in the same order with bit-identical scores ({@code -0.0} equals {@code +0.0}). */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ClusterHits other) || !Arrays.equals(ids, other.ids)) {
            return false;
        }
        for (int i = 0; i < scores.length; i++) {
            if (scores[i] + 0.0f != other.scores[i] + 0.0f) { // scores are never NaN: the ops reject it
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(ids);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("ClusterHits[");
        for (int i = 0; i < ids.length; i++) {
            s.append(i == 0 ? "" : ", ").append(ids[i]).append('=').append(scores[i]);
        }
        return s.append(']').toString();
    }
}
