package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.EmbeddingMemory;
import dev.mempipe.core.memory.Hits;
import dev.mempipe.core.memory.SimpleTokenizer;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Dense RAG: chunks embedded, normalized and searched by cosine (exactly, or with Lucene HNSW).
 *
 * <ol>
 *   <li><b>Prepare</b>: chunk embeddings normalized to unit length ({@code l2Normalize}) into an
 *       {@link EmbeddingMemory}; with approximate search, the HNSW graph is built too.</li>
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

    // ---- Prepare: l2Normalize into the memory (and the HNSW graph) ----

    @Override
    public void prepare(Chunks chunks) {
        Tensor e = chunks.embeddings();                                   // (n, d)
        engine.runVoid(Op.L2_NORMALIZE, OpCosts.l2Normalize(e.rows(), e.cols(), e.type(), memory.storage()),
                b -> memory.append(e));
        for (String text : chunks.texts()) {
            texts.add(text);
            tokenCounts.add(SimpleTokenizer.words(text).size());
        }
        if (settings.approximate() && memory.length() > 0) {
            // the graph grows on the next search: make that happen here, where it belongs
            Tensor probe = memory.vectors().rowSlice(0, 1);
            long n = memory.length();
            engine.runVoid(Step.PREPARE, "hnswBuild", annEstimate(n - memory.indexedRows(), n),
                    b -> memory.searchApproximate(probe, 1));
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
        return engine.run(Step.RETRIEVAL, "ann", annEstimate(1, memory.length()),
                b -> memory.searchApproximate(scores.query(), settings.topK()));
    }

    // ---- Apply: prompt assembly ----

    @Override
    public Prompt apply(Tensor query, Hits chunks) {
        return PromptAssembly.assemble(engine, chunks, settings.promptTokens(), texts::get, tokenCounts::get);
    }

    /**
     * An estimate of the work of {@code searches} HNSW searches (or insertions) over n vectors: Lucene's graph
     * search visits on the order of {@code beam * 2M} nodes (beam 100, M 16), each a d-dimensional dot product.
     * A model of the algorithm, not a count of what it did.
     */
    private OpCost annEstimate(long searches, long n) {
        long visited = Math.min(n, 100L * 32);
        long d = memory.dimension();
        long perSearch = OpCosts.tensorBytes(memory.storage(), visited, d);
        return new OpCost(searches * perSearch, searches * 8L * settings.topK(), searches * 2 * visited * d);
    }

    public EmbeddingMemory memory() {
        return memory;
    }

    public Settings settings() {
        return settings;
    }
}
