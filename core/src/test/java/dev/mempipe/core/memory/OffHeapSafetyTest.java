package dev.mempipe.core.memory;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Backends;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Off-heap memory used after it is freed fails with a clear {@link IllegalStateException}, never a JVM crash: after
 * the arena is closed, and while another thread closes it during a search (the scan, on the caller's thread and on
 * the backend's helper threads, sees the arena close). This holds because every access goes through the bounds- and
 * liveness-checked {@code MemorySegment} API (no {@code reinterpret}, no {@code Unsafe}); the tests make sure no
 * path turns it into another exception or a hang. The kit's {@code NativeMemoryCheck} checks that nothing stays
 * allocated after the class.
 */
class OffHeapSafetyTest {
    private static final Backend CPU = Backends.defaultBackend();
    private static final dev.mempipe.core.engine.Engine ENGINE = dev.mempipe.core.engine.Engine.builder().build();
    private static final int ROUNDS = Integer.getInteger("mempipe.offheap.rounds", 5);

    @Test
    void every_memory_should_refuse_use_after_its_arena_is_closed() {
        Arena arena = Arena.ofShared();
        EmbeddingMemory embeddings = new EmbeddingMemory(arena, ENGINE, 8, 16);
        PagedKvMemory kv = new PagedKvMemory(arena, ENGINE, 1, 8, 32);
        CompressedMemory summaries = new CompressedMemory(arena, ENGINE, 8, 4);
        Bm25Memory bm25 = new Bm25Memory(arena, ENGINE, 4, 64);
        Tensor row;
        try (Arena scratch = Arena.ofShared()) {
            row = Tensor.of(scratch, new float[8], 1, 8);
            embeddings.append(row);
            kv.append(row, row);
            summaries.append(row);
            bm25.append(new int[] {1, 2, 3});
            arena.close();
            assertClosed(() -> embeddings.search(row, 1));
            assertClosed(() -> embeddings.append(row));
            assertClosed(() -> kv.append(row, row));
            assertClosed(() -> summaries.topK(row, 1));
            assertClosed(() -> summaries.append(row));
            assertClosed(() -> bm25.append(new int[] {4}));
            assertClosed(() -> bm25.search("x", 1));
        }
    }

    @Test
    void closing_the_arena_during_searches_from_another_thread_should_fail_them_cleanly() throws Exception {
        int n = 40_000;
        int d = 128;
        int cleanFailures = 0;
        for (int round = 0; round < ROUNDS; round++) {
            Arena arena = Arena.ofShared();
            EmbeddingMemory memory = new EmbeddingMemory(arena, ENGINE, d, n);
            float[] values = new float[4096 * d];
            SplittableRandom random = new SplittableRandom(round);
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) random.nextGaussian();
            }
            try (Arena staging = Arena.ofConfined()) {
                for (int at = 0; at < n; at += 4096) {
                    int rows = Math.min(4096, n - at);
                    memory.append(Tensor.of(staging, values, 4096, d).rowSlice(0, rows));
                }
            }
            CountDownLatch searching = new CountDownLatch(1);
            AtomicReference<Throwable> ended = new AtomicReference<>();
            AtomicInteger completed = new AtomicInteger();
            Thread searcher = Thread.ofPlatform().start(() -> {
                try (Arena queryArena = Arena.ofShared()) {
                    Tensor q = Tensor.of(queryArena, java.util.Arrays.copyOf(values, d), 1, d);
                    while (true) {
                        memory.search(q, 10);
                        completed.incrementAndGet();
                        searching.countDown();
                    }
                } catch (Throwable t) {
                    ended.set(t);
                }
            });
            assertTrue(searching.await(60, TimeUnit.SECONDS), "the first search did not finish");
            Thread.sleep(round % 3);   // close at a different point of a scan each round
            arena.close();             // from this thread, while the searcher scans
            searcher.join(TimeUnit.SECONDS.toMillis(60));
            assertTrue(!searcher.isAlive(), "the search loop did not stop after the arena closed");
            Throwable t = ended.get();
            int r = round;
            assertInstanceOf(IllegalStateException.class, t, () -> "round " + r + ": " + t);
            assertTrue(String.valueOf(t.getMessage()).contains("closed"), t::toString);
            cleanFailures++;
        }
        assertEquals(ROUNDS, cleanFailures);
    }

    @Test
    void a_budget_arena_should_give_its_bytes_back_once_even_when_closed_twice() {
        MemoryBudget budget = MemoryBudget.of(1 << 20);
        Arena arena = budget.arena();
        new CompressedMemory(arena, ENGINE, 16, 16);
        assertEquals(2 * 16 * 16 * 4, budget.used());
        arena.close();
        assertEquals(0, budget.used());
        assertThrows(IllegalStateException.class, arena::close);
        assertEquals(0, budget.used());
    }

    private static void assertClosed(Runnable use) {
        IllegalStateException e = assertThrows(IllegalStateException.class, use::run);
        assertTrue(String.valueOf(e.getMessage()).contains("closed"), e::toString);
    }
}
