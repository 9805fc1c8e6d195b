package dev.mempipe.core.pipeline;

import java.util.Objects;

/**
 * A tentative continuation a dynamic RAG pipeline decoded greedily and now judges: already in the model's
 * context at positions {@code [start, start + tokens.length)}, until the pipeline keeps or truncates it.
 *
 * @param start         the context position of its first token
 * @param tokens        the token ids, in order
 * @param probabilities the probability each token was chosen with (softmax of the logits at the pipeline's
 *                      temperature)
 * @param entropies     the entropy (nats) of the distribution each token was chosen from
 * @param attention     DRAGIN only (null otherwise): row j is token j's last-layer attention over positions
 *                      {@code [0, start + j]}, head-averaged
 */
public record Lookahead(int start, int[] tokens, float[] probabilities, float[] entropies, float[][] attention) {
    public Lookahead {
        Objects.requireNonNull(tokens, "tokens");
        if (probabilities.length != tokens.length || entropies.length != tokens.length
                || attention != null && attention.length != tokens.length) {
            throw new IllegalArgumentException("one probability, entropy (and attention row) per token: "
                    + tokens.length + " tokens");
        }
    }

    public int length() {
        return tokens.length;
    }
}
