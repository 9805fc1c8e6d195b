package dev.mempipe.core.memory;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import static dev.mempipe.core.memory.MemoryTesting.assertSameBits;
import static dev.mempipe.core.memory.MemoryTesting.chunks;
import static dev.mempipe.core.memory.MemoryTesting.randomRows;
import static dev.mempipe.core.memory.MemoryTesting.reproduce;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmbeddingMemoryTest {

    @ParameterizedTest
    @MethodSource("dev.mempipe.core.memory.MemoryTesting#backends")
    void random_append_sequences_equal_a_memory_built_at_once(Backend backend) {
        long seed = MemoryTesting.seed();
        Random random = new Random(seed);
        for (ElementType storage : new ElementType[] {ElementType.F32, ElementType.BF16, ElementType.I8}) {
            int dimension = new int[] {1, 5, 16, 33}[random.nextInt(4)];
            int count = 1 + random.nextInt(300 * MemoryTesting.SCALE);
            String where = storage + " d=" + dimension + " n=" + count + " " + reproduce(seed, getClass());
            Engine engine = MemoryTesting.engine(backend);
            try (Arena arena = Arena.ofShared();
                 var incremental = new EmbeddingMemory(arena, engine, dimension, count, storage, HnswSettings.DEFAULT);
                 var atOnce = new EmbeddingMemory(arena, engine, dimension, count, storage, HnswSettings.DEFAULT)) {
                Tensor vectors = randomRows(arena, random, count, dimension);
                long at = 0;
                for (int size : chunks(random, count, 64)) {
                    assertEquals(at, incremental.append(vectors.rowSlice(at, at + size)), where);
                    at += size;
                }
                atOnce.append(vectors);
                assertSameBits(atOnce.vectors(), incremental.vectors(), "vectors " + where);
                Tensor converted = Tensor.allocate(arena, storage, count, dimension);
                backend.prepare().convert(vectors, converted);
                assertSameBits(converted, incremental.vectors(), "rows are stored as given, converted " + where);
                assertInverseNorms(incremental, where);
            }
        }
    }

    @Test
    void exact_search_ranks_by_cosine() {
        long seed = MemoryTesting.seed();
        Random random = new Random(seed);
        try (Arena arena = Arena.ofShared()) {
            Tensor vectors = randomRows(arena, random, 200, 12);
            var memory = new EmbeddingMemory(arena, MemoryTesting.engine(), 12, 200);
            memory.append(vectors);
            Tensor query = randomRows(arena, random, 1, 12);
            Hits hits = memory.search(query, 5);
            assertEquals(5, hits.size());
            double[] cosines = new double[200];
            for (int i = 0; i < 200; i++) {
                cosines[i] = MemoryTesting.cosine(query.toFloatArray(), vectors.rowSlice(i, i + 1).toFloatArray());
            }
            for (int rank = 0; rank < 5; rank++) {
                int id = hits.id(rank);
                assertEquals(cosines[id], hits.score(rank), 1e-5, "rank " + rank + " " + reproduce(seed, getClass()));
                int better = 0;
                for (double c : cosines) {
                    better += c > cosines[id] + 1e-5 ? 1 : 0;
                }
                assertTrue(better <= rank, "rank " + rank + " has " + better + " better rows");
            }
            // a stored vector (scaled) finds itself first
            Tensor scaled = Tensor.of(arena, scale(vectors.rowSlice(42, 43).toFloatArray(), 3f), 1, 12);
            assertEquals(42, memory.search(scaled, 1).id(0));
            assertEquals(42, memory.searchApproximate(scaled, 1).id(0));
        }
    }

    @Test
    void hnsw_recall_at_10_against_exact_search_is_at_least_095_on_clustered_vectors() {
        long seed = MemoryTesting.seed();
        Random random = new Random(seed);
        int count = 10_000 * MemoryTesting.SCALE;
        int dimension = 32;
        int queries = 50;
        try (Arena arena = Arena.ofShared()) {
            Tensor vectors = clustered(arena, random, count, dimension, 100);
            var memory = new EmbeddingMemory(arena, MemoryTesting.engine(), dimension, count);
            // two appends: buildGraph builds over the first, the second append extends the graph
            memory.append(vectors.rowSlice(0, count / 2));
            assertEquals(0, memory.indexedRows(), "no graph until buildGraph: an exact-only memory pays for none");
            memory.buildGraph();
            assertEquals(count / 2, memory.indexedRows());
            memory.append(vectors.rowSlice(count / 2, count));
            assertEquals(count, memory.indexedRows(), "the append extended the graph");

            int found = 0;
            for (int q = 0; q < queries; q++) {
                int near = random.nextInt(count);
                float[] query = vectors.rowSlice(near, near + 1).toFloatArray();
                for (int i = 0; i < dimension; i++) {
                    query[i] += 0.05f * (float) random.nextGaussian();
                }
                Tensor queryTensor = Tensor.of(arena, query, 1, dimension);
                Hits exact = memory.search(queryTensor, 10);
                Hits approximate = memory.searchApproximate(queryTensor, 10);
                assertEquals(10, approximate.size());
                Set<Integer> truth = new HashSet<>();
                for (int id : exact.ids()) {
                    truth.add(id);
                }
                for (int rank = 0; rank < approximate.size(); rank++) {
                    found += truth.contains(approximate.id(rank)) ? 1 : 0;
                    double expected = MemoryTesting.cosine(query, memory.vectors().rowSlice(approximate.id(rank),
                            approximate.id(rank) + 1).toFloatArray());
                    assertEquals(expected, approximate.score(rank), 1e-5, "approximate scores are exact cosines");
                }
            }
            assertEquals(count, memory.indexedRows());
            double recall = found / (10.0 * queries);
            assertTrue(recall >= 0.95, "recall@10 = " + recall + " " + reproduce(seed, getClass()));
        }
    }

    @Test
    void exact_searches_during_appends_see_a_consistent_prefix() throws InterruptedException {
        long seed = MemoryTesting.seed();
        Random random = new Random(seed);
        int count = 600 * MemoryTesting.SCALE;
        try (Arena arena = Arena.ofShared()) {
            Engine engine = MemoryTesting.engine();
            Tensor vectors = randomRows(arena, random, count, 8);
            var reference = new EmbeddingMemory(arena, engine, 8, count);
            reference.append(vectors);
            Tensor expected = reference.vectors();
            var memory = new EmbeddingMemory(arena, engine, 8, count);
            Tensor query = randomRows(arena, random, 1, 8);
            MemoryTesting.withConcurrentReader(awaitRead -> {
                long at = 0;
                int appends = 0;
                for (int size : chunks(random, count, 16)) {
                    memory.append(vectors.rowSlice(at, at + size));
                    at += size;
                    if (++appends % 3 == 0) {
                        awaitRead.run();
                    }
                }
            }, () -> {
                Tensor view = memory.vectors();
                assertSameBits(expected.rowSlice(0, view.rows()), view, "vectors at length " + view.rows());
                Hits hits = memory.search(query, 3);
                int seen = memory.length();
                for (int id : hits.ids()) {
                    assertTrue(id < seen, "hit " + id + " beyond the published length " + seen);
                }
            });
        }
    }

    @Test
    void capacity_and_bad_shapes_fail_with_clear_messages() {
        try (Arena arena = Arena.ofShared()) {
            Random random = new Random(31);
            var memory = new EmbeddingMemory(arena, MemoryTesting.engine(), 4, 3);
            assertEquals(0, memory.search(randomRows(arena, random, 1, 4), 2).size());
            assertEquals(0, memory.searchApproximate(randomRows(arena, random, 1, 4), 2).size());
            memory.append(randomRows(arena, random, 2, 4));
            var full = assertThrows(IllegalStateException.class, () -> memory.append(randomRows(arena, random, 2, 4)));
            assertEquals("EmbeddingMemory is full: capacity 3 vectors, holds 2, cannot append 2 more",
                    full.getMessage());
            var width = assertThrows(IllegalArgumentException.class,
                    () -> memory.append(randomRows(arena, random, 1, 5)));
            assertTrue(width.getMessage().startsWith("vectors must have 4 columns (d), got [1, 5]"), width.getMessage());
            var query = assertThrows(IllegalArgumentException.class,
                    () -> memory.search(randomRows(arena, random, 2, 4), 1));
            assertTrue(query.getMessage().startsWith("query must be one row [1, 4], got [2, 4]"), query.getMessage());
            assertThrows(IllegalArgumentException.class, () -> memory.search(randomRows(arena, random, 1, 4), 0));
            assertEquals(2, memory.search(randomRows(arena, random, 1, 4), 10).size());
        }
    }

    /** Cluster centers on the sphere, members spread around them. */
    private static Tensor clustered(Arena arena, Random random, int count, int dimension, int clusters) {
        float[][] centers = new float[clusters][dimension];
        for (float[] center : centers) {
            for (int i = 0; i < dimension; i++) {
                center[i] = (float) random.nextGaussian();
            }
        }
        float[] values = new float[count * dimension];
        for (int r = 0; r < count; r++) {
            float[] center = centers[random.nextInt(clusters)];
            for (int i = 0; i < dimension; i++) {
                values[r * dimension + i] = center[i] + 0.35f * (float) random.nextGaussian();
            }
        }
        return Tensor.of(arena, values, count, dimension);
    }

    /** Each row's inverse norm is {@code 1 / ||stored row||}, the norm of the decoded row in double; 0 for a zero row. */
    private static void assertInverseNorms(EmbeddingMemory memory, String where) {
        Tensor rows = memory.vectors();
        for (int r = 0; r < rows.rows(); r++) {
            double sum = 0;
            for (int c = 0; c < rows.cols(); c++) {
                sum += (double) rows.get(r, c) * rows.get(r, c);
            }
            double expected = sum == 0 ? 0 : 1 / Math.sqrt(sum);
            assertEquals(expected, memory.inverseNorm(r), 1e-5 * expected, "inverse norm of row " + r + " " + where);
        }
    }

    private static float[] scale(float[] values, float factor) {
        for (int i = 0; i < values.length; i++) {
            values[i] *= factor;
        }
        return values;
    }
}
