package dev.mempipe.langchain4j;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.store.embedding.EmbeddingStore;
import dev.langchain4j.store.embedding.EmbeddingStoreWithFilteringIT;
import org.junit.jupiter.api.AfterEach;

/** LangChain4j's filtering suite (which includes EmbeddingStoreIT) on the hnsw store, with `containsString`. */
class HnswStoreFilteringTest extends EmbeddingStoreWithFilteringIT {
    private final MempipeEmbeddingStore store = Stores.hnsw();

    @Override
    protected EmbeddingStore<TextSegment> embeddingStore() {
        return store;
    }

    @Override
    protected EmbeddingModel embeddingModel() {
        return MiniLm.MODEL;
    }

    @Override
    protected boolean supportsContains() {
        return true;
    }

    @AfterEach
    void closeStore() {
        store.close();
    }
}
