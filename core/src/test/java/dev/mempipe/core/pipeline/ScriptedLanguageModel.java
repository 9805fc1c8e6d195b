package dev.mempipe.core.pipeline;

import dev.mempipe.core.profile.OpCost;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * A language model whose logits and attention weights are written by the test: after every token the script says
 * which token comes next and with what probability (the logits are the log of that distribution, the rest of the
 * mass spread evenly), and an attention script gives the last layer's weights of the newest token. It remembers
 * every prefill, so tests see what was re-prefilled.
 */
final class ScriptedLanguageModel implements LanguageModel {
    /** The next token and its probability. */
    record Next(int token, float probability) {
    }

    /** What the script sees: the context's tokens and how many of them were generated (not prefilled). */
    record State(int[] context, int generated) {
    }

    private final int vocab;
    private final int capacity;
    private final Function<State, Next> script;
    private final Function<int[], float[]> attentionScript;
    private final Tensor logits;
    private final Tensor attention;
    private final List<Integer> context = new ArrayList<>();
    private final List<Boolean> generated = new ArrayList<>();
    final List<int[]> prefills = new ArrayList<>();
    private boolean recording;
    private boolean recorded;

    ScriptedLanguageModel(Arena arena, int vocab, int capacity, Function<State, Next> script,
                          Function<int[], float[]> attentionScript) {
        this.vocab = vocab;
        this.capacity = capacity;
        this.script = script;
        this.attentionScript = attentionScript;
        this.logits = Tensor.allocate(arena, ElementType.F32, 1, vocab);
        this.attention = Tensor.allocate(arena, ElementType.F32, 1, capacity);
    }

    @Override
    public int vocab() {
        return vocab;
    }

    @Override
    public int length() {
        return context.size();
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public Tensor next(int token) {
        if (context.size() == capacity) {
            throw new IllegalStateException("full");
        }
        context.add(token);
        generated.add(true);
        if (recording) {
            float[] row = attentionScript.apply(tokens());
            for (int i = 0; i < row.length; i++) {
                attention.set(0, i, row[i]);
            }
        }
        recorded = recording;
        return scriptedLogits();
    }

    @Override
    public Tensor prefill(int[] tokens) {
        if (tokens.length == 0) {
            return null;
        }
        if (context.size() + tokens.length > capacity) {
            throw new IllegalStateException("full");
        }
        prefills.add(tokens.clone());
        for (int t : tokens) {
            context.add(t);
            generated.add(false);
        }
        recorded = false;
        return scriptedLogits();
    }

    @Override
    public OpCost prefillCost(int tokens) {
        return new OpCost(4L * tokens, 4L * tokens, tokens);
    }

    @Override
    public OpCost decodeCost(int tokens) {
        return new OpCost(8L * tokens, 4L * tokens, 2L * tokens);
    }

    @Override
    public void truncate(int length) {
        while (context.size() > length) {
            context.removeLast();
            generated.removeLast();
        }
        recorded = false;
    }

    @Override
    public void recordAttention(boolean on) {
        recording = on;
    }

    @Override
    public Tensor lastAttention() {
        if (!recorded) {
            throw new IllegalStateException("not recorded");
        }
        return Views.firstColumns(attention, context.size());
    }

    int[] tokens() {
        return context.stream().mapToInt(Integer::intValue).toArray();
    }

    private Tensor scriptedLogits() {
        int count = (int) generated.stream().filter(g -> g).count();
        Next next = script.apply(new State(tokens(), count));
        float rest = (float) Math.log((1 - next.probability()) / (vocab - 1));
        float[] row = new float[vocab];
        Arrays.fill(row, rest);
        row[next.token()] = (float) Math.log(next.probability());
        for (int i = 0; i < vocab; i++) {
            logits.set(0, i, row[i]);
        }
        return logits;
    }
}
