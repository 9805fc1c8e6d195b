package dev.mempipe.core.pipeline;

import java.util.Arrays;
import java.util.Objects;

/**
 * FLARE's rules (Jiang et al., EMNLP 2023, "Active Retrieval Augmented Generation", section 3.2, FLARE-direct):
 * a look-ahead sentence triggers retrieval when any of its tokens was generated with a probability below a
 * threshold, and the query is that sentence with those low-confidence tokens masked out (removed), so that
 * uncertain, possibly wrong words do not steer the search.
 *
 * <p>Stateless; the arrays are read, never kept.
 */
public final class FlareTrigger {
    private FlareTrigger() {
    }

    /**
     * The positions, ascending, whose probability is strictly below {@code threshold}.
     *
     * @param probabilities the probability each token of the sentence was generated with, in {@code [0, 1]}
     * @param threshold     in {@code [0, 1]} (FLARE's default 0.4)
     * @throws IllegalArgumentException naming the first position whose probability is NaN or outside [0, 1]
     */
    public static int[] lowConfidence(float[] probabilities, float threshold) {
        checkThreshold(threshold);
        Objects.requireNonNull(probabilities, "probabilities");
        int[] low = new int[probabilities.length];
        int n = 0;
        for (int i = 0; i < probabilities.length; i++) {
            float p = probabilities[i];
            if (!(p >= 0 && p <= 1)) {
                throw new IllegalArgumentException("probabilities[" + i + "] is " + p + "; must be in [0, 1]");
            }
            if (p < threshold) {
                low[n++] = i;
            }
        }
        return Arrays.copyOf(low, n);
    }

    /** Whether the sentence triggers retrieval: some token's probability is below {@code threshold}. */
    public static boolean fires(float[] probabilities, float threshold) {
        return lowConfidence(probabilities, threshold).length > 0;
    }

    /**
     * The query: the sentence's tokens, in order, without those generated with a probability below
     * {@code threshold}. When every token is below it the masked query would be empty; the whole sentence is
     * the query then (FLARE falls back to an unmasked query rather than not searching).
     *
     * @param sentence      token ids
     * @param probabilities one per token
     */
    public static int[] maskedQuery(int[] sentence, float[] probabilities, float threshold) {
        Objects.requireNonNull(sentence, "sentence");
        if (sentence.length != probabilities.length) {
            throw new IllegalArgumentException("sentence has " + sentence.length + " tokens but probabilities has "
                    + probabilities.length);
        }
        int[] low = lowConfidence(probabilities, threshold);
        if (low.length == sentence.length) {
            return sentence.clone();
        }
        int[] query = new int[sentence.length - low.length];
        int n = 0;
        int next = 0;
        for (int i = 0; i < sentence.length; i++) {
            if (next < low.length && low[next] == i) {
                next++;
            } else {
                query[n++] = sentence[i];
            }
        }
        return query;
    }

    static void checkThreshold(float threshold) {
        if (!(threshold >= 0 && threshold <= 1)) {
            throw new IllegalArgumentException("threshold must be in [0, 1], got " + threshold);
        }
    }
}
