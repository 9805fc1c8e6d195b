package dev.mempipe.langchain4j.rag;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.rag.content.Content;
import dev.langchain4j.rag.content.retriever.ContentRetriever;
import dev.langchain4j.rag.query.Query;
import dev.langchain4j.store.embedding.EmbeddingStore;
import dev.mempipe.core.memory.SimpleTokenizer;
import dev.mempipe.langchain4j.Bm25Retriever;
import dev.mempipe.langchain4j.DenseRetriever;
import dev.mempipe.langchain4j.HybridRetriever;
import dev.mempipe.langchain4j.MempipeEmbeddingStore;

import java.util.List;
import java.util.Objects;

/**
 * Retrieval-augmented generation without a network: passages embedded by a local {@link EmbeddingModel} (for
 * example all-MiniLM-L6-v2, which runs in-process through ONNX) and stored in a {@link MempipeEmbeddingStore},
 * and indexed by BM25 as well, so that a query is answered with its top passages by any of the three
 * {@link RetrievalMode}s. The retrievers it hands out plug into a LangChain4j {@code RetrievalAugmentor}.
 *
 * <pre>{@code
 * try (RagIndex index = RagIndex.build(TextFolder.passages(Path.of("docs")),
 *         new AllMiniLmL6V2QuantizedEmbeddingModel())) {
 *     List<Content> top = index.search("How do bees tell each other where flowers are?", RetrievalMode.HYBRID, 3);
 * }
 * }</pre>
 *
 * <p>Scores: dense results carry the store's relevance score, {@code (cosine + 1) / 2} as LangChain4j reports it;
 * BM25 results the BM25 score; hybrid results the reciprocal-rank-fusion score.
 *
 * <p>Immutable once built; queries are thread-safe when the model is (the ONNX models are). {@link #close} frees
 * the store's off-heap memory when the index made the store itself.
 */
public final class RagIndex implements AutoCloseable {
    /** How many candidates each retriever hands a hybrid fusion per result it returns. */
    private static final int HYBRID_CANDIDATES_PER_RESULT = 3;
    /** The fewest candidates each retriever hands a hybrid fusion, so that a top-1 fusion still sees a list. */
    private static final int MIN_HYBRID_CANDIDATES = 10;

    /** Passages per {@code embedAll} call: progress is reported after each batch. */
    static final int EMBED_BATCH = 32;

    /** Told how many passages are embedded so far, after each batch; for a progress display. */
    @FunctionalInterface
    public interface EmbeddingProgress {
        EmbeddingProgress NONE = (done, total) -> { };

        void embedded(int done, int total);
    }

    private final EmbeddingModel model;               // null for a lexical index
    private final EmbeddingStore<TextSegment> store;  // null for a lexical index
    private final MempipeEmbeddingStore ownedStore; // the store when this index made it, else null
    private final Bm25Retriever bm25;
    private final int size;

    private RagIndex(List<TextSegment> passages, EmbeddingModel model, EmbeddingStore<TextSegment> store,
                     MempipeEmbeddingStore ownedStore, EmbeddingProgress progress) {
        Objects.requireNonNull(passages, "passages");
        Objects.requireNonNull(progress, "progress");
        if (passages.isEmpty()) {
            throw new IllegalArgumentException("passages must not be empty");
        }
        this.model = model;
        this.store = store;
        this.ownedStore = ownedStore;
        if (model != null) {
            for (int from = 0; from < passages.size(); from += EMBED_BATCH) {
                List<TextSegment> batch = passages.subList(from, Math.min(passages.size(), from + EMBED_BATCH));
                List<Embedding> embeddings = model.embedAll(batch).content();
                store.addAll(embeddings, batch);
                progress.embedded(from + batch.size(), passages.size());
            }
        }
        int words = passages.stream().mapToInt(p -> SimpleTokenizer.words(p.text()).size()).sum();
        this.bm25 = Bm25Retriever.builder().initialCapacity(passages.size(), Math.max(1, words)).build();
        bm25.addAll(passages);
        this.size = passages.size();
    }

    /**
     * Embeds {@code passages} with {@code model} into a new in-memory, exact {@link MempipeEmbeddingStore}, which
     * {@link #close} frees.
     *
     * @throws IllegalArgumentException when {@code passages} is empty
     */
    public static RagIndex build(List<TextSegment> passages, EmbeddingModel model) {
        return build(passages, model, EmbeddingProgress.NONE);
    }

    /**
     * {@link #build(List, EmbeddingModel)}, telling {@code progress} after each batch of {@value #EMBED_BATCH}
     * passages: embedding is the slow part (minutes for tens of megabytes of text).
     */
    public static RagIndex build(List<TextSegment> passages, EmbeddingModel model, EmbeddingProgress progress) {
        Objects.requireNonNull(model, "model");
        MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().dimension(model.dimension()).build();
        try {
            return new RagIndex(passages, model, store, store, progress);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /**
     * Embeds {@code passages} with {@code model} into {@code store}, and indexes them by BM25.
     *
     * @param store an empty store, or one whose other entries were embedded by the same model; the caller keeps
     *              it ({@link #close} leaves it open)
     * @throws IllegalArgumentException when {@code passages} is empty
     */
    public static RagIndex build(List<TextSegment> passages, EmbeddingModel model, EmbeddingStore<TextSegment> store) {
        return new RagIndex(passages, Objects.requireNonNull(model, "model"), Objects.requireNonNull(store, "store"),
                null, EmbeddingProgress.NONE);
    }

    /**
     * Indexes {@code passages} by BM25 only: nothing is embedded (fast, no model needed); only
     * {@link RetrievalMode#BM25} can be asked of it.
     *
     * @throws IllegalArgumentException when {@code passages} is empty
     */
    public static RagIndex lexical(List<TextSegment> passages) {
        return new RagIndex(passages, null, null, null, EmbeddingProgress.NONE);
    }

    /** A retriever of the {@code maxResults} best passages by {@code mode}. */
    public ContentRetriever retriever(RetrievalMode mode, int maxResults) {
        Objects.requireNonNull(mode, "mode");
        if (model == null && mode != RetrievalMode.BM25) {
            throw new IllegalStateException(mode + " retrieval needs embeddings, but this index was built with "
                    + "RagIndex.lexical (BM25 only)");
        }
        return switch (mode) {
            case DENSE -> DenseRetriever.builder(store, model).maxResults(maxResults).build();
            case BM25 -> bm25.withMaxResults(maxResults);
            case HYBRID -> {
                int candidates = Math.max(MIN_HYBRID_CANDIDATES, HYBRID_CANDIDATES_PER_RESULT * maxResults);
                yield HybridRetriever.builder(List.of(retriever(RetrievalMode.DENSE, candidates),
                        retriever(RetrievalMode.BM25, candidates))).maxResults(maxResults).build();
            }
        };
    }

    /** The {@code maxResults} best passages for {@code query}, best first, with their scores in the metadata. */
    public List<Content> search(String query, RetrievalMode mode, int maxResults) {
        return retriever(mode, maxResults).retrieve(Query.from(query));
    }

    /** Passages indexed. */
    public int size() {
        return size;
    }

    /** The embedding store; a lexical index has none. */
    public EmbeddingStore<TextSegment> store() {
        if (store == null) {
            throw new IllegalStateException("this index was built with RagIndex.lexical: it has no embedding store");
        }
        return store;
    }

    /** Closes the store if this index made it; a store given to {@code build} stays open. Idempotent. */
    @Override
    public void close() {
        if (ownedStore != null) {
            ownedStore.close();
        }
    }
}
