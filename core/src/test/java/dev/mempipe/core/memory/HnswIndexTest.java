package dev.mempipe.core.memory;

import dev.mempipe.core.profile.OpCost;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import org.apache.lucene.util.FixedBitSet;
import org.apache.lucene.util.VectorUtil;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;

import static dev.mempipe.core.memory.MemoryTesting.reproduce;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link HnswIndex} over plain on-heap rows: exact scores and order, filters, the exact-scan signal, growth. */
class HnswIndexTest {
    private static final HnswSettings WIDE = new HnswSettings(16, 100, 400, 42);
    private static final Backend CPU = MemoryTesting.cpu();

    @Test
    void should_find_the_exact_top_k_of_a_small_set_with_exact_cosines_and_ties_by_lower_row() {
        long seed = MemoryTesting.seed();
        Random random = new Random(seed);
        Rows rows = Rows.gaussian(random, 97, 7);
        rows.add(rows.get(13).clone()); // row 97 ties row 13 exactly
        var index = new HnswIndex(rows, WIDE);
        index.extend(CPU);
        for (int q = 0; q < 10; q++) {
            float[] query = q == 0 ? unit(rows.get(13)) : unit(MemoryTesting.gaussian(random, 7));
            Hits hits = index.search(CPU, query, 9);
            assertNotNull(hits);
            int[] expected = bruteForce(rows, query, 9, null);
            assertEquals(Arrays.toString(expected), Arrays.toString(hits.ids()), "query " + q + " "
                    + reproduce(seed, getClass()));
            for (int rank = 0; rank < hits.size(); rank++) {
                // the index normalizes the (already unit) query again with l2Normalize: equal up to its rounding
                assertEquals(rows.exact(query, hits.id(rank)), hits.score(rank), 1e-6, "exact cosine at rank " + rank);
            }
        }
        assertEquals(13, index.search(CPU, unit(rows.get(13)), 2).id(0));
        assertEquals(97, index.search(CPU, unit(rows.get(13)), 2).id(1));
        assertEquals(new HnswIndex.Counts(12, 0), index.counts());
    }

    @Test
    void should_return_only_accepted_rows_through_the_graph_when_the_filter_is_broad() {
        long seed = MemoryTesting.seed();
        Random random = new Random(seed);
        Rows rows = Rows.gaussian(random, 3000, 16);
        FixedBitSet accept = new FixedBitSet(rows.rows());
        IntStream.range(0, rows.rows()).filter(i -> random.nextInt(10) < 7).forEach(accept::set);
        var index = new HnswIndex(rows, HnswSettings.DEFAULT);
        index.extend(CPU);
        int found = 0;
        for (int q = 0; q < 20; q++) {
            float[] query = unit(MemoryTesting.gaussian(random, 16));
            Hits hits = index.search(CPU, query, 10, accept, accept.cardinality());
            assertNotNull(hits, "a 70% filter is answered through the graph " + reproduce(seed, getClass()));
            Set<Integer> truth = new HashSet<>();
            Arrays.stream(bruteForce(rows, query, 10, accept)).forEach(truth::add);
            for (int id : hits.ids()) {
                assertTrue(accept.get(id), "row " + id + " is not accepted");
                found += truth.contains(id) ? 1 : 0;
            }
        }
        assertTrue(found >= 0.9 * 200, "recall@10 " + found / 200.0 + " " + reproduce(seed, getClass()));
        assertEquals(new HnswIndex.Counts(20, 0), index.counts());
    }

    @Test
    void should_ask_for_an_exact_scan_when_a_filter_accepts_too_few_rows() {
        long seed = MemoryTesting.seed();
        Random random = new Random(seed);
        Rows rows = Rows.gaussian(random, 2000, 8);
        FixedBitSet accept = new FixedBitSet(rows.rows());
        accept.set(5);
        accept.set(1000);
        accept.set(1999);
        var index = new HnswIndex(rows, HnswSettings.DEFAULT);
        index.extend(CPU);
        assertNull(index.search(CPU, unit(MemoryTesting.gaussian(random, 8)), 3, accept, 3),
                "visiting more than 3 nodes costs more than scanning 3 rows " + reproduce(seed, getClass()));
        assertEquals(new HnswIndex.Counts(0, 1), index.counts());
        assertEquals(0, index.search(CPU, unit(rows.get(0)), 3, new FixedBitSet(rows.rows()), 0).size());
    }

