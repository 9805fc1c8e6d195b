package dev.mempipe.core.pipeline;

import java.util.List;
import java.util.Objects;

/**
 * The Apply step of the retrieval workloads: the retrieved passages assembled into the context the model
 * reads, best first, within a token budget.
 *
 * @param sources the ids of the passages used (documents, chunks), in rank order
 * @param tokens  tokens the passages hold together ({@code <=} the budget)
 * @param text    the passages joined by blank lines
 */
public record Prompt(List<Integer> sources, int tokens, String text) {
    public Prompt {
        sources = List.copyOf(sources);
        Objects.requireNonNull(text, "text");
        if (tokens < 0) {
            throw new IllegalArgumentException("tokens must be >= 0, got " + tokens);
        }
    }
}
