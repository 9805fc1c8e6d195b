package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.Hits;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.spi.Step;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import java.util.function.IntUnaryOperator;

/**
 * Prompt assembly, the Apply step of RAG: the ranked passages' text in rank order, as long as they fit the
 * token budget. Assembly stops at the first passage that does not fit rather than skipping to a smaller one
 * further down, so the prompt is always a prefix of the ranking.
 */
final class PromptAssembly {
    /** Bytes a token of text is counted as in the profile (about four characters per token). */
    private static final int BYTES_PER_TOKEN = 4;

    private PromptAssembly() {
    }

    /**
     * Assembles {@code ranked} as one APPLY run of {@code engine}, labelled {@code promptAssembly}: it reads
     * and writes the chosen passages' text once and does no arithmetic.
     *
     * @param text   a passage's text by id
     * @param tokens a passage's token count by id
     */
    static Prompt assemble(Engine engine, Hits ranked, int budget, IntFunction<String> text, IntUnaryOperator tokens) {
        List<Integer> chosen = new ArrayList<>();
        int used = 0;
        for (int rank = 0; rank < ranked.size(); rank++) {
            int id = ranked.id(rank);
            int length = tokens.applyAsInt(id);
            if (used + length > budget) {
                break;
            }
            chosen.add(id);
            used += length;
        }
        long bytes = (long) used * BYTES_PER_TOKEN;
        int total = used;
        return engine.run(Step.APPLY, "promptAssembly", new OpCost(bytes, bytes, 0), b -> {
            StringBuilder prompt = new StringBuilder();
            for (int id : chosen) {
                prompt.append(prompt.isEmpty() ? "" : "\n\n").append(text.apply(id));
            }
            return new Prompt(chosen, total, prompt.toString());
        });
    }
}
