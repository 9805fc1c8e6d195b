package dev.mempipe.core.memory;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The core memories under one writer appending and two readers searching at once, every search checked against a
 * serial model: the rows appended so far, in order. A search may run during any number of appends, so it must equal
 * the exact answer of the model at one length the memory published between the reader's look at the length before
 * the search and its look after: its ids all below that length, each with its own score, best first, none left out
 * that scores above the last one returned, and {@code min(k, held)} of them.
 *
 * <ul>
 *   <li>{@link EmbeddingMemory}: exact cosine search over the published prefix, no lock on the reader's side.</li>
 *   <li>{@link CompressedMemory}: top-k over a bounded ring whose appends evict the oldest (ids are sequence
 *       numbers; the held ones are the last {@code capacity} appended).</li>
 * </ul>
 * Seeded ({@code -Dmempipe.stress.seed}); {@code -Dmempipe.stress.scale=N} appends N times as many rows (the default
 * takes seconds; docs/RELIABILITY.md gives the long run).
 */
class MemoryStressTest {
    private static final long SEED = Long.getLong("mempipe.stress.seed", System.nanoTime());
    private static final int SCALE = Integer.getInteger("mempipe.stress.scale", 1);
    private static final int D = 16;
    private static final int K = 5;
    private static final int READERS = 2;
    /** Cosine error bound of an f32 scan of D elements against the double model. */
    private static final float TOLERANCE = 1e-4f;
    private static final Engine ENGINE = Engine.builder().build();

    /** One reader's observation: the length before, the hits, the length after, for one query. */
    private record Observation(long before, Hits hits, long after, int query) {
    }

    @Test
    void embedding_memory_searches_should_each_equal_the_serial_model_at_one_published_length() throws Exception {
        int rows = 600 * SCALE;
        float[][] data = rows(new SplittableRandom(SEED), rows);
        float[][] queries = rows(new SplittableRandom(SEED + 1), 16);
        System.out.println("MemoryStressTest (EmbeddingMemory) seed " + SEED + ", " + rows + " rows "
                + "(-Dmempipe.stress.seed=" + SEED + " -Dmempipe.stress.scale=" + SCALE + " reruns it)");
        try (Arena arena = Arena.ofShared(); EmbeddingMemory memory = new EmbeddingMemory(arena, ENGINE, D, rows)) {
            Run run = race(new SplittableRandom(SEED + 2), data, batch -> memory.append(batch),
                    memory::length, q -> memory.search(Tensor.of(Arena.ofAuto(), queries[q], 1, D), K),
                    queries.length);
            int checked = 0;
            for (Observation o : run.observations()) {
                String problem = null;
                for (long length : run.published().subSet(o.before(), true, o.after(), true)) {
                    problem = mismatch(o.hits(), queries[o.query()], data, 0, length);
                    if (problem == null) {
                        break;
                    }
                }
                assertTrue(problem == null, "seed " + SEED + ": a search between lengths " + o.before() + " and "
                        + o.after() + " equals the model at none of them: " + problem + "; hits " + o.hits());
                checked++;
            }
            assertEquals(rows, memory.length());
            System.out.println("MemoryStressTest (EmbeddingMemory): " + checked + " searches checked during "
                    + run.appends() + " appends, " + overlapping(run) + " of them overlapping an append");
            assertTrue(checked > 0);
        }
    }

    @Test
    void compressed_memory_reads_should_each_equal_the_serial_model_at_one_published_count() throws Exception {
        int rows = 600 * SCALE;
        int capacity = 37;
        float[][] data = rows(new SplittableRandom(SEED + 3), rows);
        float[][] queries = rows(new SplittableRandom(SEED + 4), 16);
        System.out.println("MemoryStressTest (CompressedMemory) seed " + SEED + ", " + rows + " summaries");
        try (Arena arena = Arena.ofShared();
             CompressedMemory memory = new CompressedMemory(arena, ENGINE, D, capacity)) {
            Run run = race(new SplittableRandom(SEED + 5), data, memory::append, memory::appended,
                    q -> memory.topK(Tensor.of(Arena.ofAuto(), queries[q], 1, D), K), queries.length);
            int checked = 0;
            for (Observation o : run.observations()) {
                String problem = null;
                for (long appended : run.published().subSet(o.before(), true, o.after(), true)) {
                    long oldest = Math.max(0, appended - capacity);
                    problem = mismatchDot(o.hits(), queries[o.query()], data, oldest, appended);
                    if (problem == null) {
                        break;
                    }
                }
                assertTrue(problem == null, "seed " + SEED + ": a read between counts " + o.before() + " and "
                        + o.after() + " equals the model at none of them: " + problem + "; hits " + o.hits());
                checked++;
            }
            System.out.println("MemoryStressTest (CompressedMemory): " + checked + " reads checked during "
                    + run.appends() + " appends, " + overlapping(run) + " of them overlapping an append");
            assertTrue(checked > 0);
        }
    }

    /**
     * What the readers saw: every search that overlapped an append (its length changed meanwhile), and one in
     * {@value #QUIET_SAMPLE} of the others (checking all of them would take most of the run's time).
     */
    private record Run(List<Observation> observations, java.util.NavigableSet<Long> published, int appends) {
    }

