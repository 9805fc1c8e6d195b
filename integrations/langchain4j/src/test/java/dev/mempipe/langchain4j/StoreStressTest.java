package dev.mempipe.langchain4j;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Concurrent add, remove, search and save on one store, every result checked against a serial model of what the
 * writers did. Each operation is stamped with a global counter when it starts and when it ends; an entry is
 * <i>possibly live</i> during an interval if its add started before the interval ended and its removal did not end
 * before it began, and <i>surely live</i> if its add ended before the interval began and its removal did not start
 * before it ended. Then, for every exact search: each match is possibly live and carries its own vector with the
 * exact cosine as score; every surely live entry that scores above the last match is among the matches (and all
 * of them when fewer than k came back). Every save, loaded back, holds every surely live entry and only possibly
 * live ones, with their vectors. At the end the store equals the model exactly.
 *
 * <p>Seeded ({@code -Dmempipe.stress.seed}); {@code -Dmempipe.stress.scale=N} multiplies the operations (default
 * 1: about two seconds).
 */
class StoreStressTest {
    private static final long SEED = Long.getLong("mempipe.stress.seed", System.nanoTime());
    private static final int SCALE = Integer.getInteger("mempipe.stress.scale", 1);
    private static final int D = 16;
    private static final int WRITERS = 2;
    private static final int K = 8;

    @TempDir
    Path dir;

    /** One entry's history: stamps of its add and removal (Long.MAX_VALUE until they happen). */
    private static final class History {
        final Embedding vector;
        volatile long addStart = Long.MAX_VALUE;
        volatile long addEnd = Long.MAX_VALUE;
        volatile long removeStart = Long.MAX_VALUE;
        volatile long removeEnd = Long.MAX_VALUE;

        History(Embedding vector) {
            this.vector = vector;
        }

        boolean possiblyLive(long from, long to) {
            return addStart < to && removeEnd > from;
        }

        boolean surelyLive(long from, long to) {
            return addEnd < from && removeStart > to;
        }
    }

    @Test
    void every_result_should_agree_with_the_serial_model() throws Exception {
        System.out.println("StoreStressTest seed " + SEED + " scale " + SCALE + " (-Dmempipe.stress.seed=" + SEED
                + " -Dmempipe.stress.scale=" + SCALE + " reruns it)");
        int batches = 250 * SCALE;
        AtomicLong clock = new AtomicLong();
        Map<String, History> model = new ConcurrentHashMap<>();
        AtomicBoolean writing = new AtomicBoolean(true);
        ExecutorService threads = Executors.newFixedThreadPool(WRITERS + 3);
        long[] checked = new long[3]; // searches, matches, saves
        try (MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().build()) {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> writers = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                writers.add(threads.submit(() -> {
                    SplittableRandom random = new SplittableRandom(SEED + writer);
                    List<String> mine = new ArrayList<>();
                    start.await();
                    for (int b = 0; b < batches; b++) {
                        int n = 1 + random.nextInt(6);
                        List<String> ids = new ArrayList<>();
                        List<Embedding> vectors = SyntheticEmbeddings.clustered(random.nextLong(), n, D, 3);
                        for (int i = 0; i < n; i++) {
                            String id = "w" + writer + "-" + b + "-" + i;
                            ids.add(id);
                            model.put(id, new History(vectors.get(i)));
                        }
                        long s = clock.incrementAndGet();
                        ids.forEach(id -> model.get(id).addStart = s);
                        store.addAll(ids, vectors, null);
                        long e = clock.incrementAndGet();
                        ids.forEach(id -> model.get(id).addEnd = e);
                        mine.addAll(ids);
                        if (random.nextInt(3) == 0 && mine.size() > 4) {
                            List<String> gone = new ArrayList<>();
                            for (int i = 0; i < 3; i++) {
                                gone.add(mine.remove(random.nextInt(mine.size())));
                            }
                            long rs = clock.incrementAndGet();
                            gone.forEach(id -> model.get(id).removeStart = rs);
                            store.removeAll(gone);
                            long re = clock.incrementAndGet();
                            gone.forEach(id -> model.get(id).removeEnd = re);
                        }
                    }
                    return null;
                }));
            }
            List<Future<long[]>> searchers = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                int reader = r;
                searchers.add(threads.submit(() -> {
                    SplittableRandom random = new SplittableRandom(SEED + 100 + reader);
                    long searches = 0;
                    long matches = 0;
                    start.await();
                    while (writing.get() || searches < 5) {
                        Embedding query = SyntheticEmbeddings.clustered(random.nextLong(), 1, D, 1).getFirst();
                        long s = clock.incrementAndGet();
                        List<EmbeddingMatch<TextSegment>> got = store.search(EmbeddingSearchRequest.builder()
                                .queryEmbedding(query).maxResults(K).minScore(0.0).build()).matches();
                        long e = clock.incrementAndGet();
                        checkSearch(got, query, model, s, e);
                        searches++;
                        matches += got.size();
                    }
                    return new long[] {searches, matches};
                }));
            }
            Future<Integer> saver = threads.submit(() -> {
                int saves = 0;
                start.await();
                while (writing.get() || saves == 0) {
                    Path file = dir.resolve("stress.mpes");
                    long s = clock.incrementAndGet();
                    store.save(file);
                    long e = clock.incrementAndGet();
                    try (MempipeEmbeddingStore loaded = MempipeEmbeddingStore.load(file)) {
                        checkSnapshot(loaded, model, s, e);
                    }
                    saves++;
                }
                return saves;
            });
            start.countDown();
            for (Future<?> w : writers) {
                w.get(120, TimeUnit.SECONDS);
            }
            writing.set(false);
            for (Future<long[]> s : searchers) {
                long[] r = s.get(120, TimeUnit.SECONDS);
                checked[0] += r[0];
                checked[1] += r[1];
            }
            checked[2] = saver.get(120, TimeUnit.SECONDS);

