package dev.mempipe.core.memory;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

import static dev.mempipe.core.memory.StressRace.check;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link HnswIndex}, the graph of {@link EmbeddingMemory}'s approximate search, under one writer doing what the
 * memory's append does (append rows to fixed {@link EmbeddingRows}, then extend the graph) while two readers search
 * the graph. A search that finds an extension running, or rows the graph does not hold yet, returns null (the memory
 * then answers with the exact scan, which {@link MemoryStressTest} covers); every other search walked the graph and
 * is checked against the serial model, the rows appended so far: at one length published between the reader's looks
 * before and after, {@code min(k, length)} distinct ids below that length, each with its exact cosine, best first.
 * A graph may miss a true neighbour, so "none left out" is not required of each search; but on these small graphs
 * the walk finds the exact answer almost always, so at least {@value #EXACT_SHARE_PERCENT}% of the graph searches
 * must equal the exact top k at a published length (a walk over a graph under rewrite, or one that ignores rows not
 * yet in the graph, falls below it). Seeded and scaled as {@link StressRace} says.
 */
class HnswIndexStressTest {
    private static final int D = 16;
    private static final int K = 5;
    private static final int QUERIES = 16;
    private static final int EXACT_SHARE_PERCENT = 95;

    @Test
    void approximate_searches_during_graph_extensions_should_each_be_the_serial_model_at_one_published_length()
            throws Exception {
        int rows = 300 * StressRace.SCALE;
        SplittableRandom random = new SplittableRandom(StressRace.SEED + 4);
        float[][] data = StressRace.gaussianRows(random, rows, D);
        float[][] queries = StressRace.gaussianRows(random, QUERIES, D);
        StressRace.Plan plan = StressRace.Plan.batches(random, rows, 4);
        System.out.println("HnswIndexStressTest: " + rows + " rows in " + plan.batches() + " appends, each "
                + "extending the graph; " + StressRace.reproduce(getClass()));
        AtomicLong reads = new AtomicLong();
        AtomicLong exact = new AtomicLong();
        AtomicLong walked = new AtomicLong();
        Backend cpu = MemoryTesting.cpu();
        try (Arena arena = Arena.ofShared();
             EmbeddingRows vectors = EmbeddingRows.fixed(MemoryTesting.engine(cpu), arena, ElementType.F32, D, rows)) {
            Tensor rowTensor = Tensor.of(arena, StressRace.flat(data), rows, D);
            var index = new HnswIndex(vectors, HnswSettings.DEFAULT);
            StressRace.Result result = StressRace.run("HnswIndex", plan,
                    batch -> {
                        vectors.append(rowTensor.rowSlice(plan.from(batch), plan.to(batch)));
                        index.extend(cpu);
                    },
                    vectors::rows,
                    () -> {
                        float[] query = queries[(int) (reads.getAndIncrement() % QUERIES)];
                        long before = vectors.rows();
                        Hits hits = index.search(cpu, query, K);
                        long after = vectors.rows();
                        if (hits == null) {
                            return before != after; // the caller answers exactly
                        }
                        walked.incrementAndGet();
                        String problem = "no length";
                        boolean isExact = false;
                        for (long n : plan.between(before, after)) {
                            problem = mismatch(hits, query, data, (int) n, false);
                            if (problem == null) {
                                isExact = isExact || mismatch(hits, query, data, (int) n, true) == null;
                            }
                        }
                        check(isExact || problem == null, "a search between lengths " + before + " and " + after
                                + " is the model's at none of them: " + problem + "; hits " + hits);
                        if (isExact) {
                            exact.incrementAndGet();
                        }
                        return before != after;
                    });
            System.out.println("HnswIndexStressTest: " + result.checks() + " searches during " + result.appends()
                    + " appends, " + result.overlapping() + " of them overlapping an append; " + walked.get()
                    + " walked the graph and were checked (the others returned null: an extension was running), all "
                    + "equal to the serial model, " + exact.get() + " of them the exact top " + K);
            assertTrue(walked.get() > 0, "no search walked the graph; " + StressRace.reproduce(getClass()));
            assertTrue(exact.get() * 100 >= EXACT_SHARE_PERCENT * walked.get(), exact.get() + " of " + walked.get()
                    + " graph searches were exact; " + StressRace.reproduce(getClass()));
            assertTrue(index.nodes() == rows, index.nodes() + " rows in the graph of " + rows);
        }
    }

    /**
     * Why {@code hits} is not a top-k answer over rows {@code [0, n)}: sizes, ids, exact cosines, order, and, when
     * {@code exact}, no row left out that scores above the last hit; null when it is.
     */
    private static String mismatch(Hits hits, float[] q, float[][] data, int n, boolean exact) {
        float tolerance = 1e-4f;
        if (hits.size() != Math.min(K, n)) {
            return hits.size() + " hits, " + Math.min(K, n) + " expected at length " + n;
        }
        Set<Integer> ids = new HashSet<>();
        float last = Float.POSITIVE_INFINITY;
        for (int rank = 0; rank < hits.size(); rank++) {
            int id = hits.id(rank);
            if (id < 0 || id >= n || !ids.add(id)) {
                return "id " + id + " is not held at length " + n + " or repeated";
            }
            double cosine = MemoryTesting.cosine(q, data[id]);
            if (Math.abs(hits.score(rank) - cosine) > tolerance) {
                return "id " + id + " scored " + hits.score(rank) + ", its cosine is " + cosine;
            }
            if (hits.score(rank) > last + tolerance) {
                return "not best first at rank " + rank;
            }
            last = hits.score(rank);
        }
        for (int id = 0; exact && id < n; id++) {
            if (!ids.contains(id) && MemoryTesting.cosine(q, data[id]) > last + tolerance) {
                return "id " + id + " scores " + MemoryTesting.cosine(q, data[id]) + ", above the last hit's " + last;
            }
        }
        return null;
    }
}
