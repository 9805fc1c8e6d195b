package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.Hits;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.IntPredicate;

/**
 * DRAGIN, retrieval on the model's real-time information needs (Su et al., ACL 2024).
 *
 * <ol>
 *   <li><b>Prepare</b>: the documents are indexed by the {@link DocumentRetrieval}.</li>
 *   <li><b>Relevancy</b>: a look-ahead is decoded greedily, keeping each token's entropy
 *       ({@value Generation#CONFIDENCE}) and its last-layer attention over the context (read out by the model:
 *       dot and softmax per head); RIND scores each token ({@link DraginTrigger#scores}) and triggers at the first
 *       above the threshold; QFS forms the query from the {@code queryTokens} context tokens (default 25) the
 *       triggering token attends to most. The documents are scored for it.</li>
 *   <li><b>Retrieval</b>: the top k documents (default 3).</li>
 *   <li><b>Apply</b>: the output is cut before the triggering token, the documents' tokens are appended to the KV
 *       memory (a prefill) and generation continues after them.</li>
 * </ol>
 * A look-ahead that follows a retrieval is kept without a judgement, so generation always moves forward (the
 * paper's loop would otherwise retrieve again at once when the first new token still scores high); this and
 * the documents following the context rather than preceding the question are deliberate deviations.
 *
 * <p>Not thread-safe: one thread drives a pipeline and its model.
 */
public final class DraginPipeline implements Pipeline<List<int[]>, Lookahead, DraginPipeline.Trigger, Hits, int[]> {

    /**
     * @param lookaheadTokens tokens decoded before judging, {@code >= 2} (RIND needs a later token)
     * @param threshold       RIND score above which retrieval triggers, {@code >= 0}
     * @param queryTokens     context tokens in the query (QFS), {@code >= 1}
     * @param temperature     the logits are divided by it before the softmax that gives the entropies
     */
    public record Settings(int lookaheadTokens, float threshold, int queryTokens, float temperature) {
        /** Look-aheads of 16 tokens, threshold 1.0, 25 query tokens (the paper's), temperature 1. */
        public static final Settings DEFAULT = new Settings(16, 1.0f, 25, 1f);

        public Settings {
            if (lookaheadTokens < 2) {
                throw new IllegalArgumentException("lookaheadTokens must be >= 2, got " + lookaheadTokens);
            }
            if (!(threshold >= 0) || Float.isInfinite(threshold)) {
                throw new IllegalArgumentException("threshold must be finite and >= 0, got " + threshold);
            }
            KvPipelines.positive("queryTokens", queryTokens);
            if (!(temperature > 0) || Float.isInfinite(temperature)) {
                throw new IllegalArgumentException("temperature must be finite and > 0, got " + temperature);
            }
        }

        public Settings withTemperature(float t) {
            return new Settings(lookaheadTokens, threshold, queryTokens, t);
        }

        public Settings withThreshold(float t) {
            return new Settings(lookaheadTokens, t, queryTokens, temperature);
        }
    }

    /**
     * Relevancy's verdict.
     *
     * @param position the triggering token's position in the look-ahead, or -1 when none triggered
     * @param scores   every token's RIND score
     * @param query    the QFS query (empty when there is no trigger)
     */
    public record Trigger(int position, float[] scores, int[] query) {
        public boolean fired() {
            return position >= 0;
        }
    }

    private static final Hits NONE = new Hits(new int[0], new float[0]);

    private final DocumentRetrieval retrieval;
    private final Settings settings;
    private final IntPredicate stopWord;
    private final Generation generation;
    private boolean justRetrieved;

    /**
     * @param stopWord which token ids are stop words (neither trigger nor enter a query)
     * @param arena    where the scratch is allocated once (shared)
     */
    public DraginPipeline(Engine engine, LanguageModel model, DocumentRetrieval retrieval, Settings settings,
                          IntPredicate stopWord, Arena arena) {
        this.retrieval = Objects.requireNonNull(retrieval, "retrieval");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.stopWord = Objects.requireNonNull(stopWord, "stopWord");
        this.generation = new Generation(engine, model, settings.temperature(), arena);
    }

    public void start(int[] prompt) {
        generation.start(prompt);
    }

    public void resume(int[] contextTokens, Tensor logits) {
        generation.resume(contextTokens, logits);
    }

    // ---- Prepare ----

    @Override
    public void prepare(List<int[]> documents) {
        retrieval.add(documents);
    }

    /** Decodes the next look-ahead with its attention rows (tentatively in the context). */
    public Lookahead lookahead() {
        return generation.decode(settings.lookaheadTokens(), true);
    }

    // ---- Relevancy: RIND, then QFS ----

    @Override
    public Trigger relevancy(Lookahead sentence) {
        if (sentence.attention() == null) {
            throw new IllegalArgumentException("DRAGIN needs the look-ahead's attention rows: decode it with lookahead()");
        }
        int start = sentence.start();
        float[] scores = rind(sentence);
        int at = justRetrieved ? -1 : DraginTrigger.firstTrigger(scores, settings.threshold());
        if (at < 0) {
            return new Trigger(-1, scores, new int[0]);
        }
        int before = start + at; // the context the triggering token attends over, without itself
        float[] weights = Arrays.copyOf(sentence.attention()[at], before);
        int[] query = DraginTrigger.query(weights, generation.context(before), stopWord, settings.queryTokens());
        return new Trigger(at, scores, query);
    }

    // ---- Retrieval ----

    @Override
    public Hits retrieve(Trigger trigger) {
        return trigger.fired() && trigger.query().length > 0 ? retrieval.search(trigger.query()) : NONE;
    }

    // ---- Apply: cut at the trigger, re-prefill ----

    /** @return the tokens kept: the whole look-ahead, or those before the triggering token */
    @Override
    public int[] apply(Lookahead sentence, Hits documents) {
        if (sentence.start() + sentence.length() != generation.length()) {
            throw new IllegalStateException("the look-ahead is not the end of the context: judge each look-ahead "
                    + "before decoding the next");
        }
        int at = justRetrieved || documents.size() == 0 ? -1 : DraginTrigger.firstTrigger(rind(sentence),
                settings.threshold());
        boolean wasRetrieved = justRetrieved;
        justRetrieved = false;
        if (documents.size() == 0) {
            boolean fired = !wasRetrieved && DraginTrigger.firstTrigger(rind(sentence), settings.threshold()) >= 0;
            generation.count(sentence.length(), fired, documents);
            return sentence.tokens().clone();
        }
        int keep = at >= 0 ? at : sentence.length();
        generation.truncateAndPrefill(sentence.start() + keep, documents, retrieval);
        generation.count(keep, at >= 0, documents);
        justRetrieved = true;
        return Arrays.copyOf(sentence.tokens(), keep);
    }

    /** One look-ahead judged: the four steps. */
    public int[] sentence() {
        return step(lookahead());
    }

    /** Generates at least {@code tokens} tokens and returns them. */
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

    public int[] context() {
        return generation.context(generation.length());
    }

    public DynamicRagStats stats() {
        return generation.stats();
    }

    public Settings settings() {
        return settings;
    }

    /** RIND's score of every look-ahead token, from the attention among the look-ahead's own tokens. */
    private float[] rind(Lookahead sentence) {
        int n = sentence.length();
        float[][] among = new float[n][];
        for (int j = 0; j < n; j++) {
            among[j] = Arrays.copyOfRange(sentence.attention()[j], sentence.start(), sentence.start() + j + 1);
        }
        return DraginTrigger.scores(sentence.entropies(), among, sentence.tokens(), stopWord);
    }
}
