package dev.mempipe.langchain4j;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.store.embedding.EmbeddingStore;
import dev.langchain4j.store.embedding.EmbeddingStoreWithFilteringIT;
import dev.mempipe.spi.ElementType;
import org.junit.jupiter.api.AfterEach;

/**
 * LangChain4j's filtering suite on the compact BF16 store. Scores pass the suite's 1% tolerance; the one hook
 * changed is {@link #assertEmbedding()}: a BF16 store returns the decoded vector, not the bits that went in.
 */
class Bf16StoreFilteringTest extends EmbeddingStoreWithFilteringIT {
    private final MempipeEmbeddingStore store = Stores.compact(ElementType.BF16);

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

    @Override
    protected boolean assertEmbedding() {
        return false;
    }

    @AfterEach
    void closeStore() {
        store.close();
    }
}