    @Test
    void should_extend_the_graph_with_appended_rows_and_rebuild_it_after_reset() {
        Random random = new Random(1);
        Rows rows = new Rows(3);
        var index = new HnswIndex(rows, HnswSettings.DEFAULT);
        assertEquals(0, index.search(CPU, new float[] {1, 0, 0}, 4).size(), "no rows, no hits");
        for (int i = 0; i < 33; i++) {
            rows.add(MemoryTesting.gaussian(random, 3));
        }
        assertNull(index.search(CPU, new float[] {1, 0, 0}, 4), "rows outside the graph: a search never builds");
        assertEquals(0, index.nodes());
        index.extend(CPU);
        assertEquals(4, index.search(CPU, new float[] {1, 0, 0}, 4).size());
        assertEquals(33, index.nodes());
        rows.add(new float[] {5, 0, 0});
        assertNull(index.search(CPU, new float[] {1, 0, 0}, 1), "the appended row is not in the graph yet");
        index.extend(CPU);
        assertEquals(33, index.search(CPU, new float[] {1, 0, 0}, 1).id(0), "the appended row is found");
        assertEquals(34, index.nodes());
        index.reset();
        assertEquals(0, index.nodes());
        index.extend(CPU);
        assertEquals(34, index.search(CPU, new float[] {1, 0, 0}, 40).size(), "k beyond the rows returns them all");
        assertEquals(34, index.nodes());
    }

    @Test
    void should_reject_bad_arguments_naming_them() {
        Rows rows = new Rows(3);
        rows.add(new float[] {1, 2, 3});
        rows.add(new float[] {3, 2, 1});
        var index = new HnswIndex(rows, HnswSettings.DEFAULT);
        index.extend(CPU);
        assertMessage("query has 2 elements, the vectors 3", () -> index.search(CPU, new float[2], 1));
        assertMessage("k must be >= 1, got 0", () -> index.search(CPU, new float[3], 0));
        assertMessage("accepted must be >= 0, got -1", () -> index.search(CPU, new float[3], 1, new FixedBitSet(2), -1));
        assertMessage("accept covers 1 rows, the graph 2", () -> index.search(CPU, new float[3], 1, new FixedBitSet(1), 1));
    }

