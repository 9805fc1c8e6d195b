package dev.mempipe.hazelcast;

import dev.mempipe.langchain4j.MempipeEmbeddingStore;
import dev.mempipe.langchain4j.MiniLm;
import dev.mempipe.spi.ElementType;

/**
 * Stores backed by the shared cluster, as the suites use them. Stores created through one member are read and written
 * through all three in turn, so every suite call also checks that members agree.
 */
final class ClusterStores {
    private static int next;

    private ClusterStores() {
    }

    record Backed(MempipeEmbeddingStore store, ClusterEmbeddingStore backing) implements AutoCloseable {
        @Override
        public void close() {
            backing.destroy();
            store.close();
        }
    }

    static synchronized Backed create(ElementType storage) {
        ClusterEmbeddingStore backing = ClusterEmbeddingStore.builder(SharedCluster.member(next++ % 3),
                SharedCluster.uniqueName("store")).storage(storage).build();
        MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().dimension(MiniLm.DIMENSION).backedBy(backing)
                .build();
        return new Backed(store, backing);
    }
}
