package dev.mempipe.langchain4j;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingStore;
import dev.langchain4j.store.embedding.EmbeddingStoreAddAllContract;
import dev.langchain4j.store.embedding.EmbeddingStoreRemoveAllContract;
import org.junit.jupiter.api.AfterEach;

import java.util.ArrayList;
import java.util.List;

/** LangChain4j's addAll and removeAll contracts on the exact store (a new store per call, as they ask). */
class ExactStoreContractsTest implements EmbeddingStoreAddAllContract, EmbeddingStoreRemoveAllContract {
    private final List<MempipeEmbeddingStore> created = new ArrayList<>();

    @Override
    public EmbeddingStore<TextSegment> embeddingStore() {
        MempipeEmbeddingStore store = Stores.exact();
        created.add(store);
        return store;
    }

    @AfterEach
    void closeStores() {
        created.forEach(MempipeEmbeddingStore::close);
    }
}
