package dev.mempipe.core.memory;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Random;

import static dev.mempipe.core.memory.MemoryTesting.chunks;
import static dev.mempipe.core.memory.MemoryTesting.randomRows;
import static dev.mempipe.core.memory.MemoryTesting.reproduce;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CompressedMemoryTest {

    @Test
    void a_ring_on_a_separate_copy_device_should_read_as_the_cpu_through_evictions() {
        var device = new dev.mempipe.goldentests.SeparateCopyDevice("copy-gpu", new dev.mempipe.ops.SimdBackend());
        var stale = new dev.mempipe.goldentests.SeparateCopyDevice("stale-gpu", new dev.mempipe.ops.SimdBackend(),
                true);
        Random random = new Random(7);
        boolean staleDiffered = false;
        try (Arena arena = Arena.ofShared()) {
            var onCpu = new CompressedMemory(arena, MemoryTesting.engine(new dev.mempipe.ops.SimdBackend()), 8, 5);
            var onDevice = new CompressedMemory(arena, everyStepOn(device), 8, 5);
            var onStale = new CompressedMemory(arena, everyStepOn(stale), 8, 5);
            Tensor query = randomRows(arena, random, 1, 8);
            for (int round = 0; round < 6; round++) {   // 12 summaries through a ring of 5: evictions wrap it
                Tensor summaries = randomRows(arena, random, 2, 8);
                onCpu.append(summaries);
                onDevice.append(summaries);
                onStale.append(summaries);
                Tensor a = Tensor.allocate(arena, ElementType.F32, 1, 8);
                Tensor b = Tensor.allocate(arena, ElementType.F32, 1, 8);
                Tensor c = Tensor.allocate(arena, ElementType.F32, 1, 8);
                assertArrayEquals(onCpu.softRead(query, 0.5f, a), onDevice.softRead(query, 0.5f, b), "round " + round);
                assertArrayEquals(a.toFloatArray(), b.toFloatArray(), "round " + round);
                onStale.softRead(query, 0.5f, c);
                staleDiffered |= !Arrays.equals(a.toFloatArray(), c.toFloatArray());
            }
            assertTrue(device.pinnedReads() > 0, "the device read its own copy");
            onDevice.close();
            assertEquals(0, device.openPins(), "close frees the device copy");
        }
        assertTrue(staleDiffered, "a device that ignores refresh went unnoticed");
    }

    private static dev.mempipe.core.engine.Engine everyStepOn(dev.mempipe.spi.Backend device) {
        return dev.mempipe.core.pipeline.PipelineTesting.engineWith(device, dev.mempipe.spi.Step.values());
    }

    @Test
    void evicts_the_oldest_summary_first() {
        try (Arena arena = Arena.ofShared()) {
            var memory = new CompressedMemory(arena, MemoryTesting.engine(), 2, 4);
            for (int s = 0; s < 6; s++) {
                memory.append(Tensor.vector(arena, s, -s));
            }
            assertEquals(4, memory.size());
            assertEquals(6, memory.appended());
            assertArrayEquals(new float[] {2, -2, 3, -3, 4, -4, 5, -5}, memory.summaries());
            assertArrayEquals(new float[] {2, -2}, memory.summary(2));
            var evicted = assertThrows(IllegalArgumentException.class, () -> memory.summary(1));
            assertEquals("sequence 1 is not held; held are [2, 6)", evicted.getMessage());
            // one append larger than the capacity keeps its own last rows
            memory.append(Tensor.of(arena, new float[] {10, 0, 11, 0, 12, 0, 13, 0, 14, 0}, 5, 2));
            assertEquals(11, memory.appended());
            assertArrayEquals(new float[] {11, 0, 12, 0, 13, 0, 14, 0}, memory.summaries());
            assertArrayEquals(new float[] {14, 0}, memory.summary(10));
        }
    }

    @ParameterizedTest
    @MethodSource("dev.mempipe.core.memory.MemoryTesting#backends")
    void random_append_sequences_equal_a_memory_given_only_the_held_summaries(Backend backend) {
        long seed = MemoryTesting.seed();
        Random random = new Random(seed);
        for (int trial = 0; trial < 6; trial++) {
            int capacity = 1 + random.nextInt(12);
            int dimension = 1 + random.nextInt(9);
            int total = 1 + random.nextInt(60 * MemoryTesting.SCALE);
            String where = "N=" + capacity + " d=" + dimension + " total=" + total + " " + reproduce(seed, getClass());
            try (Arena arena = Arena.ofShared()) {
                Tensor rows = randomRows(arena, random, total, dimension);
                var incremental = new CompressedMemory(arena, MemoryTesting.engine(backend), dimension, capacity);
                long at = 0;
                for (int size : chunks(random, total, capacity)) {
                    incremental.append(rows.rowSlice(at, at + size));
                    at += size;
                }
                int held = Math.min(total, capacity);
                var rebuilt = new CompressedMemory(arena, MemoryTesting.engine(backend), dimension, capacity);
                rebuilt.append(rows.rowSlice(total - held, total));
                assertArrayEquals(rebuilt.summaries(), incremental.summaries(), where);
                assertArrayEquals(rows.rowSlice(total - held, total).toFloatArray(), incremental.summaries(), where);

                Tensor query = randomRows(arena, random, 1, dimension);
                Tensor a = Tensor.allocate(arena, ElementType.F32, 1, dimension);
                Tensor b = Tensor.allocate(arena, ElementType.F32, 1, dimension);
                float[] weightsA = incremental.softRead(query, 0.5f, a);
                float[] weightsB = rebuilt.softRead(query, 0.5f, b);
                assertArrayEquals(weightsB, weightsA, where);
                assertArrayEquals(b.toFloatArray(), a.toFloatArray(), where);
                Hits hits = incremental.topK(query, 3);
                for (int i = 0; i < hits.size(); i++) {
                    assertEquals(rebuilt.topK(query, 3).id(i) + (long) (total - held), hits.id(i), where);
                }
            }
        }
    }

    @Test
    void soft_read_equals_a_hand_computation() {
        long seed = MemoryTesting.seed();
        Random random = new Random(seed);
        try (Arena arena = Arena.ofShared()) {
            int dimension = 16;
            var memory = new CompressedMemory(arena, MemoryTesting.engine(), dimension, 8);
            Tensor all = randomRows(arena, random, 11, dimension);
            memory.append(all); // holds rows 3..10
            Tensor query = randomRows(arena, random, 1, dimension);
            float scale = (float) (1 / Math.sqrt(dimension));
            Tensor out = Tensor.allocate(arena, ElementType.F32, 1, dimension);
            float[] weights = memory.softRead(query, scale, out);

            float[][] held = new float[8][];
            for (int i = 0; i < 8; i++) {
                held[i] = all.rowSlice(3 + i, 4 + i).toFloatArray();
            }
            double[] expectedWeights = softmax(dots(query.toFloatArray(), held), scale);
            String where = reproduce(seed, getClass());
            for (int i = 0; i < 8; i++) {
                assertEquals(expectedWeights[i], weights[i], 1e-6, "weight " + i + " " + where);
            }
            for (int c = 0; c < dimension; c++) {
                double o = 0;
                for (int i = 0; i < 8; i++) {
                    o += expectedWeights[i] * held[i][c];
                }
                assertEquals(o, out.get(0, c), 1e-5, "out " + c + " " + where);
            }
        }
    }

    @Test
    void topK_returns_sequence_numbers_and_topKRead_reads_only_them() {
        try (Arena arena = Arena.ofShared()) {
            var memory = new CompressedMemory(arena, MemoryTesting.engine(), 2, 3);
            // sequence 0 is evicted; held: 1 -> (1,0), 2 -> (3,0), 3 -> (3,0) (a tie), then (0,1) evicts 1
            memory.append(Tensor.of(arena, new float[] {9, 0, 1, 0, 3, 0, 3, 0, 0, 1}, 5, 2));
            Tensor query = Tensor.vector(arena, 1, 0);
            Hits hits = memory.topK(query, 2);
            assertArrayEquals(new int[] {2, 3}, hits.ids(), "ties go to the older summary");
            assertArrayEquals(new float[] {3, 3}, hits.scores());
            assertEquals(3, memory.topK(query, 10).size());

            Tensor out = Tensor.allocate(arena, ElementType.F32, 1, 2);
            Hits read = memory.topKRead(Tensor.vector(arena, 1, 1), 2, 1f, out);
            // scores: seq 2 -> 3, seq 3 -> 3, seq 4 -> 1; top 2 are seq 2 and 3, equal weights 1/2
            assertArrayEquals(new int[] {2, 3}, read.ids());
            assertArrayEquals(new float[] {3, 0}, out.toFloatArray());

            Hits soft = memory.topKRead(Tensor.vector(arena, 0, 1), 3, 2f, out);
            assertEquals(4, soft.id(0));
            double w = Math.exp(2) / (Math.exp(2) + 2); // scores 1, 0, 0 at scale 2
            assertEquals(3 * (1 - w), out.get(0, 0), 1e-6, Arrays.toString(out.toFloatArray()));
            assertEquals(w, out.get(0, 1), 1e-6);
        }
    }

    @Test
    void concurrent_soft_reads_see_whole_summaries() throws InterruptedException {
        long seed = MemoryTesting.seed();
        Random random = new Random(seed);
        int dimension = 8;
        try (Arena arena = Arena.ofShared()) {
            var memory = new CompressedMemory(arena, MemoryTesting.engine(), dimension, 16);
            memory.append(Tensor.of(arena, new float[dimension], 1, dimension));
            Tensor query = randomRows(arena, random, 1, dimension);
            // summary s has every coordinate equal to s: a read that mixed two summaries in one row would
            // produce unequal coordinates
            MemoryTesting.withConcurrentReader(awaitRead -> {
                for (int s = 1; s < 300 * MemoryTesting.SCALE; s++) {
                    float[] row = new float[dimension];
                    Arrays.fill(row, s);
                    memory.append(Tensor.of(arena, row, 1, dimension));
                    if (s % 3 == 0) {
                        awaitRead.run();
                    }
                }
            }, () -> {
                try (Arena scratch = Arena.ofShared()) {
                    Tensor out = Tensor.allocate(scratch, ElementType.F32, 1, dimension);
                    float[] weights = memory.softRead(query, 0.01f, out);
                    double sum = 0;
                    for (float w : weights) {
                        sum += w;
                    }
                    assertEquals(1.0, sum, 1e-5);
                    assertTrue(weights.length >= 1 && weights.length <= 16);
                    for (int c = 1; c < dimension; c++) {
                        assertEquals(out.get(0, 0), out.get(0, c), 1e-3 * Math.max(1, out.get(0, 0)),
                                "coordinates differ: " + Arrays.toString(out.toFloatArray()));
                    }
                }
            });
            assertEquals(16, memory.size());
        }
    }

    @Test
    void empty_reads_and_bad_shapes_fail_with_clear_messages() {
        try (Arena arena = Arena.ofShared()) {
            var memory = new CompressedMemory(arena, MemoryTesting.engine(), 3, 2);
            Tensor out = Tensor.allocate(arena, ElementType.F32, 1, 3);
            var empty = assertThrows(IllegalStateException.class,
                    () -> memory.softRead(Tensor.vector(arena, 1, 2, 3), 1f, out));
            assertTrue(empty.getMessage().startsWith("CompressedMemory is empty"), empty.getMessage());
            assertEquals(0, memory.topK(Tensor.vector(arena, 1, 2, 3), 1).size());
            var width = assertThrows(IllegalArgumentException.class, () -> memory.append(Tensor.vector(arena, 1, 2)));
            assertTrue(width.getMessage().startsWith("summaries must have 3 columns (d), got [1, 2]"), width.getMessage());
            memory.append(Tensor.vector(arena, 1, 2, 3));
            var outShape = assertThrows(IllegalArgumentException.class,
                    () -> memory.softRead(Tensor.vector(arena, 1, 2, 3), 1f, Tensor.allocate(arena, ElementType.F32, 1, 2)));
            assertTrue(outShape.getMessage().startsWith("out must have 3 columns"), outShape.getMessage());
            assertThrows(IllegalArgumentException.class, () -> new CompressedMemory(arena, MemoryTesting.engine(), 3, 0));
        }
    }

    private static double[] dots(float[] q, float[][] rows) {
        double[] s = new double[rows.length];
        for (int i = 0; i < rows.length; i++) {
            for (int c = 0; c < q.length; c++) {
                s[i] += (double) q[c] * rows[i][c];
            }
        }
        return s;
    }

    private static double[] softmax(double[] s, double scale) {
        double max = Double.NEGATIVE_INFINITY;
        for (double x : s) {
            max = Math.max(max, scale * x);
        }
        double sum = 0;
        double[] p = new double[s.length];
        for (int i = 0; i < s.length; i++) {
            p[i] = Math.exp(scale * s[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < s.length; i++) {
            p[i] /= sum;
        }
        return p;
    }
}
