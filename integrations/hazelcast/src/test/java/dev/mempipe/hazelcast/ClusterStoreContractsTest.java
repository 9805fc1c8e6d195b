package dev.mempipe.hazelcast;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingStore;
import dev.langchain4j.store.embedding.EmbeddingStoreAddAllContract;
import dev.langchain4j.store.embedding.EmbeddingStoreRemoveAllContract;
import dev.mempipe.spi.ElementType;
import org.junit.jupiter.api.AfterEach;

import java.util.ArrayList;
import java.util.List;

/** LangChain4j's addAll and removeAll contracts on cluster-backed stores (a new store per call, as they ask). */
class ClusterStoreContractsTest implements EmbeddingStoreAddAllContract, EmbeddingStoreRemoveAllContract {
    private final List<ClusterStores.Backed> created = new ArrayList<>();

    @Override
    public EmbeddingStore<TextSegment> embeddingStore() {
        ClusterStores.Backed backed = ClusterStores.create(ElementType.F32);
        created.add(backed);
        return backed.store();
    }

    @AfterEach
    void destroyStores() {
        created.forEach(ClusterStores.Backed::close);
    }
}
