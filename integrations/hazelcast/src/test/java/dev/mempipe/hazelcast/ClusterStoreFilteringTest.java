package dev.mempipe.hazelcast;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.store.embedding.EmbeddingStore;
import dev.langchain4j.store.embedding.EmbeddingStoreWithFilteringIT;
import dev.mempipe.langchain4j.MiniLm;
import dev.mempipe.spi.ElementType;
import org.junit.jupiter.api.AfterEach;

/**
 * LangChain4j's filtering suite (which includes EmbeddingStoreIT) on the store backed by three members, with
 * {@code containsString}: filters are shipped to and tested on the members.
 */
class ClusterStoreFilteringTest extends EmbeddingStoreWithFilteringIT {
    private final ClusterStores.Backed backed = ClusterStores.create(ElementType.F32);

    @Override
    protected EmbeddingStore<TextSegment> embeddingStore() {
        return backed.store();
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
    void destroyStore() {
        backed.close();
    }
}