    @Test
    void should_build_large_batches_on_several_threads_and_move_between_graph_kinds_without_losing_links()
            throws Exception {
        long seed = MemoryTesting.seed();
        Random random = new Random(seed);
        int d = 8;
        Rows rows = Rows.gaussian(random, 300, d);
        var index = new HnswIndex(rows, HnswSettings.DEFAULT.withBuildThreads(2));
        index.extend(CPU); // below PARALLEL_MIN_ROWS: one by one, a growable graph
        for (int i = 0; i < HnswIndex.PARALLEL_MIN_ROWS; i++) {
            rows.add(MemoryTesting.gaussian(random, d));
        }
        index.extend(CPU); // the 300 rows copied into a graph of fixed size, the batch inserted by two workers
        assertEquals(rows.rows(), index.nodes());
        assertRecall(index, rows, random, seed, "after the parallel extension");
        float[] far = new float[d];
        far[0] = 1e3f;
        rows.add(far);
        index.extend(CPU); // one row: the fixed graph copied into a growable one
        assertEquals(rows.rows() - 1, index.search(CPU, unit(far), 1).id(0), "the appended row is found "
                + reproduce(seed, getClass()));
        assertRecall(index, rows, random, seed, "after the copy back to a growable graph");
        // searches from several threads at once agree with one thread's answers
        float[][] queries = new float[64][];
        String[] expected = new String[queries.length];
        for (int q = 0; q < queries.length; q++) {
            queries[q] = unit(MemoryTesting.gaussian(random, d));
            expected[q] = Arrays.toString(index.search(CPU, queries[q], 10).ids());
        }
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(4)) {
            List<java.util.concurrent.Future<String>> answers = new ArrayList<>();
            for (int round = 0; round < 4; round++) {
                for (float[] query : queries) {
                    answers.add(pool.submit(() -> Arrays.toString(index.search(CPU, query, 10).ids())));
                }
            }
            for (int i = 0; i < answers.size(); i++) {
                assertEquals(expected[i % queries.length], answers.get(i).get(), "query " + i % queries.length
                        + " from a concurrent search " + reproduce(seed, getClass()));
            }
        }
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = HnswQuantization.class, names = {"INT8", "INT4", "BINARY"})
    void quantized_walks_find_the_neighbours_and_report_exact_cosines(HnswQuantization codes) {
        long seed = MemoryTesting.seed();
        Random random = new Random(seed);
        Rows rows = Rows.gaussian(random, 2000, 64);
        var index = new HnswIndex(rows, WIDE.withQuantization(codes));
        index.extend(CPU);
        int found = 0;
        for (int q = 0; q < 30; q++) {
            float[] query = unit(MemoryTesting.gaussian(random, 64));
            Hits hits = index.search(CPU, query, 10);
            assertNotNull(hits);
            Set<Integer> truth = new HashSet<>();
            Arrays.stream(bruteForce(rows, query, 10, null)).forEach(truth::add);
            for (int rank = 0; rank < hits.size(); rank++) {
                found += truth.contains(hits.id(rank)) ? 1 : 0;
                assertEquals(rows.exact(query, hits.id(rank)), hits.score(rank), 1e-6, codes + ": rescored exactly");
                assertTrue(rank == 0 || hits.score(rank) <= hits.score(rank - 1), codes + ": best first");
            }
        }
        // the beam of 400 is rescored exactly: what the codes misorder within it comes back
        assertTrue(found >= 0.9 * 300, codes + " recall@10 " + found / 300.0 + " " + reproduce(seed, getClass()));
        long codeBytes = index.ramBytesUsed();
        index.reset();
        assertEquals(0, index.ramBytesUsed(), "reset forgets graph and codes");
        index.extend(CPU);
        assertEquals(codeBytes, index.ramBytesUsed(), codes + ": the same graph and codes again");
    }

    @Test
    void a_copy_with_other_codes_keeps_the_graph_and_answers_on_its_own() {
        long seed = MemoryTesting.seed();
        Random random = new Random(seed);
        Rows rows = Rows.gaussian(random, 1500, 32);
        var index = new HnswIndex(rows, WIDE);
        index.extend(CPU);
        HnswIndex int8 = index.withQuantization(HnswQuantization.INT8);
        assertEquals(index.nodes(), int8.nodes(), "the links were copied, not rebuilt");
        assertEquals(HnswQuantization.INT8, int8.settings().quantization());
        assertEquals(HnswQuantization.NONE, index.settings().quantization());
        assertTrue(int8.ramBytesUsed() > index.ramBytesUsed(), "the copy also holds the codes");
        assertRecall(int8, rows, random, seed, "the INT8 copy");
        rows.add(MemoryTesting.gaussian(random, 32));
        int8.extend(CPU);
        assertEquals(rows.rows(), int8.nodes());
        assertEquals(rows.rows() - 1, index.nodes(), "the original is not extended by its copy");
    }

    @Test
    void a_quantized_search_is_costed_by_its_code_records_and_the_rescored_beam() {
        Rows rows = Rows.gaussian(new Random(5), 5000, 64);
        var plain = new HnswIndex(rows, HnswSettings.DEFAULT);
        var int8 = plain.withQuantization(HnswQuantization.INT8);
        var int4 = plain.withQuantization(HnswQuantization.INT4);
        int beam = 40;
        long visited = (long) beam * 2 * HnswSettings.DEFAULT.maxConn(); // 1280 < 5000 rows
        OpCost f32 = plain.searchCost(1, 5000, ElementType.F32, beam, 10);
        assertEquals(plain.walkCost(1, 5000, ElementType.F32, beam, 10), f32, "no codes: the walk's own cost");
        assertEquals(visited * 64 * 4, f32.bytesRead());
        // a record is the codes (64 bytes at 8 bits, 32 at 4) and 16 bytes of corrective terms; then 40 rows rescored
        assertEquals(visited * (64 + 16) + beam * 64 * 4, int8.searchCost(1, 5000, ElementType.F32, beam, 10)
                .bytesRead());
        assertEquals(visited * (32 + 16) + beam * 64 * 4, int4.searchCost(1, 5000, ElementType.F32, beam, 10)
                .bytesRead());
        assertEquals(3 * int8.searchCost(1, 5000, ElementType.F32, beam, 10).bytesRead(),
                int8.searchCost(3, 5000, ElementType.F32, beam, 10).bytesRead(), "per search");
    }

    @Test
    void should_reject_a_negative_build_thread_count_naming_it() {
        assertMessage("buildThreads must be >= 1, or ALL_CORES (0), got -1",
                () -> new HnswSettings(16, 100, 100, 42, -1));
        assertEquals(Runtime.getRuntime().availableProcessors(), HnswSettings.DEFAULT.resolvedBuildThreads());
        assertEquals(3, HnswSettings.DEFAULT.withBuildThreads(3).resolvedBuildThreads());
        assertMessage("quantization must not be null (HnswQuantization.NONE for none)",
                () -> new HnswSettings(16, 100, 100, 42, 1, null));
    }

    /** recall@10 of 30 random queries against brute force is at least 0.9. */
    private static void assertRecall(HnswIndex index, Rows rows, Random random, long seed, String when) {
        int found = 0;
        for (int q = 0; q < 30; q++) {
            float[] query = unit(MemoryTesting.gaussian(random, rows.dimension()));
            Set<Integer> truth = new HashSet<>();
            Arrays.stream(bruteForce(rows, query, 10, null)).forEach(truth::add);
            Hits hits = index.search(CPU, query, 10);
            assertNotNull(hits, when);
            for (int id : hits.ids()) {
                found += truth.contains(id) ? 1 : 0;
            }
        }
        assertTrue(found >= 0.9 * 300, when + ": recall@10 " + found / 300.0 + " " + reproduce(seed, HnswIndexTest.class));
    }

    private static void assertMessage(String message, Runnable call) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, call::run).getMessage());
    }

    /** The k best accepted rows by exact cosine, ties by lower row. */
    private static int[] bruteForce(Rows rows, float[] query, int k, FixedBitSet accept) {
        return IntStream.range(0, rows.rows()).filter(i -> accept == null || accept.get(i)).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> -rows.exact(query, i)).thenComparingInt(i -> i))
                .limit(k).mapToInt(Integer::intValue).toArray();
    }

    private static float[] unit(float[] v) {
        float norm = (float) Math.sqrt(VectorUtil.dotProduct(v, v));
        float[] out = v.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] /= norm;
        }
        return out;
    }

    /** Rows kept as given (not unit length), so the index must work from cosines, not raw dot products. */
    private static final class Rows implements HnswVectors {
        private final int dimension;
        private final List<float[]> rows = new ArrayList<>();

        Rows(int dimension) {
            this.dimension = dimension;
        }

        /** {@code n} rows of {@code d} standard normal floats. */
        static Rows gaussian(Random random, int n, int d) {
            Rows rows = new Rows(d);
            for (int i = 0; i < n; i++) {
                rows.add(MemoryTesting.gaussian(random, d));
            }
            return rows;
        }

        void add(float[] row) {
            rows.add(row);
        }

        float[] get(int row) {
            return rows.get(row);
        }

        float exact(float[] unitQuery, int row) {
            float[] v = rows.get(row);
            return VectorUtil.dotProduct(unitQuery, v) / (float) Math.sqrt(VectorUtil.dotProduct(v, v));
        }

        @Override
        public int rows() {
            return rows.size();
        }

        @Override
        public int dimension() {
            return dimension;
        }

        @Override
        public void readUnit(int row, float[] into) {
            float[] unit = unit(rows.get(row));
            System.arraycopy(unit, 0, into, 0, dimension);
        }

        @Override
        public GraphScorer graphScorer(Backend backend, float[] unitQuery) {
            return new GraphScorer() {
                @Override
                public float cosine(int row) {
                    return exact(unitQuery, row);
                }

                @Override
                public void cosines(int[] rowIds, int count, float[] out) {
                    for (int i = 0; i < count; i++) {
                        out[i] = exact(unitQuery, rowIds[i]);
                    }
                }
            };
        }
    }
}
