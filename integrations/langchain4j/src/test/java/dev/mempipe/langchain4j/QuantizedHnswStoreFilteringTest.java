package dev.mempipe.langchain4j;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.store.embedding.EmbeddingStore;
import dev.langchain4j.store.embedding.EmbeddingStoreWithFilteringIT;
import dev.mempipe.core.memory.HnswQuantization;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;

import java.util.concurrent.atomic.AtomicLongArray;

import static org.assertj.core.api.Assertions.assertThat;

/** LangChain4j's filtering suite (which includes EmbeddingStoreIT) on an hnsw store walking Lucene's INT4 codes. */
class QuantizedHnswStoreFilteringTest extends EmbeddingStoreWithFilteringIT {
    private final MempipeEmbeddingStore store = Stores.hnsw(HnswQuantization.INT4);

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

    private static final AtomicLongArray PATHS = new AtomicLongArray(2); // graph searches, exact fallbacks

    @AfterEach
    void closeStore() {
        long[] counters = store.graphCounters();
        PATHS.addAndGet(0, counters[0]);
        PATHS.addAndGet(1, counters[1]);
        store.close();
    }

    /** The suite must exercise the graph, not only the exact fallback (tiny filtered sets fall back by design). */
    @AfterAll
    static void reportSearchPaths() {
        System.out.printf("HNSW %s suite: %d searches through the graph, %d exact fallbacks%n", "filtering (INT4 codes)",
                PATHS.get(0), PATHS.get(1));
        assertThat(PATHS.get(0)).isPositive();
    }
}
