package dev.mempipe.langchain4j;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.store.embedding.EmbeddingStore;
import dev.langchain4j.store.embedding.EmbeddingStoreWithRemovalIT;
import org.junit.jupiter.api.AfterEach;

/** LangChain4j's removal suite on the hnsw store. */
class HnswStoreRemovalTest extends EmbeddingStoreWithRemovalIT {
    private final MempipeEmbeddingStore store = Stores.hnsw();

    @Override
    protected EmbeddingStore<TextSegment> embeddingStore() {
        return store;
    }

    @Override
    protected EmbeddingModel embeddingModel() {
        return MiniLm.MODEL;
    }

    @AfterEach
    void closeStore() {
        store.close();
    }
}
