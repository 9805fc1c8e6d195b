package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.EmbeddingMemory;
import dev.mempipe.core.memory.Hits;
import dev.mempipe.core.memory.SimpleTokenizer;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Dense RAG: chunks embedded, normalized and searched by cosine (exactly, or with Lucene HNSW).
 *
 * <ol>
 *   <li><b>Prepare</b>: chunk embeddings converted to the memory's storage type with their inverse norms
 *       ({@code convert}) into an {@link EmbeddingMemory}; with approximate search, the HNSW graph is extended
 *       too ({@code hnswBuild}).</li>
 *   <li><b>Relevancy</b>: exact: {@code cosine} of the query with every chunk. Approximate: nothing here;
 *       the graph search scores as it walks, in Retrieval.</li>
 *   <li><b>Retrieval</b>: exact: {@code topK}; approximate: {@code ann}.</li>
 *   <li><b>Apply</b>: prompt assembly: the chunks' text in rank order within a token budget.</li>
 * </ol>
 * The embedding model itself is outside the pipeline: chunks and queries arrive as vectors.
 */
public final class DenseRagPipeline implements Pipeline<DenseRagPipeline.Chunks, Tensor, DenseRagPipeline.Scores,
        Hits, Prompt> {

    /**
     * @param topK         chunks retrieved
     * @param approximate  search with HNSW instead of scanning every chunk
     * @param promptTokens the prompt's token budget
     */
    public record Settings(int topK, boolean approximate, int promptTokens) {
        /** The top 8 chunks by exact cosine, a 4096-token prompt. */
        public static final Settings DEFAULT = new Settings(8, false, 4096);

        public Settings {
            KvPipelines.positive("topK", topK);
            KvPipelines.positive("promptTokens", promptTokens);
        }
    }

    /** New chunks: embeddings {@code [n, d]} and their texts (n of them). */
    public record Chunks(Tensor embeddings, List<String> texts) {
        public Chunks {
            Objects.requireNonNull(embeddings, "embeddings");
            texts = List.copyOf(texts);
            if (texts.size() != embeddings.rows()) {
                throw new IllegalArgumentException(texts.size() + " texts for " + embeddings.shapeString()
                        + " embeddings");
            }
        }
    }

    /**
     * Relevancy's result: the cosines {@code (1, n)} (exact search), or null with the query kept for the graph
     * search (approximate).
     */
    public record Scores(Tensor cosines, Tensor query) {
    }

    private final Engine engine;
    private final EmbeddingMemory memory;
    private final Settings settings;
    private final List<String> texts = new ArrayList<>();
    private final List<Integer> tokenCounts = new ArrayList<>();
    private final Tensor chunkScores; // (1, capacity)
    private final Ranking ranking;

    /** @param arena where the scratch is allocated once (shared) */
    public DenseRagPipeline(Engine engine, EmbeddingMemory memory, Settings settings, Arena arena) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.memory = Objects.requireNonNull(memory, "memory");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.chunkScores = Views.f32(arena, 1, memory.capacity());
        this.ranking = new Ranking(engine, settings.topK(), arena);
    }

    // ---- Prepare: convert into the memory (and the HNSW graph); the memory runs its ops through the engine ----

    @Override
    public void prepare(Chunks chunks) {
        memory.append(chunks.embeddings());                               // (n, d)
        for (String text : chunks.texts()) {
            texts.add(text);
            tokenCounts.add(SimpleTokenizer.words(text).size());
        }
        if (settings.approximate()) {
            memory.buildGraph(); // the first call builds the graph; from then on each append extends it
        }
    }

    // ---- Relevancy: s = cosine(q, chunks) ----

    @Override
    public Scores relevancy(Tensor query) {                               // (1, d)
        if (settings.approximate()) {
            return new Scores(null, query);
        }
        Tensor chunks = memory.vectors();                                 // (n, d), unit rows
        Tensor scores = Views.firstColumns(chunkScores, (int) chunks.rows()); // (1, n)
        engine.runVoid(Op.COSINE, OpCosts.cosine(1, chunks.rows(), chunks.cols(), query.type(), chunks.type(),
                ElementType.F32), b -> b.relevancy().cosine(query, chunks, scores));
        return new Scores(scores, query);
    }

    // ---- Retrieval: topK (exact) or ann (HNSW) ----

    @Override
    public Hits retrieve(Scores scores) {
        if (scores.cosines() != null) {
            return ranking.top(scores.cosines());
        }
        return memory.searchApproximate(scores.query(), settings.topK()); // one Retrieval step, "ann"
    }

    // ---- Apply: prompt assembly ----

    @Override
    public Prompt apply(Tensor query, Hits chunks) {
        return PromptAssembly.assemble(engine, chunks, settings.promptTokens(), texts::get, tokenCounts::get);
    }

    public EmbeddingMemory memory() {
        return memory;
    }

    public Settings settings() {
        return settings;
    }
}
