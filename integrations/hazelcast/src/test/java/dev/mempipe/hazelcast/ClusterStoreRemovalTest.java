package dev.mempipe.hazelcast;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.store.embedding.EmbeddingStore;
import dev.langchain4j.store.embedding.EmbeddingStoreWithRemovalIT;
import dev.mempipe.langchain4j.MiniLm;
import dev.mempipe.spi.ElementType;
import org.junit.jupiter.api.AfterEach;

/** LangChain4j's removal suite on the store backed by three members (removal by filter runs on the members). */
class ClusterStoreRemovalTest extends EmbeddingStoreWithRemovalIT {
    private final ClusterStores.Backed backed = ClusterStores.create(ElementType.F32);

    @Override
    protected EmbeddingStore<TextSegment> embeddingStore() {
        return backed.store();
    }

    @Override
    protected EmbeddingModel embeddingModel() {
        return MiniLm.MODEL;
    }

    @AfterEach
    void destroyStore() {
        backed.close();
    }
}
