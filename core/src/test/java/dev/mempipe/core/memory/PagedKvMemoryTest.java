package dev.mempipe.core.memory;

import dev.mempipe.goldentests.ScalarBackend;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.OpArgs;
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

class PagedKvMemoryTest {

    @ParameterizedTest
    @MethodSource("dev.mempipe.core.memory.MemoryTesting#backends")
    void random_append_sequences_equal_a_memory_built_at_once(Backend backend) {
        long seed = MemoryTesting.seed();
        Random random = new Random(seed);
        int[] pageSizes = {1, 3, 16, 17};
        for (ElementType storage : new ElementType[] {ElementType.F32, ElementType.BF16, ElementType.F16}) {
            for (int trial = 0; trial < 3; trial++) {
                int kvHeads = 1 + random.nextInt(2);
                int headDim = new int[] {1, 3, 8}[random.nextInt(3)];
                int pageSize = pageSizes[random.nextInt(pageSizes.length)];
                long length = 1 + random.nextInt(60 * MemoryTesting.SCALE);
                String where = storage + " Hkv=" + kvHeads + " d=" + headDim + " P=" + pageSize + " L=" + length
                        + " " + reproduce(seed, getClass());
                try (Arena arena = Arena.ofShared()) {
                    Tensor keys = randomRows(arena, random, length, kvHeads * headDim);
                    Tensor values = randomRows(arena, random, length, kvHeads * headDim);
                    var incremental = new PagedKvMemory(arena, MemoryTesting.engine(backend), kvHeads, headDim, length, storage, pageSize);
                    long at = 0;
                    for (int size : chunks(random, length, pageSize)) {
                        incremental.append(keys.rowSlice(at, at + size), values.rowSlice(at, at + size));
                        at += size;
                        assertSummariesExact(incremental.snapshot(), where + " after " + at + " rows");
                    }
                    var atOnce = new PagedKvMemory(arena, MemoryTesting.engine(backend), kvHeads, headDim, length, storage, pageSize);
                    atOnce.append(keys, values);

                    var a = incremental.snapshot();
                    var b = atOnce.snapshot();
                    assertEquals(length, a.length(), where);
                    assertSameBits(b.keys(), a.keys(), "keys " + where);
                    assertSameBits(b.values(), a.values(), "values " + where);
                    assertSameBits(b.pageMin(), a.pageMin(), "min " + where);
                    assertSameBits(b.pageMax(), a.pageMax(), "max " + where);
                    // the stored rows are the inputs rounded to nearest even, as Tensor.encode does
                    assertSameBits(Tensor.encode(arena, storage, keys.toFloatArray(), length, keys.cols()), a.keys(),
                            "converted keys " + where);
                }
            }
        }
    }

    @Test
    void summaries_equal_a_batch_pageMinMax_of_the_oracle() {
        Random random = new Random(7);
        try (Arena arena = Arena.ofShared()) {
            var memory = new PagedKvMemory(arena, MemoryTesting.engine(), 2, 4, 100);
            memory.append(randomRows(arena, random, 37, 8), randomRows(arena, random, 37, 8));
            memory.append(randomRows(arena, random, 5, 8), randomRows(arena, random, 5, 8));
            var snap = memory.snapshot();
            Tensor min = Tensor.allocate(arena, ElementType.F32, 3, 8);
            Tensor max = Tensor.allocate(arena, ElementType.F32, 3, 8);
            new ScalarBackend().prepare().pageMinMax(snap.keys(), 16, min, max);
            assertEquals(3, snap.pages());
            assertTrue(snap.lastPagePartial());
            assertSameBits(min, snap.pageMin(), "min");
            assertSameBits(max, snap.pageMax(), "max");
        }
    }

    @Test
    void every_snapshot_taken_during_appends_is_a_consistent_prefix() throws InterruptedException {
        long seed = MemoryTesting.seed();
        Random random = new Random(seed);
        int pageSize = 4;
        long length = 400L * MemoryTesting.SCALE;
        try (Arena arena = Arena.ofShared()) {
            Tensor keys = randomRows(arena, random, length, 6);
            Tensor values = randomRows(arena, random, length, 6);
            var memory = new PagedKvMemory(arena, MemoryTesting.engine(), 2, 3, length, ElementType.F32, pageSize);
            int reads = MemoryTesting.withConcurrentReader(awaitRead -> {
                long at = 0;
                int appends = 0;
                for (int size : chunks(random, length, pageSize)) {
                    memory.append(keys.rowSlice(at, at + size), values.rowSlice(at, at + size));
                    at += size;
                    if (++appends % 3 == 0) {
                        awaitRead.run();
                    }
                }
            }, () -> {
                var snap = memory.snapshot();
                long n = snap.length();
                assertEquals(n, snap.keys().rows());
                assertEquals(OpArgs.ceilDiv(n, pageSize), snap.pages());
                // rows are the appended rows, bit for bit
                assertSameBits(keys.rowSlice(0, n), snap.keys(), "keys at length " + n);
                assertSameBits(values.rowSlice(0, n), snap.values(), "values at length " + n);
                assertSummariesOfRows(keys, snap, "length " + n + " " + reproduce(seed, getClass()));
            });
            assertTrue(reads > 0);
            assertSummariesExact(memory.snapshot(), "final");
        }
    }

