package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.Hits;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * FLARE, forward-looking active retrieval (Jiang et al., EMNLP 2023, FLARE-direct): retrieval is triggered
 * during generation, whenever the model is unsure of what it is about to say.
 *
 * <ol>
 *   <li><b>Prepare</b>: the documents are indexed by the {@link DocumentRetrieval} (bm25Index, or l2Normalize
 *       of their embeddings).</li>
 *   <li><b>Relevancy</b>: a look-ahead sentence is decoded greedily, each token's probability taken from the
 *       softmax of its logits ({@value Generation#CONFIDENCE}); the trigger fires when any is below the threshold
 *       (default 0.4), and the query is the sentence with those tokens masked ({@link FlareTrigger}). The
 *       documents are scored for it (bm25Score or cosine).</li>
 *   <li><b>Retrieval</b>: the top k documents (default 3, {@code topK}).</li>
 *   <li><b>Apply</b>: the look-ahead is thrown away, the documents' tokens are appended to the model's KV memory
 *       (a prefill, {@value Generation#PREFILL}) and the sentence is regenerated after them.</li>
 * </ol>
 * A sentence that does not trigger is kept as decoded. The regenerated sentence is kept without a second judgement
 * (FLARE regenerates once). Deviation: the documents follow the context instead of being put before the question,
 * which would re-prefill the whole context; the model reads them either way.
 *
 * <p>Use: {@link #start} (or {@link #resume}) once, then {@link #sentence()} (or the four steps) repeatedly. Not
 * thread-safe: one thread drives a pipeline and its model.
 */
public final class FlarePipeline implements Pipeline<List<int[]>, Lookahead, FlarePipeline.Trigger, Hits, int[]> {

    /**
     * @param lookaheadTokens tokens of a look-ahead sentence, {@code >= 1}
     * @param threshold       a token below this probability triggers retrieval, in {@code [0, 1]}
     * @param temperature     the logits are divided by it before the softmax that gives the probabilities
     */
    public record Settings(int lookaheadTokens, float threshold, float temperature) {
        /** Sentences of 16 tokens, threshold 0.4 (the paper's), temperature 1. */
        public static final Settings DEFAULT = new Settings(16, 0.4f, 1f);

        public Settings {
            KvPipelines.positive("lookaheadTokens", lookaheadTokens);
            FlareTrigger.checkThreshold(threshold);
            if (!(temperature > 0) || Float.isInfinite(temperature)) {
                throw new IllegalArgumentException("temperature must be finite and > 0, got " + temperature);
            }
        }

        public Settings withTemperature(float t) {
            return new Settings(lookaheadTokens, threshold, t);
        }

        public Settings withLookahead(int tokens) {
            return new Settings(tokens, threshold, temperature);
        }
    }

    /**
     * Relevancy's verdict on a look-ahead.
     *
     * @param lowConfidence the positions in the sentence below the threshold (empty: no trigger)
     * @param query         the masked query (empty when there is no trigger)
     */
    public record Trigger(int[] lowConfidence, int[] query) {
        public boolean fired() {
            return lowConfidence.length > 0;
        }
    }

    private static final Hits NONE = new Hits(new int[0], new float[0]);

    private final DocumentRetrieval retrieval;
    private final Settings settings;
    private final Generation generation;

    /**
     * @param model     the language model, empty until {@link #start}
     * @param retrieval the documents
     * @param arena     where the scratch is allocated once (shared)
     */
    public FlarePipeline(Engine engine, LanguageModel model, DocumentRetrieval retrieval, Settings settings,
                         Arena arena) {
        this.retrieval = Objects.requireNonNull(retrieval, "retrieval");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.generation = new Generation(engine, model, settings.temperature(), arena);
    }

    /** Prefills the prompt (token ids); generation continues after it. */
    public void start(int[] prompt) {
        generation.start(prompt);
    }

    /** Continues after {@code contextTokens}, already in the model, whose last logits are {@code logits}. */
    public void resume(int[] contextTokens, Tensor logits) {
        generation.resume(contextTokens, logits);
    }

    // ---- Prepare: the documents into the retrieval memory ----

    @Override
    public void prepare(List<int[]> documents) {
        retrieval.add(documents);
    }

    /** Decodes the next look-ahead sentence (tentatively in the context). */
    public Lookahead lookahead() {
        return generation.decode(settings.lookaheadTokens(), false);
    }

    // ---- Relevancy: the trigger and the masked query ----

    @Override
    public Trigger relevancy(Lookahead sentence) {
        int[] low = FlareTrigger.lowConfidence(sentence.probabilities(), settings.threshold());
        return low.length == 0 ? new Trigger(low, new int[0])
                : new Trigger(low, FlareTrigger.maskedQuery(sentence.tokens(), sentence.probabilities(),
                        settings.threshold()));
    }

    // ---- Retrieval: the top documents for the query ----

    @Override
    public Hits retrieve(Trigger trigger) {
        return trigger.fired() ? retrieval.search(trigger.query()) : NONE;
    }

    // ---- Apply: re-prefill and regenerate ----

    /** @return the sentence kept: the look-ahead, or its regeneration after the documents */
    @Override
    public int[] apply(Lookahead sentence, Hits documents) {
        if (sentence.start() + sentence.length() != generation.length()) {
            throw new IllegalStateException("the look-ahead is not the end of the context: judge each look-ahead "
                    + "before decoding the next");
        }
        boolean fired = FlareTrigger.fires(sentence.probabilities(), settings.threshold());
        if (documents.size() == 0) {
            generation.count(sentence.length(), fired, documents);
            return sentence.tokens().clone();
        }
        generation.truncateAndPrefill(sentence.start(), documents, retrieval);
        int[] kept = generation.regenerate(sentence.length());
        generation.count(kept.length, fired, documents);
        return kept;
    }

    /** One look-ahead judged: the four steps. */
    public int[] sentence() {
        return step(lookahead());
    }

    /** Generates at least {@code tokens} tokens, whole sentences, and returns them. */
    public int[] generate(int tokens) {
        int[] out = new int[0];
        while (out.length < tokens) {
            int[] s = sentence();
            int at = out.length;
            out = Arrays.copyOf(out, at + s.length);
            System.arraycopy(s, 0, out, at, s.length);
        }
        return out;
    }

    /** The context's token ids: prompt, kept tokens and prefilled documents. */
    public int[] context() {
        return generation.context(generation.length());
    }

    public DynamicRagStats stats() {
        return generation.stats();
    }

    public Settings settings() {
        return settings;
    }

    public DocumentRetrieval retrieval() {
        return retrieval;
    }
}
