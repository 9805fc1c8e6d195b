package dev.mempipe.langchain4j;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.rag.content.Content;
import dev.langchain4j.rag.content.ContentMetadata;
import dev.langchain4j.rag.content.retriever.ContentRetriever;
import dev.langchain4j.rag.query.Query;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.EmbeddingStore;
import dev.langchain4j.store.embedding.filter.Filter;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Dense retrieval: embeds the query with an {@link EmbeddingModel} and asks an {@code EmbeddingStore<TextSegment>}
 * (a {@link MempipeEmbeddingStore} or any other) for the {@code maxResults} segments of highest score, those
 * scoring at least {@code minScore} and passing the metadata {@code filter}. The model must be the one that
 * embedded the stored segments.
 *
 * <p>Each {@link Content} carries {@link ContentMetadata#SCORE} (the store's relevance score) and
 * {@link ContentMetadata#EMBEDDING_ID}. Matches stored without a segment are skipped: they have no text to give.
 *
 * <p>Thread-safe when the store and the model are; the settings are immutable.
 */
public final class DenseRetriever implements ContentRetriever {
    /** Results when the builder is not told otherwise (LangChain4j's own default). */
    public static final int DEFAULT_MAX_RESULTS = 3;

    private final EmbeddingStore<TextSegment> store;
    private final EmbeddingModel model;
    private final int maxResults;
    private final double minScore;
    private final Filter filter; // null: every segment qualifies

    private DenseRetriever(Builder b) {
        this.store = b.store;
        this.model = b.model;
        this.maxResults = b.maxResults;
        this.minScore = b.minScore;
        this.filter = b.filter;
    }

    /**
     * @param store the segments and their embeddings
     * @param model embeds the query; the one that embedded the stored segments
     */
    public static Builder builder(EmbeddingStore<TextSegment> store, EmbeddingModel model) {
        return new Builder(Objects.requireNonNull(store, "store"), Objects.requireNonNull(model, "model"));
    }

    @Override
    public List<Content> retrieve(Query query) {
        Objects.requireNonNull(query, "query");
        Embedding queryEmbedding = model.embed(query.text()).content();
        EmbeddingSearchRequest request = EmbeddingSearchRequest.builder()
                .query(query.text())
                .queryEmbedding(queryEmbedding)
                .maxResults(maxResults)
                .minScore(minScore)
                .filter(filter)
                .build();
        List<Content> contents = new ArrayList<>();
        for (EmbeddingMatch<TextSegment> match : store.search(request).matches()) {
            if (match.embedded() == null) {
                continue;
            }
            Map<ContentMetadata, Object> metadata = new EnumMap<>(ContentMetadata.class);
            metadata.put(ContentMetadata.SCORE, match.score());
            if (match.embeddingId() != null) {
                metadata.put(ContentMetadata.EMBEDDING_ID, match.embeddingId());
            }
            contents.add(Content.from(match.embedded(), metadata));
        }
        return contents;
    }

    public int maxResults() {
        return maxResults;
    }

    public double minScore() {
        return minScore;
    }

    @Override
    public String toString() {
        return "DenseRetriever[maxResults=" + maxResults + ", minScore=" + minScore + ", filter=" + filter + "]";
    }

    /** Settings of a {@link DenseRetriever}; every one has a default. */
    public static final class Builder {
        private final EmbeddingStore<TextSegment> store;
        private final EmbeddingModel model;
        private int maxResults = DEFAULT_MAX_RESULTS;
        private double minScore = 0;
        private Filter filter;

        private Builder(EmbeddingStore<TextSegment> store, EmbeddingModel model) {
            this.store = store;
            this.model = model;
        }

        /** Results at most, {@code >= 1}; default {@value DenseRetriever#DEFAULT_MAX_RESULTS}. */
        public Builder maxResults(int maxResults) {
            this.maxResults = RetrieverArgs.maxResults(maxResults);
            return this;
        }

        /** The lowest score returned, in {@code [0, 1]}; default 0 (no threshold). */
        public Builder minScore(double minScore) {
            this.minScore = RetrieverArgs.unitMinScore(minScore);
            return this;
        }

        /** Only segments whose metadata passes {@code filter}; null (the default) for all. */
        public Builder filter(Filter filter) {
            this.filter = filter;
            return this;
        }

        public DenseRetriever build() {
            return new DenseRetriever(this);
        }
    }
}
