package dev.mempipe.langchain4j;

import dev.mempipe.core.memory.HnswQuantization;
import dev.mempipe.core.memory.HnswSettings;
import dev.mempipe.spi.ElementType;

/** The store configurations the suites run against. */
final class Stores {
    private Stores() {
    }

    static MempipeEmbeddingStore exact() {
        return MempipeEmbeddingStore.builder().dimension(MiniLm.DIMENSION).build();
    }

    static MempipeEmbeddingStore hnsw() {
        return MempipeEmbeddingStore.builder().dimension(MiniLm.DIMENSION).approximate(HnswSettings.DEFAULT).build();
    }

    /** An hnsw store whose searches walk Lucene's quantized codes of the rows. */
    static MempipeEmbeddingStore hnsw(HnswQuantization codes) {
        return MempipeEmbeddingStore.builder().dimension(MiniLm.DIMENSION)
                .approximate(HnswSettings.DEFAULT.withQuantization(codes)).build();
    }

    static MempipeEmbeddingStore compact(ElementType storage) {
        return MempipeEmbeddingStore.builder().dimension(MiniLm.DIMENSION).storage(storage).build();
    }
}
