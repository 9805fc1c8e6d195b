package dev.mempipe.core.memory;

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

class IndexerKeyMemoryTest {

    @ParameterizedTest
    @MethodSource("dev.mempipe.core.memory.MemoryTesting#backends")
    void random_append_sequences_equal_a_memory_built_at_once_and_the_contract_conversion(Backend backend) {
        long seed = MemoryTesting.seed();
        Random random = new Random(seed);
        for (ElementType storage : new ElementType[] {ElementType.F16, ElementType.I8, ElementType.BF16,
                ElementType.I16}) {
            int indexDim = new int[] {1, 7, 16, 33}[random.nextInt(4)];
            long length = 1 + random.nextInt(200 * MemoryTesting.SCALE);
            String where = storage + " dI=" + indexDim + " L=" + length + " " + reproduce(seed, getClass());
            try (Arena arena = Arena.ofShared()) {
                float[] values = MemoryTesting.gaussian(random, (int) length * indexDim);
                values[0] = 0; // a zero row must quantize to scale 0 and zero codes
                if (indexDim == 1 && length > 1) {
                    values[1] = 70000f; // beyond F16's range: rounds to infinity in F16
                }
                Tensor keys = Tensor.of(arena, values, length, indexDim);
                var incremental = new IndexerKeyMemory(arena, MemoryTesting.engine(backend), indexDim, length, storage);
                long at = 0;
                for (int size : chunks(random, length, 16)) {
                    incremental.append(keys.rowSlice(at, at + size));
                    at += size;
                    assertEquals(at, incremental.keys().rows(), where);
                }
                var atOnce = new IndexerKeyMemory(arena, MemoryTesting.engine(backend), indexDim, length, storage);
                atOnce.append(keys);
                assertSameBits(atOnce.keys(), incremental.keys(), "keys " + where);
                assertSameBits(Tensor.encode(arena, storage, values, length, indexDim), incremental.keys(),
                        "converted keys " + where);
            }
        }
    }

    @Test
    void i8_keys_decode_within_half_a_step_of_the_input() {
        try (Arena arena = Arena.ofShared()) {
            Random random = new Random(11);
            Tensor keys = randomRows(arena, random, 20, 8);
            var memory = new IndexerKeyMemory(arena, MemoryTesting.engine(), 8, 20, ElementType.I8);
            memory.append(keys);
            Tensor stored = memory.keys();
            for (int r = 0; r < 20; r++) {
                float step = stored.scale(r);
                for (int c = 0; c < 8; c++) {
                    assertEquals(keys.get(r, c), stored.get(r, c), step / 2 * 1.0001f, "row " + r + " col " + c);
                }
            }
        }
    }

    @Test
    void every_view_taken_during_appends_is_a_consistent_prefix() throws InterruptedException {
        long seed = MemoryTesting.seed();
        Random random = new Random(seed);
        long length = 600L * MemoryTesting.SCALE;
        try (Arena arena = Arena.ofShared()) {
            Tensor keys = randomRows(arena, random, length, 8);
            Tensor expected = Tensor.encode(arena, ElementType.I8, keys.toFloatArray(), length, 8);
            var memory = new IndexerKeyMemory(arena, MemoryTesting.engine(), 8, length, ElementType.I8);
            MemoryTesting.withConcurrentReader(awaitRead -> {
                long at = 0;
                int appends = 0;
                for (int size : chunks(random, length, 16)) {
                    memory.append(keys.rowSlice(at, at + size));
                    at += size;
                    if (++appends % 3 == 0) {
                        awaitRead.run();
                    }
                }
            }, () -> {
                Tensor view = memory.keys();
                assertSameBits(expected.rowSlice(0, view.rows()), view,
                        "keys at length " + view.rows() + " " + reproduce(seed, getClass()));
            });
        }
    }

    @Test
    void append_beyond_capacity_fails_naming_the_capacity_and_bad_shapes_name_the_argument() {
        try (Arena arena = Arena.ofShared()) {
            Random random = new Random(12);
            var memory = new IndexerKeyMemory(arena, MemoryTesting.engine(), 4, 5, ElementType.F16);
            memory.append(randomRows(arena, random, 5, 4));
            var full = assertThrows(IllegalStateException.class, () -> memory.append(randomRows(arena, random, 1, 4)));
            assertEquals("IndexerKeyMemory is full: capacity 5 tokens, holds 5, cannot append 1 more",
                    full.getMessage());
            var shape = assertThrows(IllegalArgumentException.class,
                    () -> memory.append(randomRows(arena, random, 1, 3)));
            assertTrue(shape.getMessage().startsWith("keys must have 4 columns (dI), got [1, 3] F32"),
                    shape.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> new IndexerKeyMemory(arena, MemoryTesting.engine(), 0, 5, ElementType.I8));
            assertEquals(5, memory.length());
        }
    }
}
