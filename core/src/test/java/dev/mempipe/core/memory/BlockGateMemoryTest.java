package dev.mempipe.core.memory;

import dev.mempipe.goldentests.ScalarBackend;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.util.Random;

import static dev.mempipe.core.memory.MemoryTesting.assertSameBits;
import static dev.mempipe.core.memory.MemoryTesting.chunks;
import static dev.mempipe.core.memory.MemoryTesting.randomRows;
import static dev.mempipe.core.memory.MemoryTesting.reproduce;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlockGateMemoryTest {

    @ParameterizedTest
    @MethodSource("dev.mempipe.core.memory.MemoryTesting#backends")
    void random_append_sequences_equal_a_memory_built_at_once(Backend backend) {
        long seed = MemoryTesting.seed();
        Random random = new Random(seed);
        int[] blockSizes = {1, 4, 7, 16};
        for (int trial = 0; trial < 8; trial++) {
            int kvHeads = 1 + random.nextInt(2);
            int headDim = new int[] {1, 3, 8}[random.nextInt(3)];
            int gateDim = 1 + random.nextInt(5);
            int blockSize = blockSizes[random.nextInt(blockSizes.length)];
            long length = 1 + random.nextInt(80 * MemoryTesting.SCALE);
            // BF16 input in some trials: the remainder keeps f32, pooling decodes to f32, so both paths agree
            ElementType input = random.nextBoolean() ? ElementType.F32 : ElementType.BF16;
            String where = "Hkv=" + kvHeads + " d=" + headDim + " dg=" + gateDim + " B=" + blockSize + " L=" + length
                    + " " + input + " " + reproduce(seed, getClass());
            try (Arena arena = Arena.ofShared()) {
                Tensor keys = Tensor.encode(arena, input,
                        MemoryTesting.gaussian(random, (int) length * kvHeads * headDim), length, kvHeads * headDim);
                Tensor w = randomRows(arena, random, gateDim, 3 * headDim);
                var incremental = new BlockGateMemory(arena, MemoryTesting.engine(backend), kvHeads, headDim, w, length, blockSize);
                long at = 0;
                for (int size : chunks(random, length, blockSize)) {
                    incremental.append(keys.rowSlice(at, at + size));
                    at += size;
                    assertEquals(at / blockSize, incremental.blocks(), where);
                    assertEquals(at % blockSize, incremental.remainderRows(), where);
                }
                var atOnce = new BlockGateMemory(arena, MemoryTesting.engine(backend), kvHeads, headDim, w, length, blockSize);
                atOnce.append(keys);

                assertSameBits(atOnce.gateKeys(), incremental.gateKeys(), "gate keys " + where);
                assertSameBits(atOnce.remainder(), incremental.remainder(), "remainder " + where);
                long full = length / blockSize * blockSize;
                Tensor expectedRemainder = Tensor.allocate(arena, ElementType.F32, length - full, keys.cols());
                new ScalarBackend().prepare().convert(keys.rowSlice(full, length),
                        expectedRemainder);
                assertSameBits(expectedRemainder, incremental.remainder(), "remainder rows " + where);
                assertGateKeysMatchHandComputation(keys, w, incremental, where);
            }
        }
    }

    @Test
    void the_partial_block_is_held_as_remainder_until_it_fills() {
        try (Arena arena = Arena.ofShared()) {
            Random random = new Random(3);
            var memory = new BlockGateMemory(arena, MemoryTesting.engine(), 2, 4, randomRows(arena, random, 3, 12), 200);
            assertEquals(64, memory.blockSize());
            memory.append(randomRows(arena, random, 63, 8));
            assertEquals(0, memory.blocks());
            assertEquals(63, memory.remainderRows());
            assertEquals(0, memory.gateKeys(1).rows());
            memory.append(randomRows(arena, random, 1, 8));
            assertEquals(1, memory.blocks());
            assertEquals(0, memory.remainderRows());
            assertEquals(3, memory.gateKeys(1).cols());
            memory.append(randomRows(arena, random, 70, 8));
            assertEquals(2, memory.blocks());
            assertEquals(6, memory.remainderRows());
            assertEquals(6, memory.remainder().rows());
        }
    }

    @Test
    void every_snapshot_taken_during_appends_holds_the_final_gate_keys_of_its_blocks() throws InterruptedException {
        long seed = MemoryTesting.seed();
        Random random = new Random(seed);
        int blockSize = 4;
        long length = 400L * MemoryTesting.SCALE;
        try (Arena arena = Arena.ofShared()) {
            Backend cpu = MemoryTesting.cpu();
            Tensor keys = randomRows(arena, random, length, 6);
            Tensor w = randomRows(arena, random, 5, 9);
            var reference = new BlockGateMemory(arena, MemoryTesting.engine(cpu), 2, 3, w, length, blockSize);
            reference.append(keys);
            Tensor expected = reference.gateKeys();
            var memory = new BlockGateMemory(arena, MemoryTesting.engine(cpu), 2, 3, w, length, blockSize);
            MemoryTesting.withConcurrentReader(awaitRead -> {
                long at = 0;
                int appends = 0;
                for (int size : chunks(random, length, blockSize)) {
                    memory.append(keys.rowSlice(at, at + size));
                    at += size;
                    if (++appends % 3 == 0) {
                        awaitRead.run();
                    }
                }
            }, () -> {
                var snap = memory.snapshot();
                assertEquals(snap.length() / blockSize, snap.blocks());
                assertSameBits(expected.rowSlice(0, snap.blocks()), snap.gateKeys(),
                        "gate keys at length " + snap.length() + " " + reproduce(seed, getClass()));
                assertEquals(2 * 5, snap.gateKeys().cols()); // Hkv * dg: every head
                assertEquals(5, snap.gateKeys(1).cols());
            });
            assertEquals(length / blockSize, memory.blocks());
        }
    }

    @Test
    void append_beyond_capacity_fails_naming_the_capacity() {
        try (Arena arena = Arena.ofShared()) {
            Random random = new Random(4);
            var memory = new BlockGateMemory(arena, MemoryTesting.engine(), 1, 2, randomRows(arena, random, 2, 6), 10, 4);
            memory.append(randomRows(arena, random, 9, 2));
            var e = assertThrows(IllegalStateException.class, () -> memory.append(randomRows(arena, random, 2, 2)));
            assertTrue(e.getMessage().contains("BlockGateMemory is full: capacity 10 tokens, holds 9"), e.getMessage());
            assertEquals(9, memory.length());
            assertEquals(1, memory.remainderRows());
            memory.append(randomRows(arena, random, 1, 2));
            assertEquals(2, memory.blocks()); // capacity 10 with B = 4: two blocks and a remainder of 2
            assertEquals(2, memory.remainderRows());
        }
    }

    @Test
    void rejects_bad_shapes_naming_the_argument() {
        try (Arena arena = Arena.ofShared()) {
            Backend cpu = MemoryTesting.cpu();
            Random random = new Random(5);
            var weight = assertThrows(IllegalArgumentException.class,
                    () -> new BlockGateMemory(arena, MemoryTesting.engine(cpu), 2, 4, randomRows(arena, random, 3, 8), 10));
            assertTrue(weight.getMessage().startsWith("gateWeight must have 12 columns (3*d = 3*4)"),
                    weight.getMessage());
            var memory = new BlockGateMemory(arena, MemoryTesting.engine(cpu), 2, 4, randomRows(arena, random, 3, 12), 10);
            var keys = assertThrows(IllegalArgumentException.class, () -> memory.append(randomRows(arena, random, 1, 4)));
            assertTrue(keys.getMessage().startsWith("keys must have 8 columns (Hkv*d = 2*4), got [1, 4]"),
                    keys.getMessage());
            var head = assertThrows(IllegalArgumentException.class, () -> memory.gateKeys(2));
            assertEquals("head must be in [0, 2), got 2", head.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> new BlockGateMemory(arena, MemoryTesting.engine(cpu), 2, 4, randomRows(arena, random, 3, 12), 10, 0));
        }
    }

    /** Gate key = W (max | min | mean of the block's rows), in double, against the stored f32. */
    private static void assertGateKeysMatchHandComputation(Tensor keys, Tensor w, BlockGateMemory memory, String where) {
        int d = memory.headDim();
        int blockSize = memory.blockSize();
        for (int h = 0; h < memory.kvHeads(); h++) {
            Tensor gate = memory.gateKeys(h);
            for (long b = 0; b < gate.rows(); b++) {
                double[] pooled = new double[3 * d];
                for (int c = 0; c < d; c++) {
                    double max = Double.NEGATIVE_INFINITY;
                    double min = Double.POSITIVE_INFINITY;
                    double sum = 0;
                    for (long r = b * blockSize; r < (b + 1) * blockSize; r++) {
                        double x = keys.get(r, h * d + c);
                        max = Math.max(max, x);
                        min = Math.min(min, x);
                        sum += x;
                    }
                    pooled[c] = max;
                    pooled[d + c] = min;
                    pooled[2 * d + c] = sum / blockSize;
                }
                for (int o = 0; o < memory.gateDim(); o++) {
                    double dot = 0;
                    double magnitude = 0;
                    for (int i = 0; i < 3 * d; i++) {
                        dot += pooled[i] * w.get(o, i);
                        magnitude += Math.abs(pooled[i] * w.get(o, i));
                    }
                    // mean pooled in f32, then an f32-accumulated dot of 3d terms: a few ulps of the magnitude
                    double tolerance = (4.0 * (3 * d + blockSize)) * 0x1p-24 * magnitude + 1e-6;
                    assertEquals(dot, gate.get(b, o), tolerance, "head " + h + " block " + b + " out " + o + " " + where);
                }
            }
        }
    }
}
