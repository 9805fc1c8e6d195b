package dev.mempipe.core.memory;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.LongUnaryOperator;
import java.util.function.Supplier;

import static dev.mempipe.core.memory.StressRace.check;

/**
 * The searching memories under one writer appending and two readers searching at once ({@link StressRace}), every
 * search checked against a serial model: the rows appended so far, in order. A search may run during an append, so it
 * must equal the exact answer of the model at one length the memory published between the reader's look at the
 * length before the search and its look after: its ids all held at that length, each with its own score, best first,
 * none left out that scores above the last one returned, and {@code min(k, held)} of them.
 *
 * <ul>
 *   <li>{@link EmbeddingMemory}: exact cosine search over the published prefix, no lock on the reader's side.</li>
 *   <li>{@link CompressedMemory}: top-k over a bounded ring whose appends evict the oldest (ids are sequence
 *       numbers; the held ones are the last {@code capacity} appended), some appends wrapping the ring or evicting
 *       more than the whole ring at once.</li>
 * </ul>
 * Seeded and scaled as {@link StressRace} says (the default run takes a few seconds; docs/RELIABILITY.md gives the
 * long run).
 */
class MemoryStressTest {
    private static final int D = 16;
    private static final int K = 5;
    private static final int QUERIES = 16;
    /** Cosine error bound of an f32 scan of D elements against the double model. */
    private static final float TOLERANCE = 1e-4f;

    @Test
    void embedding_memory_searches_should_each_equal_the_serial_model_at_one_published_length() throws Exception {
        int rows = 600 * StressRace.SCALE;
        float[][] data = rows(new SplittableRandom(StressRace.SEED), rows);
        float[][] queries = rows(new SplittableRandom(StressRace.SEED + 1), QUERIES);
        // batches of 1, 3 to 5, 11 and 1 to 12 rows: appends start and end at every offset of the scan's groups of
        // four rows
        StressRace.Plan plan = StressRace.Plan.batches(new SplittableRandom(StressRace.SEED + 2), rows, 4);
        System.out.println("MemoryStressTest (EmbeddingMemory): " + rows + " rows in " + plan.batches()
                + " appends; " + StressRace.reproduce(MemoryStressTest.class));
        Engine engine = MemoryTesting.engine();
        try (Arena arena = Arena.ofShared(); EmbeddingMemory memory = new EmbeddingMemory(arena, engine, D, rows)) {
            Tensor[] queryTensors = tensors(arena, queries);
            AtomicLong reads = new AtomicLong();
            StressRace.Result result = StressRace.run("EmbeddingMemory", plan,
                    batch -> memory.append(tensor(arena, data, plan.from(batch), plan.to(batch))),
                    memory::length,
                    () -> {
                        int q = (int) (reads.getAndIncrement() % QUERIES);
                        return searchAndCheck(plan, memory::length, () -> memory.search(queryTensors[q], K),
                                length -> 0, true, queries[q], data);
                    });
            System.out.println("MemoryStressTest (EmbeddingMemory): " + result);
        }
    }

    @Test
    void compressed_memory_reads_should_each_equal_the_serial_model_at_one_published_count() throws Exception {
        int rows = 600 * StressRace.SCALE;
        int capacity = 37;
        float[][] data = rows(new SplittableRandom(StressRace.SEED + 3), rows);
        float[][] queries = rows(new SplittableRandom(StressRace.SEED + 4), QUERIES);
        StressRace.Plan plan = compressedPlan(new SplittableRandom(StressRace.SEED + 5), rows, capacity);
        System.out.println("MemoryStressTest (CompressedMemory): " + rows + " summaries in " + plan.batches()
                + " appends, " + capacity + " held; " + StressRace.reproduce(MemoryStressTest.class));
        Engine engine = MemoryTesting.engine();
        try (Arena arena = Arena.ofShared();
             CompressedMemory memory = new CompressedMemory(arena, engine, D, capacity)) {
            Tensor[] queryTensors = tensors(arena, queries);
            AtomicLong reads = new AtomicLong();
            StressRace.Result result = StressRace.run("CompressedMemory", plan,
                    batch -> memory.append(tensor(arena, data, plan.from(batch), plan.to(batch))),
                    memory::appended,
                    () -> {
                        int q = (int) (reads.getAndIncrement() % QUERIES);
                        return searchAndCheck(plan, memory::appended, () -> memory.topK(queryTensors[q], K),
                                appended -> Math.max(0, appended - capacity), false, queries[q], data);
                    });
            System.out.println("MemoryStressTest (CompressedMemory): " + result);
        }
    }

