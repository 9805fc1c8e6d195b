package dev.mempipe.langchain4j;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.mempipe.core.memory.HnswSettings;
import dev.mempipe.core.profile.StepRecord;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** When an approximate store builds its graph (adds, compactions, loads; never a search), and parallel searches. */
class HnswStoreBuildTest {
    private static final int D = 16;

    @Test
    void should_build_the_graph_when_rows_arrive_never_inside_a_search(@TempDir Path dir) throws Exception {
        long seed = Long.getLong("mempipe.test.seed", System.nanoTime());
        Random random = new Random(seed);
        String where = " (seed " + seed + ", -Dmempipe.test.seed=" + seed + ")";
        try (MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().dimension(D)
                .approximate(HnswSettings.DEFAULT.withBuildThreads(2)).build()) {
            List<String> ids = store.addAll(embeddings(random, 600));
            assertEquals(1, steps(store, "hnswBuild"), "the add built the graph" + where);
            store.add(Embedding.from(vector(random)));
            assertEquals(2, steps(store, "hnswBuild"), "a later add extends it" + where);
            for (int q = 0; q < 20; q++) {
                store.search(request(vector(random)));
            }
            assertEquals(2, steps(store, "hnswBuild"), "searches build nothing" + where);
            assertArrayEquals(new long[] {20, 0}, store.graphCounters(), "every search answered by the graph" + where);

            store.removeAll(ids.subList(0, 400)); // more than half dead: compaction renumbers, the graph is rebuilt
            assertEquals(3, steps(store, "hnswBuild"), "the compaction rebuilt the graph" + where);
            store.search(request(vector(random)));
            assertArrayEquals(new long[] {21, 0}, store.graphCounters(), "answered by the rebuilt graph" + where);

            Path file = dir.resolve("store.bin");
            store.save(file);
            try (MempipeEmbeddingStore loaded = MempipeEmbeddingStore.builder()
                    .approximate(HnswSettings.DEFAULT).load(file)) {
                assertEquals(1, steps(loaded, "hnswBuild"), "the load built the graph" + where);
                loaded.search(request(vector(random)));
                assertArrayEquals(new long[] {1, 0}, loaded.graphCounters(), where);
            }
        }
    }

    @Test
    void concurrent_searches_return_what_one_thread_returns() throws Exception {
        long seed = Long.getLong("mempipe.test.seed", System.nanoTime());
        Random random = new Random(seed);
        try (MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().dimension(D)
                .approximate(HnswSettings.DEFAULT).build()) {
            store.addAll(embeddings(random, 2000));
            List<float[]> queries = new ArrayList<>();
            List<List<String>> expected = new ArrayList<>();
            for (int q = 0; q < 50; q++) {
                float[] query = vector(random);
                queries.add(query);
                expected.add(idsOf(store, query));
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<List<String>>> answers = new ArrayList<>();
                for (int round = 0; round < 4; round++) {
                    for (float[] query : queries) {
                        answers.add(pool.submit(() -> idsOf(store, query)));
                    }
                }
                for (int i = 0; i < answers.size(); i++) {
                    assertEquals(expected.get(i % queries.size()), answers.get(i).get(),
                            "query " + i % queries.size() + " (seed " + seed + ")");
                }
            } finally {
                pool.shutdown();
            }
            assertEquals(50 + 200, store.graphCounters()[0], "all answered through the graph");
        }
    }

    private static List<String> idsOf(MempipeEmbeddingStore store, float[] query) {
        return store.search(request(query)).matches().stream().map(m -> m.embeddingId()).toList();
    }

    private static long steps(MempipeEmbeddingStore store, String op) {
        return store.engine().report().records().stream().map(StepRecord::op).filter(op::equals).count();
    }

    private static EmbeddingSearchRequest request(float[] query) {
        return EmbeddingSearchRequest.builder().queryEmbedding(Embedding.from(query)).maxResults(10).build();
    }

    private static List<Embedding> embeddings(Random random, int n) {
        List<Embedding> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(Embedding.from(vector(random)));
        }
        return out;
    }

    private static float[] vector(Random random) {
        float[] v = new float[D];
        for (int i = 0; i < D; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }
}