            // quiescent: exactly the model
            long now = clock.incrementAndGet();
            Map<String, Embedding> live = new HashMap<>();
            model.forEach((id, h) -> {
                if (h.surelyLive(now, now)) {
                    live.put(id, h.vector);
                }
            });
            assertThat(store.size()).isEqualTo(live.size());
            checkSnapshot(store, model, now, now);
        } finally {
            threads.shutdownNow();
        }
        System.out.println("StoreStressTest: " + checked[0] + " searches (" + checked[1] + " matches) and " + checked[2]
                + " saves checked against the serial model, " + model.size() + " entries written");
        assertThat(checked[0]).isGreaterThanOrEqualTo(10);
    }

    private static void checkSearch(List<EmbeddingMatch<TextSegment>> got, Embedding query,
                                    Map<String, History> model, long from, long to) {
        double last = Double.POSITIVE_INFINITY;
        java.util.Set<String> ids = new java.util.HashSet<>();
        for (EmbeddingMatch<TextSegment> m : got) {
            History h = model.get(m.embeddingId());
            assertThat(h).as("a match the writers never added: " + m.embeddingId()).isNotNull();
            assertThat(h.possiblyLive(from, to)).as(m.embeddingId() + " cannot be live during the search").isTrue();
            assertThat(m.embedding()).isEqualTo(h.vector);
            double score = (ScalarOracle.cosine(query.vector(), h.vector.vector()) + 1) / 2;
            assertThat(m.score()).isCloseTo(score, within(2e-6));
            assertThat(m.score()).isLessThanOrEqualTo(last);
            assertThat(ids.add(m.embeddingId())).isTrue();
            last = m.score();
        }
        double floor = got.size() < K ? Double.NEGATIVE_INFINITY : last + 1e-5;
        model.forEach((id, h) -> {
            if (h.surelyLive(from, to)) {
                double score = (ScalarOracle.cosine(query.vector(), h.vector.vector()) + 1) / 2;
                if (score > floor) {
                    assertThat(ids).as(id + " was live throughout the search and scores " + score
                            + " above the results' last " + floor).contains(id);
                }
            }
        });
    }

    private static void checkSnapshot(MempipeEmbeddingStore snapshot, Map<String, History> model, long from, long to) {
        Map<String, Embedding> held = new HashMap<>();
        if (snapshot.size() > 0) {
            float[] probe = new float[D];
            probe[0] = 1;
            for (EmbeddingMatch<TextSegment> m : snapshot.search(EmbeddingSearchRequest.builder()
                    .queryEmbedding(Embedding.from(probe)).maxResults(snapshot.size()).minScore(0.0).build())
                    .matches()) {
                held.put(m.embeddingId(), m.embedding());
            }
        }
        assertThat(held).hasSize(snapshot.size());
        held.forEach((id, vector) -> {
            History h = model.get(id);
            assertThat(h != null && h.possiblyLive(from, to)).as(id + " in a snapshot it cannot be in").isTrue();
            assertThat(vector).isEqualTo(h.vector);
        });
        model.forEach((id, h) -> {
            if (h.surelyLive(from, to)) {
                assertThat(held).as(id + " was live throughout the save").containsKey(id);
            }
        });
    }
}
