package dev.mempipe.bench;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.EmbeddingSearchResult;
import dev.langchain4j.store.embedding.EmbeddingStore;
import dev.langchain4j.store.embedding.filter.Filter;
import dev.langchain4j.store.embedding.inmemory.InMemoryEmbeddingStore;
import dev.mempipe.core.memory.HnswSettings;
import dev.mempipe.langchain4j.MempipeEmbeddingStore;
import dev.mempipe.spi.ElementType;
import java.util.ArrayList;
import java.util.List;

import static dev.langchain4j.store.embedding.filter.MetadataFilterBuilder.metadataKey;

/** The stores under test, filled with a {@link ClusteredVectors} data set the same way. */
final class Lc4jStores {
    static final int TOP_K = 10;
    /** The 10% selective filter: {@code bucket == 3}. */
    static final Filter TEN_PERCENT = metadataKey("bucket").isEqualTo(ClusteredVectors.FILTER_BUCKET);

    private Lc4jStores() {
    }

    /** LangChain4j's stock store (dev.langchain4j:langchain4j 1.19.0, on langchain4j-core 1.20.0). */
    static InMemoryEmbeddingStore<TextSegment> stock(ClusteredVectors data) {
        InMemoryEmbeddingStore<TextSegment> store = new InMemoryEmbeddingStore<>();
        store.addAll(data.ids(), data.embeddings(), data.segments());
        return store;
    }

    static MempipeEmbeddingStore exact(ClusteredVectors data, ElementType storage) {
        MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().dimension(ClusteredVectors.DIMENSION)
                .storage(storage).build();
        store.addAll(data.ids(), data.embeddings(), data.segments());
        return store;
    }

    /** An HNSW store with its rows added; the add builds the graph (on {@code settings.buildThreads()} threads). */
    static MempipeEmbeddingStore hnsw(ClusteredVectors data, HnswSettings settings) {
        MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().dimension(ClusteredVectors.DIMENSION)
                .approximate(settings).build();
        store.addAll(data.ids(), data.embeddings(), data.segments());
        return store;
    }

    static EmbeddingSearchRequest request(ClusteredVectors data, int q, Filter filter) {
        return EmbeddingSearchRequest.builder().queryEmbedding(data.query(q)).maxResults(TOP_K).minScore(0.0)
                .filter(filter).build();
    }

    static int[] rows(EmbeddingSearchResult<TextSegment> result) {
        List<EmbeddingMatch<TextSegment>> matches = result.matches();
        int[] rows = new int[matches.size()];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = Integer.parseInt(matches.get(i).embeddingId().substring(4)); // "row-<n>"
        }
        return rows;
    }

    /** The rows the store returns for queries {@code [0, count)}, one search each. */
    static List<int[]> answers(EmbeddingStore<TextSegment> store, ClusteredVectors data, int count, Filter filter) {
        List<int[]> out = new ArrayList<>(count);
        for (int q = 0; q < count; q++) {
            out.add(rows(store.search(request(data, q, filter))));
        }
        return out;
    }
}
