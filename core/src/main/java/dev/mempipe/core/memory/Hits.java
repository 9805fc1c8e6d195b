package dev.mempipe.core.memory;

import java.util.Arrays;
import java.util.Objects;

/**
 * The result of a search: entry ids and their scores, best first (score descending, then id ascending, the
 * order of the contract's {@code topK}). Larger scores mean more relevant; what the score is (cosine, BM25,
 * dot) and what the id numbers (a row, a document, a summary's sequence number) is said by the method that
 * returns it.
 *
 * <p>Immutable: the arrays are copied in and out.
 */
public final class Hits {
    private final int[] ids;
    private final float[] scores;

    public Hits(int[] ids, float[] scores) {
        Objects.requireNonNull(ids, "ids");
        Objects.requireNonNull(scores, "scores");
        if (ids.length != scores.length) {
            throw new IllegalArgumentException("ids has " + ids.length + " entries but scores has " + scores.length);
        }
        this.ids = ids.clone();
        this.scores = scores.clone();
    }

    static Hits empty() {
        return new Hits(new int[0], new float[0]);
    }

    public int size() {
        return ids.length;
    }

    /** The id of the {@code rank}-th best entry (0 = best). */
    public int id(int rank) {
        return ids[rank];
    }

    public float score(int rank) {
        return scores[rank];
    }

    public int[] ids() {
        return ids.clone();
    }

    public float[] scores() {
        return scores.clone();
    }

    @Override
    public String toString() {
        return "Hits" + Arrays.toString(ids);
    }
}