    @Test
    void append_beyond_capacity_fails_naming_the_capacity_and_keeps_the_memory() {
        try (Arena arena = Arena.ofShared()) {
            var memory = new PagedKvMemory(arena, MemoryTesting.engine(), 1, 2, 10);
            Random random = new Random(1);
            memory.append(randomRows(arena, random, 8, 2), randomRows(arena, random, 8, 2));
            var before = memory.snapshot();
            var e = assertThrows(IllegalStateException.class,
                    () -> memory.append(randomRows(arena, random, 3, 2), randomRows(arena, random, 3, 2)));
            assertTrue(e.getMessage().contains("capacity 10"), e.getMessage());
            assertTrue(e.getMessage().contains("holds 8"), e.getMessage());
            assertEquals(8, memory.length());
            assertSameBits(before.pageMax(), memory.pageMax(), "max unchanged");
            memory.append(randomRows(arena, random, 2, 2), randomRows(arena, random, 2, 2));
            assertEquals(10, memory.length());
        }
    }

    @Test
    void rejects_bad_shapes_and_parameters_naming_the_argument() {
        try (Arena arena = Arena.ofShared()) {
            Backend cpu = MemoryTesting.cpu();
            var memory = new PagedKvMemory(arena, MemoryTesting.engine(cpu), 2, 4, 10);
            Tensor good = Tensor.allocate(arena, ElementType.F32, 3, 8);
            var width = assertThrows(IllegalArgumentException.class,
                    () -> memory.append(Tensor.allocate(arena, ElementType.F32, 3, 7), good));
            assertTrue(width.getMessage().startsWith("keys must have 8 columns (Hkv*d = 2*4)"), width.getMessage());
            assertTrue(width.getMessage().contains("[3, 7]"), width.getMessage());
            var valueWidth = assertThrows(IllegalArgumentException.class,
                    () -> memory.append(good, Tensor.allocate(arena, ElementType.F32, 3, 9)));
            assertTrue(valueWidth.getMessage().startsWith("values"), valueWidth.getMessage());
            var rows = assertThrows(IllegalArgumentException.class,
                    () -> memory.append(good, Tensor.allocate(arena, ElementType.F32, 2, 8)));
            assertTrue(rows.getMessage().contains("same number of rows"), rows.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> new PagedKvMemory(arena, MemoryTesting.engine(cpu), 1, 4, 10, ElementType.I8, 16));
            var page = assertThrows(IllegalArgumentException.class,
                    () -> new PagedKvMemory(arena, MemoryTesting.engine(cpu), 1, 4, 10, ElementType.F32, 0));
            assertEquals("pageSize must be >= 1, got 0", page.getMessage());
            assertEquals(0, memory.length());
        }
    }

    /** Summaries of every page equal the element-wise min and max of its stored rows. */
    private static void assertSummariesExact(PagedKvMemory.Snapshot snap, String where) {
        Tensor keys = snap.keys();
        for (long p = 0; p < snap.pages(); p++) {
            long end = Math.min((p + 1) * snap.pageSize(), snap.length());
            for (int c = 0; c < keys.cols(); c++) {
                float lo = Float.POSITIVE_INFINITY;
                float hi = Float.NEGATIVE_INFINITY;
                for (long r = p * snap.pageSize(); r < end; r++) {
                    lo = Math.min(lo, keys.get(r, c));
                    hi = Math.max(hi, keys.get(r, c));
                }
                assertEquals(lo, snap.pageMin().get(p, c), "min of page " + p + " col " + c + ", " + where);
                assertEquals(hi, snap.pageMax().get(p, c), "max of page " + p + " col " + c + ", " + where);
            }
        }
    }

    /**
     * Full pages of a snapshot equal the min/max of their rows; a partial last page may have been widened by
     * later appends, so it must only bound the snapshot's rows.
     */
    private static void assertSummariesOfRows(Tensor source, PagedKvMemory.Snapshot snap, String where) {
        int pageSize = snap.pageSize();
        for (long p = 0; p < snap.pages(); p++) {
            long start = p * pageSize;
            long end = Math.min(start + pageSize, snap.length());
            boolean partial = end - start < pageSize;
            for (int c = 0; c < source.cols(); c++) {
                float lo = Float.POSITIVE_INFINITY;
                float hi = Float.NEGATIVE_INFINITY;
                for (long r = start; r < end; r++) {
                    lo = Math.min(lo, source.get(r, c));
                    hi = Math.max(hi, source.get(r, c));
                }
                float min = snap.pageMin().get(p, c);
                float max = snap.pageMax().get(p, c);
                if (partial) {
                    assertTrue(min <= lo && max >= hi, "partial page " + p + " col " + c + " [" + min + ", " + max
                            + "] does not bound [" + lo + ", " + hi + "], " + where);
                } else {
                    assertEquals(lo, min, "min of full page " + p + " col " + c + ", " + where);
                    assertEquals(hi, max, "max of full page " + p + " col " + c + ", " + where);
                }
            }
        }
    }
}
