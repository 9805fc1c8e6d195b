package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.Bm25Memory;
import dev.mempipe.core.memory.Hits;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Lexical RAG with BM25 (Robertson and Zaragoza, 2009; the FPGA kernel of the GPU + FPGA memory-pipeline work).
 *
 * <ol>
 *   <li><b>Prepare</b>: documents are tokenized into term ids and indexed ({@code bm25Index}).</li>
 *   <li><b>Relevancy</b>: the BM25 score of every document for the query's terms ({@code bm25Score}).</li>
 *   <li><b>Retrieval</b>: the top 64 documents ({@code topK}).</li>
 *   <li><b>Apply</b>: prompt assembly: the documents' text in rank order within a token budget.</li>
 * </ol>
 * Queries are term ids, or text looked up in the memory's vocabulary ({@link #step(String)}).
 */
public final class Bm25Pipeline implements Pipeline<List<String>, int[], Tensor, Hits, Prompt> {

    /**
     * @param params       k1, b and the idf variant
     * @param topK         documents retrieved
     * @param promptTokens the prompt's token budget
     */
    public record Settings(Bm25Params params, int topK, int promptTokens) {
        /** k1 1.2, b 0.75, Lucene idf; the top 64 documents; a 4096-token prompt. */
        public static final Settings DEFAULT = new Settings(Bm25Params.DEFAULT, 64, 4096);
        /** The published FPGA kernel's scoring (k1 1.2, b 0, classic idf); the top 64; a 4096-token prompt. */
        public static final Settings FPGA_KERNEL = new Settings(Bm25Params.FPGA_KERNEL, 64, 4096);

        public Settings {
            Objects.requireNonNull(params, "params");
            KvPipelines.positive("topK", topK);
            KvPipelines.positive("promptTokens", promptTokens);
        }
    }

    private final Engine engine;
    private final Bm25Memory memory;
    private final Settings settings;
    private final Arena arena;
    private final List<String> texts = new ArrayList<>(); // null for documents given as term ids
    private final Tensor documentScores;                   // (1, maxDocuments)
    private final Ranking ranking;
    private Indices queryTerms;                            // grows to the longest query seen

    /** @param arena where the scratch is allocated (shared) */
    public Bm25Pipeline(Engine engine, Bm25Memory memory, Settings settings, Arena arena) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.memory = Objects.requireNonNull(memory, "memory");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.arena = Objects.requireNonNull(arena, "arena");
        this.documentScores = Views.f32(arena, 1, memory.maxDocuments());
        this.ranking = new Ranking(engine, settings.topK(), arena);
        this.queryTerms = Indices.allocate(arena, 16);
    }

    // ---- Prepare: tokenize, then bm25Index ----

    /** Tokenizes and indexes {@code documents}; document ids continue from the ones held. */
    @Override
    public void prepare(List<String> documents) {
        long bytes = documents.stream().mapToLong(String::length).sum();
        engine.runVoid(Step.PREPARE, "tokenize", new OpCost(bytes, bytes, 0), b -> {
            for (String text : documents) {
                memory.appendText(text);
                texts.add(text);
            }
        });
        index();
    }

    /** Indexes documents given as term ids (their prompt text is the ids themselves). */
    public void prepareTokens(int[][] documents) {
        long tokens = Arrays.stream(documents).mapToLong(d -> d.length).sum();
        engine.runVoid(Step.PREPARE, "append", new OpCost(4 * tokens, 4 * tokens, 0), b -> {
            for (int[] terms : documents) {
                memory.append(terms);
                texts.add(null);
            }
        });
        index();
    }

    /** Builds the index now rather than at the first query: the memory runs {@code bm25Index} through the engine. */
    private void index() {
        memory.index();
    }

    // ---- Relevancy: s_doc = bm25Score(query, index) ----

    /** @return document scores {@code (1, N)} */
    @Override
    public Tensor relevancy(int[] terms) {
        Bm25Index index = memory.indexOn(engine.backendFor(Step.RELEVANCY));
        Indices query = queryOf(terms);
        Tensor scores = Views.firstColumns(documentScores, index.numDocs());   // (1, N)
        engine.runVoid(Op.BM25_SCORE, OpCosts.bm25Score(query, index, ElementType.F32),
                b -> b.relevancy().bm25Score(query, index, settings.params(), scores));
        return scores;
    }

    /** The query's term ids in the pipeline's scratch. */
    private Indices queryOf(int[] terms) {
        Objects.requireNonNull(terms, "terms");
        if (queryTerms.length() < terms.length) {
            queryTerms = Indices.allocate(arena, Math.max(terms.length, 2 * queryTerms.length()));
        }
        Indices query = queryTerms.prefix(terms.length);
        for (int i = 0; i < terms.length; i++) {
            query.set(i, terms[i]);
        }
        return query;
    }

    /**
     * One retrieval step. When the plan puts Relevancy and Retrieval on one device (not the CPU), scoring and the
     * top-k run as the fused {@code bm25TopK}: the N document scores never leave that device.
     */
    @Override
    public Prompt step(int[] terms) {
        if (!engine.fusesOnDevice(Step.RELEVANCY, Step.RETRIEVAL)) {
            return Pipeline.super.step(terms);
        }
        Bm25Index index = memory.indexOn(engine.backendFor(Step.RELEVANCY));
        Indices query = queryOf(terms);
        if (index.numDocs() == 0) {
            return apply(terms, new Hits(new int[0], new float[0]));
        }
        return apply(terms, withoutZeros(ranking.fused("bm25TopK", index.numDocs(), settings.topK(),
                OpCosts.bm25Score(query, index, ElementType.F32),
                (b, k, idx, val) -> b.fused().bm25TopK(query, index, settings.params(), k, idx, val))));
    }

    // ---- Retrieval: top 64 documents ----

    /**
     * The top documents, without those scoring exactly 0: they share no term with the query (an empty BM25
     * sum), so they carry nothing it asked for.
     */
    @Override
    public Hits retrieve(Tensor scores) {
        return withoutZeros(ranking.top(scores));
    }

    private static Hits withoutZeros(Hits top) {
        int[] ids = top.ids();
        float[] values = top.scores();
        int kept = 0;
        for (int i = 0; i < ids.length; i++) {
            if (values[i] != 0) {
                ids[kept] = ids[i];
                values[kept++] = values[i];
            }
        }
        return kept == ids.length ? top : new Hits(Arrays.copyOf(ids, kept), Arrays.copyOf(values, kept));
    }

    // ---- Apply: prompt assembly ----

    @Override
    public Prompt apply(int[] terms, Hits documents) {
        return PromptAssembly.assemble(engine, documents, settings.promptTokens(), this::text,
                doc -> memory.index().docLength(doc));
    }

    /** {@link #step} for a text query: its words that the documents hold, as term ids. */
    public Prompt step(String query) {
        return step(memory.tokenizer().lookup(query));
    }

    /** A document's text, or its term ids when it was given as ids. */
    public String text(int doc) {
        String text = texts.get(doc);
        if (text != null) {
            return text;
        }
        int[] terms = memory.document(doc);
        StringBuilder ids = new StringBuilder(terms.length * 6);
        for (int i = 0; i < terms.length; i++) {
            ids.append(i == 0 ? "" : " ").append(terms[i]);
        }
        return ids.toString();
    }

    public Bm25Memory memory() {
        return memory;
    }

    public Settings settings() {
        return settings;
    }
}
