package dev.mempipe.langchain4j;

import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.mempipe.core.memory.HnswSettings;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.langchain4j.store.embedding.filter.MetadataFilterBuilder.metadataKey;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Writers add and remove (growing the off-heap arrays and compacting) while readers search and a saver saves: no
 * reader sees a torn entry (every match carries the vector and segment added under its id, with the score that
 * vector gives), results stay sorted and unique, and the end state is exactly what the writers did.
 */
class ConcurrentStoreTest {
    private static final int D = 24;
    private static final int WRITERS = 2;
    private static final int BATCHES = 150;
    private static final int BATCH = 12;

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void should_stay_consistent_under_concurrent_adds_removals_searches_and_saves(boolean approximate)
            throws Exception {
        MempipeEmbeddingStore.Builder builder = MempipeEmbeddingStore.builder();
        if (approximate) {
            builder.approximate(HnswSettings.DEFAULT);
        }
        List<Embedding> pool = SyntheticEmbeddings.clustered(31, WRITERS * BATCHES * BATCH, D, 10);
        Map<String, Embedding> added = new ConcurrentHashMap<>();   // filled before the add: readers may see it
        Set<String> removed = ConcurrentHashMap.newKeySet();        // filled after the removal
        AtomicBoolean writing = new AtomicBoolean(true);
        ExecutorService threads = Executors.newFixedThreadPool(WRITERS + 3);
        try (MempipeEmbeddingStore store = builder.build()) {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> writers = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                writers.add(threads.submit(() -> {
                    start.await();
                    for (int b = 0; b < BATCHES; b++) {
                        List<String> ids = new ArrayList<>();
                        List<Embedding> vectors = new ArrayList<>();
                        List<TextSegment> segments = new ArrayList<>();
                        for (int i = 0; i < BATCH; i++) {
                            int n = (writer * BATCHES + b) * BATCH + i;
                            ids.add("w" + writer + "-" + n);
                            vectors.add(pool.get(n));
                            segments.add(TextSegment.from("text " + n, new Metadata().put("writer", writer)));
                            added.put(ids.getLast(), pool.get(n));
                        }
                        store.addAll(ids, vectors, segments);
                        if (b % 3 == 2) {
                            List<String> gone = ids.subList(0, BATCH / 2); // half of every third batch
                            store.removeAll(gone);
                            removed.addAll(gone);
                        }
                    }
                    return null;
                }));
            }
            List<Future<Integer>> readers = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                int reader = r;
                readers.add(threads.submit(() -> {
                    start.await();
                    int searches = 0;
                    while (writing.get() || searches < 10) {
                        Embedding query = pool.get((searches * 131 + reader) % pool.size());
                        var request = EmbeddingSearchRequest.builder().queryEmbedding(query).maxResults(15)
                                .filter(reader == 1 ? metadataKey("writer").isEqualTo(1) : null).build();
                        checkMatches(store.search(request).matches(), query, added, reader == 1 ? 1 : -1);
                        searches++;
                    }
                    return searches;
                }));
            }
            Future<Integer> saver = threads.submit(() -> {
                start.await();
                int saves = 0;
                while (writing.get() || saves == 0) {
                    Path file = dir.resolve("snapshot.mpes");
                    store.save(file);
                    try (MempipeEmbeddingStore snapshot = MempipeEmbeddingStore.load(file)) {
                        // a snapshot is a state between two writes: whole batches, and at most what was added
                        assertThat(snapshot.size() % (BATCH / 2)).isZero();
                        assertThat(snapshot.size()).isLessThanOrEqualTo(added.size());
                    }
                    saves++;
                }
                return saves;
            });
            start.countDown();
            for (Future<?> writer : writers) {
                writer.get(60, TimeUnit.SECONDS);
            }
            writing.set(false);
            int searches = 0;
            for (Future<Integer> reader : readers) {
                searches += reader.get(60, TimeUnit.SECONDS);
            }
            int saves = saver.get(60, TimeUnit.SECONDS);
            assertThat(searches).isGreaterThanOrEqualTo(20); // how many overlap the writes is up to the scheduler
            assertThat(saves).isPositive();

            Set<String> expected = new HashSet<>(added.keySet());
            expected.removeAll(removed);
            assertThat(store.size()).isEqualTo(expected.size());
            var all = EmbeddingSearchRequest.builder().queryEmbedding(pool.getFirst()).maxResults(100_000).build();
            List<EmbeddingMatch<TextSegment>> everything = store.searchAll(List.of(all)).getFirst().matches();
            assertThat(everything).extracting(EmbeddingMatch::embeddingId).containsExactlyInAnyOrderElementsOf(expected);
        } finally {
            threads.shutdownNow();
        }
    }

    private static void checkMatches(List<EmbeddingMatch<TextSegment>> matches, Embedding query,
                                     Map<String, Embedding> added, int writer) {
        Set<String> seen = new HashSet<>();
        double previous = Double.POSITIVE_INFINITY;
        for (EmbeddingMatch<TextSegment> m : matches) {
            assertThat(seen.add(m.embeddingId())).as("unique ids").isTrue();
            assertThat(m.score()).isLessThanOrEqualTo(previous);
            previous = m.score();
            Embedding original = added.get(m.embeddingId());
            assertThat(original).as("known id").isNotNull();
            assertThat(m.embedding()).isEqualTo(original);
            String n = m.embeddingId().substring(m.embeddingId().indexOf('-') + 1);
            assertThat(m.embedded().text()).isEqualTo("text " + n);
            if (writer >= 0) {
                assertThat(m.embedded().metadata().getInteger("writer")).isEqualTo(writer);
            }
            double cosine = ScalarOracle.cosine(query.vector(), original.vector());
            assertThat(m.score()).isCloseTo((cosine + 1) / 2, within(2e-6));
        }
    }
}
