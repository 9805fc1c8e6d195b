package dev.mempipe.core.pipeline;

import dev.mempipe.core.profile.OpCost;
import dev.mempipe.spi.Tensor;

/**
 * The language model a generating workload (FLARE, DRAGIN, MemAgent) drives: a context of token ids that grows
 * one token ({@link #next}) or many ({@link #prefill}) at a time and can be cut back ({@link #truncate}), so a
 * tentative look-ahead can be thrown away and regenerated.
 *
 * <p>Token ids are the model's vocabulary; the dynamic RAG pipelines require that a document's term ids in its
 * retrieval memory are the same ids (see {@link DocumentRetrieval}).
 *
 * <p>Implementations are not thread-safe: one generating thread drives one model.
 */
public interface LanguageModel {

    /** Vocabulary size: token ids are in {@code [0, vocab)}. */
    int vocab();

    /** Tokens in the context now. */
    int length();

    /** Tokens the context can hold. */
    int capacity();

    /**
     * Appends {@code token} at position {@link #length()} and returns the logits of the token after it.
     *
     * @return logits {@code (1, vocab)}, a view of scratch valid until the next call
     * @throws IllegalStateException when the context is full
     */
    Tensor next(int token);

    /**
     * Appends {@code tokens} (a prefill) and returns the logits of the token after the last one, or null when
     * {@code tokens} is empty.
     *
     * @throws IllegalStateException when they do not fit
     */
    Tensor prefill(int[] tokens);

    /**
     * The analytic work of {@link #prefill prefilling} {@code tokens} tokens after the current context (what the
     * profile records for a re-prefill): weights read once, KV rows written, the projections' and the causal
     * attention's FLOPs.
     */
    OpCost prefillCost(int tokens);

    /**
     * The analytic work of decoding {@code tokens} tokens one by one after the current context (weights read once
     * per token): what the profile records for a generation such as MemAgent's memory rewrite.
     */
    OpCost decodeCost(int tokens);

    /** Forgets the positions from {@code length} on; {@code length} in {@code [0, length()]}. */
    void truncate(int length);

    /**
     * Whether {@link #next} records the last layer's attention weights of its token (what DRAGIN reads). Off by
     * default: reading them out costs a score pass over the context per token.
     */
    void recordAttention(boolean on);

    /**
     * The last layer's attention weights of the most recent {@link #next} token over positions
     * {@code [0, length())}, averaged over the query heads; each row sums to 1.
     *
     * @return {@code (1, length())}, a view of scratch valid until the next call
     * @throws IllegalStateException when recording is off or no token was decoded since it was turned on
     */
    Tensor lastAttention();
}