    /**
     * Batches of 1 to 9 summaries, so that appends end at every slot of the ring and some wrap it, and about one in 25
     * of {@code capacity + 3}, which evicts everything held and never writes its own first 3 rows.
     */
    private static StressRace.Plan compressedPlan(SplittableRandom random, int total, int capacity) {
        List<Long> ends = new ArrayList<>(List.of(0L));
        long at = 0;
        while (at < total) {
            int size = random.nextInt(25) == 0 ? capacity + 3 : random.nextInt(1, 10);
            at = Math.min(total, at + size);
            ends.add(at);
        }
        return new StressRace.Plan(ends.stream().mapToLong(Long::longValue).toArray());
    }

    /**
     * One search and its check: the length before, the search, the length after; the hits must be the model's over
     * rows {@code [first(length), length)} at one published length in that window.
     *
     * @return whether the search overlapped an append
     */
    private static boolean searchAndCheck(StressRace.Plan plan, LongSupplier length,
                                          Supplier<Hits> search, LongUnaryOperator first,
                                          boolean cosine, float[] query, float[][] data) {
        long before = length.getAsLong();
        Hits hits = search.get();
        long after = length.getAsLong();
        String problem = "no length published between " + before + " and " + after;
        for (long published : plan.between(before, after)) {
            problem = mismatch(hits, query, data, first.applyAsLong(published), published, cosine);
            if (problem == null) {
                break;
            }
        }
        check(problem == null, "a search between lengths " + before + " and " + after + " equals the model at none "
                + "of them: " + problem + "; hits " + hits);
        return before != after;
    }

    /** Why {@code hits} is not the exact top k (cosine or dot) of rows {@code [from, to)}; null when it is. */
    private static String mismatch(Hits hits, float[] q, float[][] data, long from, long to, boolean cosine) {
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
                return "id " + id + " scored " + hits.score(rank) + ", the model says " + score + " at [" + from
                        + ", " + to + ")";
            }
            if (hits.score(rank) > last + TOLERANCE) {
                return "not best first at rank " + rank;
            }
            last = hits.score(rank);
        }
        for (long id = from; id < to; id++) {
            if (!ids.contains((int) id) && score(q, data[(int) id], cosine) > last + TOLERANCE) {
                return "id " + id + " scores " + score(q, data[(int) id], cosine) + ", above the last hit's " + last
                        + " at [" + from + ", " + to + ")";
            }
        }
        return null;
    }

    private static double score(float[] q, float[] row, boolean cosine) {
        return cosine ? MemoryTesting.cosine(q, row) : MemoryTesting.dot(q, row);
    }

    /** Rows {@code [from, to)} of {@code data} as one {@code [to - from, D]} tensor. */
    private static Tensor tensor(Arena arena, float[][] data, long from, long to) {
        float[][] batch = Arrays.copyOfRange(data, (int) from, (int) to);
        return Tensor.of(arena, StressRace.flat(batch), batch.length, D);
    }

    private static Tensor[] tensors(Arena arena, float[][] rows) {
        Tensor[] out = new Tensor[rows.length];
        for (int i = 0; i < rows.length; i++) {
            out[i] = Tensor.of(arena, rows[i], 1, D);
        }
        return out;
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