    private static final int QUIET_SAMPLE = 16;

    @FunctionalInterface
    private interface Appender {
        void append(Tensor batch);
    }

    /**
     * Appends {@code data} in random batches of 1 to 9 rows while {@value #READERS} readers search (a few searches
     * between appends, and more during them); returns what they saw and every length published.
     */
    private static Run race(SplittableRandom random, float[][] data, Appender appender,
                            java.util.function.LongSupplier length, IntFunction<Hits> search, int queries)
            throws InterruptedException {
        java.util.TreeSet<Long> published = new java.util.TreeSet<>(List.of(length.getAsLong()));
        ConcurrentLinkedQueue<Observation> seen = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger searches = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> readers = new ArrayList<>();
        for (int r = 0; r < READERS; r++) {
            int reader = r;
            readers.add(Thread.ofPlatform().name("reader-" + r).start(() -> {
                try {
                    start.await();
                    int q = reader;
                    while (!done.get()) {
                        q = (q + 1) % queries;
                        long before = length.getAsLong();
                        Hits hits = search.apply(q);
                        long after = length.getAsLong();
                        if (searches.incrementAndGet() % QUIET_SAMPLE == 0 || after != before) {
                            seen.add(new Observation(before, hits, after, q));
                        }
                    }
                } catch (Throwable t) {
                    errors.add(t);
                }
            }));
        }
        AtomicInteger appends = new AtomicInteger();
        List<Long> lengths = new ArrayList<>();
        try (Arena batches = Arena.ofConfined()) {
            start.countDown();
            for (int at = 0; at < data.length; ) {
                int n = Math.min(data.length - at, random.nextInt(1, 10));
                float[] flat = new float[n * D];
                for (int i = 0; i < n; i++) {
                    System.arraycopy(data[at + i], 0, flat, i * D, D);
                }
                appender.append(Tensor.of(batches, flat, n, D));
                at += n;
                lengths.add(length.getAsLong());
                appends.incrementAndGet();
                // let the readers search between appends (a writer that runs ahead would race nothing), a random
                // number of times, so that searches overlap appends at varied points
                int target = searches.get() + random.nextInt(1, READERS + 2);
                while (searches.get() < target && errors.isEmpty()) {
                    Thread.yield();
                }
            }
        } finally {
            done.set(true);
            for (Thread t : readers) {
                t.join();
            }
        }
        assertTrue(errors.isEmpty(), () -> "seed " + SEED + ": a reader failed: " + errors.peek());
        published.addAll(lengths);
        return new Run(List.copyOf(seen), published, appends.get());
    }

    private static long overlapping(Run run) {
        return run.observations().stream().filter(o -> o.before() != o.after()).count();
    }

    /** Why {@code hits} is not the exact cosine top-k of rows {@code [from, to)}; null when it is. */
    static String mismatch(Hits hits, float[] q, float[][] data, long from, long to) {
        return check(hits, q, data, from, to, true);
    }

    /** As {@link #mismatch}, for the dot product (the compressed memory's summaries are not normalized here). */
    static String mismatchDot(Hits hits, float[] q, float[][] data, long from, long to) {
        return check(hits, q, data, from, to, false);
    }

    private static String check(Hits hits, float[] q, float[][] data, long from, long to, boolean cosine) {
        int expected = (int) Math.min(K, to - from);
        if (hits.size() != expected) {
            return hits.size() + " hits, " + expected + " expected at [" + from + ", " + to + ")";
        }
        Set<Integer> ids = new HashSet<>();
        float last = Float.POSITIVE_INFINITY;
        for (int rank = 0; rank < hits.size(); rank++) {
            int id = hits.id(rank);
            if (id < from || id >= to || !ids.add(id)) {
                return "id " + id + " is not held at [" + from + ", " + to + ") or repeated";
            }
            double score = score(q, data[id], cosine);
            if (Math.abs(hits.score(rank) - score) > TOLERANCE) {
                return "id " + id + " scored " + hits.score(rank) + ", the model says " + score;
            }
            if (hits.score(rank) > last + TOLERANCE) {
                return "not best first at rank " + rank;
            }
            last = hits.score(rank);
        }
        for (long id = from; id < to; id++) {
            if (!ids.contains((int) id) && score(q, data[(int) id], cosine) > last + TOLERANCE) {
                return "id " + id + " scores " + score(q, data[(int) id], cosine) + ", above the last hit's " + last;
            }
        }
        return null;
    }

    private static double score(float[] q, float[] row, boolean cosine) {
        double dot = 0;
        double qq = 0;
        double rr = 0;
        for (int i = 0; i < q.length; i++) {
            dot += (double) q[i] * row[i];
            qq += (double) q[i] * q[i];
            rr += (double) row[i] * row[i];
        }
        return cosine ? dot / Math.sqrt(qq * rr) : dot;
    }

    private static float[][] rows(SplittableRandom random, int n) {
        float[][] rows = new float[n][D];
        for (float[] row : rows) {
            for (int i = 0; i < D; i++) {
                row[i] = (float) random.nextDouble(-1, 1);
            }
        }
        return rows;
    }
}
