package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.Hits;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Objects;

/**
 * The generation loop FLARE and DRAGIN share: greedy decoding from a {@link LanguageModel}, the token ids of the
 * context kept beside it (DRAGIN's query is made of them), each token's probability and entropy (Relevancy: the
 * trigger's input), and the re-prefill of retrieved documents (Apply). Not thread-safe.
 */
final class Generation {
    /** The profile label of a retrieved documents' prefill. */
    static final String PREFILL = "prefill";
    /** The profile label of the per-token softmax, probability and entropy. */
    static final String CONFIDENCE = "tokenConfidence";

    private final Engine engine;
    private final LanguageModel model;
    private final float scale;
    private final Tensor probabilities; // (1, vocab)
    private int[] context = new int[256];
    private int length;
    private Tensor pending;             // logits of the token after the context
    private DynamicRagStats stats = DynamicRagStats.ZERO;

    /** A token chosen greedily, with its probability and the entropy of its distribution. */
    record Choice(int token, float probability, float entropy) {
    }

    Generation(Engine engine, LanguageModel model, float temperature, Arena arena) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.model = Objects.requireNonNull(model, "model");
        if (!(temperature > 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be finite and > 0, got " + temperature);
        }
        this.scale = 1 / temperature;
        this.probabilities = Views.f32(arena, 1, model.vocab());
    }

    /** Prefills {@code prompt} (outside the profile's pipeline steps: it is the model's input). */
    void start(int[] prompt) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt must hold at least one token");
        }
        if (model.length() != 0) {
            throw new IllegalStateException("the model already holds " + model.length() + " tokens: use resume");
        }
        Tensor logits = model.prefill(prompt);
        resume(prompt, logits);
    }

    /**
     * Continues after a context the caller already put into the model.
     *
     * @param contextTokens the token ids at positions {@code [0, model.length())}
     * @param logits        the logits after the last of them {@code (1, vocab)}
     */
    void resume(int[] contextTokens, Tensor logits) {
        if (contextTokens.length != model.length()) {
            throw new IllegalArgumentException(contextTokens.length + " context tokens for a model holding "
                    + model.length());
        }
        if (logits.rows() != 1 || logits.cols() != model.vocab()) {
            throw new IllegalArgumentException("logits must be [1, " + model.vocab() + "], got " + logits.shapeString());
        }
        context = Arrays.copyOf(contextTokens, Math.max(256, contextTokens.length * 2));
        length = contextTokens.length;
        pending = logits;
    }

    /** Decodes {@code count} tokens greedily into the context, judging each; with the attention rows if asked. */
    Lookahead decode(int count, boolean withAttention) {
        if (pending == null) {
            throw new IllegalStateException("start (or resume) the generation first");
        }
        int start = length;
        int[] tokens = new int[count];
        float[] p = new float[count];
        float[] h = new float[count];
        float[][] attention = withAttention ? new float[count][] : null;
        model.recordAttention(withAttention);
        for (int i = 0; i < count; i++) {
            Choice c = choose(pending);
            tokens[i] = c.token();
            p[i] = c.probability();
            h[i] = c.entropy();
            pending = model.next(c.token());
            push(c.token());
            if (withAttention) {
                attention[i] = model.lastAttention().toFloatArray();
            }
        }
        stats = stats.plus(0, count, 0, 0, 0, 0, 0);
        return new Lookahead(start, tokens, p, h, attention);
    }

    /** Decodes {@code count} tokens greedily, unjudged (a regeneration). */
    int[] regenerate(int count) {
        model.recordAttention(false);
        int[] tokens = new int[count];
        for (int i = 0; i < count; i++) {
            tokens[i] = argmax(pending);
            pending = model.next(tokens[i]);
            push(tokens[i]);
        }
        stats = stats.plus(0, count, 0, 0, 0, 0, 0);
        return tokens;
    }

    /**
     * Apply: cuts the context back to {@code keep} positions and prefills the documents' tokens after it, as one
     * APPLY run labelled {@value #PREFILL}.
     */
    void truncateAndPrefill(int keep, Hits documents, DocumentRetrieval retrieval) {
        truncate(keep);
        int total = 0;
        int[][] docs = new int[documents.size()][];
        for (int r = 0; r < docs.length; r++) {
            docs[r] = retrieval.documentTokens(documents.id(r));
            total += docs[r].length;
        }
        int[] tokens = new int[total];
        int at = 0;
        for (int[] doc : docs) {
            System.arraycopy(doc, 0, tokens, at, doc.length);
            at += doc.length;
        }
        if (total == 0) {
            return;
        }
        if (model.length() + total > model.capacity()) {
            throw new IllegalStateException("the retrieved documents' " + total + " tokens do not fit the model's "
                    + "context: " + model.length() + " of " + model.capacity() + " positions are used");
        }
        OpCost cost = model.prefillCost(total);
        Tensor logits = engine.run(Step.APPLY, PREFILL, cost, b -> model.prefill(tokens));
        for (int t : tokens) {
            push(t);
        }
        pending = logits;
        stats = stats.plus(0, 0, 0, 0, 0, 0, total);
    }

    void truncate(int keep) {
        if (keep < 0 || keep > length) {
            throw new IllegalArgumentException("keep must be in [0, " + length + "], got " + keep);
        }
        model.truncate(keep);
        length = keep;
    }

    /** Records one judged look-ahead: how many tokens were kept, whether it triggered and retrieved. */
    void count(int kept, boolean triggered, Hits retrieved) {
        stats = stats.plus(kept, 0, 1, triggered ? 1 : 0, retrieved.size() > 0 ? 1 : 0, retrieved.size(), 0);
    }

    /** The context's token ids {@code [0, to)}. */
    int[] context(int to) {
        return Arrays.copyOf(context, to);
    }

    int length() {
        return length;
    }

    LanguageModel model() {
        return model;
    }

    DynamicRagStats stats() {
        return stats;
    }

    /** Relevancy: the greedy token of {@code logits}, its probability and the entropy, through the engine. */
    Choice choose(Tensor logits) {
        int vocab = model.vocab();
        OpCost cost = OpCosts.softmax(vocab, ElementType.F32, ElementType.F32)
                .plus(new OpCost(4L * vocab, 0, 3L * vocab));
        return engine.run(Step.RELEVANCY, CONFIDENCE, cost, b -> {
            b.relevancy().softmax(logits, scale, probabilities);
            MemorySegment ps = probabilities.data();
            int best = 0;
            float bestP = -1;
            double entropy = 0;
            for (int i = 0; i < vocab; i++) {
                float p = ps.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
                if (p > bestP) {   // strict: the lowest id wins a tie
                    bestP = p;
                    best = i;
                }
                if (p > 0) {
                    entropy -= p * Math.log(p);
                }
            }
            return new Choice(best, bestP, (float) Math.max(0, entropy));
        });
    }

    /** The lowest id of the largest logit (greedy decoding without judging it). */
    static int argmax(Tensor logits) {
        MemorySegment s = logits.data();
        int best = 0;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0, n = logits.cols(); i < n; i++) {
            float v = s.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
            if (v > max) {
                max = v;
                best = i;
            }
        }
        return best;
    }

    private void push(int token) {
        if (length == context.length) {
            context = Arrays.copyOf(context, 2 * length);
        }
        context[length++] = token;
    }
}
