package dev.mempipe.core.pipeline;

import java.util.Arrays;
import java.util.Objects;
import java.util.function.IntPredicate;

/**
 * DRAGIN's rules (Su et al., ACL 2024, "Dynamic Retrieval Augmented Generation based on the Real-time
 * Information Needs of Large Language Models"):
 * <ul>
 *   <li><b>RIND</b> (section 3.1), when to retrieve: token i of the generated text scores
 *       {@code s_i = H_i * a_i * s(t_i)}, with {@code H_i} the entropy of the distribution it was drawn from,
 *       {@code a_i = max_{j > i} A[j][i]} the most attention any later generated token pays it in the last
 *       layer, and {@code s(t_i)} 0 for a stop word and 1 otherwise. Retrieval triggers at the first token whose
 *       score exceeds the threshold. The last token has no later token: its {@code a_i} is 0.</li>
 *   <li><b>QFS</b> (section 3.2), what to retrieve: the query is made of the {@code n} context tokens (stop words
 *       left out) that the triggering token attends to most in the last layer, in their context order.</li>
 * </ul>
 *
 * <p>Stateless; the arrays are read, never kept.
 */
public final class DraginTrigger {
    private DraginTrigger() {
    }

    /**
     * The RIND score of every generated token.
     *
     * @param entropies H of each generated token's distribution (nats), {@code >= 0}
     * @param attention {@code attention[j][i]}: the last layer's attention of generated token j to generated
     *                  token i (head-averaged); a square matrix of the generated tokens (only {@code j > i} is
     *                  read)
     * @param tokens    the generated token ids
     * @param stopWord  which token ids are stop words
     */
    public static float[] scores(float[] entropies, float[][] attention, int[] tokens, IntPredicate stopWord) {
        Objects.requireNonNull(entropies, "entropies");
        Objects.requireNonNull(attention, "attention");
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(stopWord, "stopWord");
        int n = tokens.length;
        if (entropies.length != n || attention.length != n) {
            throw new IllegalArgumentException("need one entropy and one attention row per token: " + n
                    + " tokens, " + entropies.length + " entropies, " + attention.length + " attention rows");
        }
        float[] s = new float[n];
        for (int i = 0; i < n; i++) {
            if (!(entropies[i] >= 0)) {
                throw new IllegalArgumentException("entropies[" + i + "] is " + entropies[i] + "; must be >= 0");
            }
            float received = 0;
            for (int j = i + 1; j < n; j++) {
                if (attention[j].length <= i) {
                    throw new IllegalArgumentException("attention[" + j + "] has " + attention[j].length
                            + " entries; token " + j + " must have one for every earlier token");
                }
                received = Math.max(received, attention[j][i]);
            }
            s[i] = stopWord.test(tokens[i]) ? 0 : entropies[i] * received;
        }
        return s;
    }

    /** The first position whose score is strictly above {@code threshold}, or -1 when none is. */
    public static int firstTrigger(float[] scores, float threshold) {
        if (!(threshold >= 0) || Float.isInfinite(threshold)) {
            throw new IllegalArgumentException("threshold must be finite and >= 0, got " + threshold);
        }
        for (int i = 0; i < scores.length; i++) {
            if (scores[i] > threshold) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The query positions: the {@code n} positions of {@code context} with the highest {@code attention} that
     * are not stop words (ties: the earlier position first), returned ascending (context order).
     *
     * @param attention the triggering token's attention over the context positions, one weight per position
     * @param context   the context's token ids, as long as {@code attention}
     * @param n         tokens wanted, {@code >= 1} (DRAGIN's default 25); fewer when fewer qualify
     */
    public static int[] queryPositions(float[] attention, int[] context, IntPredicate stopWord, int n) {
        Objects.requireNonNull(attention, "attention");
        Objects.requireNonNull(context, "context");
        if (attention.length != context.length) {
            throw new IllegalArgumentException("attention has " + attention.length + " weights but the context has "
                    + context.length + " tokens");
        }
        if (n < 1) {
            throw new IllegalArgumentException("n must be >= 1, got " + n);
        }
        Integer[] order = new Integer[context.length];
        int candidates = 0;
        for (int p = 0; p < context.length; p++) {
            if (Float.isNaN(attention[p])) {
                throw new IllegalArgumentException("attention[" + p + "] is NaN");
            }
            if (!stopWord.test(context[p])) {
                order[candidates++] = p;
            }
        }
        Integer[] kept = Arrays.copyOf(order, candidates);
        Arrays.sort(kept, (a, b) -> attention[a] != attention[b] ? Float.compare(attention[b], attention[a])
                : Integer.compare(a, b));
        int[] chosen = new int[Math.min(n, candidates)];
        for (int i = 0; i < chosen.length; i++) {
            chosen[i] = kept[i];
        }
        Arrays.sort(chosen);
        return chosen;
    }

    /** The query tokens: {@link #queryPositions}' tokens in context order. */
    public static int[] query(float[] attention, int[] context, IntPredicate stopWord, int n) {
        int[] positions = queryPositions(attention, context, stopWord, n);
        int[] tokens = new int[positions.length];
        for (int i = 0; i < positions.length; i++) {
            tokens[i] = context[positions[i]];
        }
        return tokens;
    }
}
