package dev.mempipe.langchain4j;

import dev.langchain4j.rag.content.Content;
import dev.langchain4j.rag.content.ContentMetadata;
import dev.langchain4j.rag.content.retriever.ContentRetriever;
import dev.langchain4j.rag.query.Query;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Hybrid retrieval by reciprocal rank fusion (Cormack, Clarke and Buettcher, SIGIR 2009): every retriever is asked
 * the same query, and a passage found at 1-based rank {@code r} in a retriever's list earns {@code 1 / (k + r)};
 * passages are returned by their summed score, best first, at most {@code maxResults}. RRF needs no score
 * calibration between retrievers, which is why it suits a cosine retriever and a BM25 one whose scores live on
 * different scales. {@code k} (default {@value #DEFAULT_K}, the paper's value) damps the weight of the top ranks:
 * a larger k flattens the difference between rank 1 and rank 10.
 *
 * <p>Passages are the same when their text is equal ({@link Content#textSegment()}{@code .text()}), whatever their
 * metadata: a dense store and a BM25 index over the same segments return equal texts. The fused {@link Content}
 * keeps the segment and {@link ContentMetadata#EMBEDDING_ID} of the first list it appeared in, and its
 * {@link ContentMetadata#SCORE} is the RRF score. A text repeated within one list counts once, at its best rank.
 * Ties go to the passage seen first (retrievers in the order given, each list in rank order).
 *
 * <p>The retrievers run one after another on the calling thread; each returns as many results as its own settings
 * say, so give them a larger {@code maxResults} than this retriever's (two to three times is usual) for the
 * fusion to see candidates that only one of them ranks high. Thread-safe when the retrievers are.
 */
public final class HybridRetriever implements ContentRetriever {
    /** The RRF constant of the original paper, also used by LangChain4j's {@code ReciprocalRankFuser}. */
    public static final int DEFAULT_K = 60;
    /** Results when the builder is not told otherwise. */
    public static final int DEFAULT_MAX_RESULTS = 3;

    private final List<ContentRetriever> retrievers;
    private final int k;
    private final int maxResults;

    private HybridRetriever(List<ContentRetriever> retrievers, int k, int maxResults) {
        this.retrievers = retrievers;
        this.k = k;
        this.maxResults = maxResults;
    }

    /** A builder over {@code retrievers}, at least one, fused in the order given. */
    public static Builder builder(List<? extends ContentRetriever> retrievers) {
        return new Builder(retrievers);
    }

    /** Fuses {@code retrievers} with the defaults. */
    public static HybridRetriever of(ContentRetriever... retrievers) {
        return builder(List.of(retrievers)).build();
    }

    @Override
    public List<Content> retrieve(Query query) {
        Objects.requireNonNull(query, "query");
        Map<String, Fused> byText = new LinkedHashMap<>(); // insertion order = first seen, the tie rule
        for (ContentRetriever retriever : retrievers) {
            List<Content> ranked = retriever.retrieve(query);
            Set<String> seenInList = new HashSet<>();
            int rank = 0;
            for (Content content : ranked) {
                rank++;
                String text = content.textSegment().text();
                if (seenInList.add(text)) {
                    byText.computeIfAbsent(text, t -> new Fused(content, byText.size())).score += 1.0 / (k + rank);
                }
            }
        }
        return byText.values().stream()
                .sorted(Comparator.comparingDouble((Fused f) -> -f.score).thenComparingInt(f -> f.firstSeen))
                .limit(maxResults)
                .map(Fused::toContent)
                .toList();
    }

    public int k() {
        return k;
    }

    public int maxResults() {
        return maxResults;
    }

    @Override
    public String toString() {
        return "HybridRetriever[k=" + k + ", maxResults=" + maxResults + ", retrievers=" + retrievers + "]";
    }

    /** One passage being fused: the first content seen for its text and its running RRF score. */
    private static final class Fused {
        private final Content first;
        private final int firstSeen;
        private double score;

        Fused(Content first, int firstSeen) {
            this.first = first;
            this.firstSeen = firstSeen;
        }

        Content toContent() {
            Map<ContentMetadata, Object> metadata = new EnumMap<>(ContentMetadata.class);
            metadata.put(ContentMetadata.SCORE, score);
            Object id = first.metadata().get(ContentMetadata.EMBEDDING_ID);
            if (id != null) {
                metadata.put(ContentMetadata.EMBEDDING_ID, id);
            }
            return Content.from(first.textSegment(), metadata);
        }
    }

    /** Settings of a {@link HybridRetriever}. */
    public static final class Builder {
        private final List<ContentRetriever> retrievers;
        private int k = DEFAULT_K;
        private int maxResults = DEFAULT_MAX_RESULTS;

        private Builder(List<? extends ContentRetriever> retrievers) {
            Objects.requireNonNull(retrievers, "retrievers");
            if (retrievers.isEmpty()) {
                throw new IllegalArgumentException("retrievers must not be empty");
            }
            for (int i = 0; i < retrievers.size(); i++) {
                if (retrievers.get(i) == null) {
                    throw new IllegalArgumentException("retrievers[" + i + "] is null");
                }
            }
            this.retrievers = List.copyOf(retrievers);
        }

        /** The RRF constant, {@code >= 0}; default {@value HybridRetriever#DEFAULT_K}. */
        public Builder k(int k) {
            if (k < 0) {
                throw new IllegalArgumentException("k must be >= 0, got " + k);
            }
            this.k = k;
            return this;
        }

        /** Results at most, {@code >= 1}; default {@value HybridRetriever#DEFAULT_MAX_RESULTS}. */
        public Builder maxResults(int maxResults) {
            this.maxResults = RetrieverArgs.maxResults(maxResults);
            return this;
        }

        public HybridRetriever build() {
            return new HybridRetriever(retrievers, k, maxResults);
        }
    }
}
