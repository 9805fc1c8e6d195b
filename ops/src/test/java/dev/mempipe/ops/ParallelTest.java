package dev.mempipe.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** {@link Parallel}: every item exactly once, failures propagate only after the claimed chunks are done. */
class ParallelTest {
    @Test
    void should_cover_every_item_exactly_once_for_awkward_sizes_grains_and_alignments() {
        for (long n : new long[] {1, 2, 7, 1000, 4097, 100_003}) {
            for (long grain : new long[] {1, 3, 64, 1000}) {
                for (long align : new long[] {1, 8, 256}) {
                    AtomicIntegerArray seen = new AtomicIntegerArray((int) n);
                    Parallel.forRange(n, grain, align, (from, to) -> {
                        assertTrue(from < to && to <= n, "chunk [" + from + ", " + to + ") of " + n);
                        assertEquals(0, from % align, "chunk start " + from + " not aligned to " + align);
                        for (long i = from; i < to; i++) {
                            seen.incrementAndGet((int) i);
                        }
                    });
                    for (int i = 0; i < n; i++) {
                        assertEquals(1, seen.get(i), "item " + i + " of n=" + n + " grain=" + grain + " align=" + align);
                    }
                }
            }
        }
    }

    @Test
    void should_run_the_same_chunks_on_the_calling_thread_as_the_pool_runs() {
        // a confined arena's call runs here: the same chunk starts, or a row's kernel (and last bit) could differ
        for (long n : new long[] {1, 7, 4097, 100_003}) {
            for (long grain : new long[] {3, 1000}) {
                for (long align : new long[] {1, 4}) {
                    Set<String> pooled = ConcurrentHashMap.newKeySet();
                    Set<String> here = ConcurrentHashMap.newKeySet();
                    Thread caller = Thread.currentThread();
                    Parallel.forRange(n, grain, align, (from, to) -> pooled.add(from + ".." + to));
                    Parallel.forRangeHere(n, grain, align, (from, to) -> {
                        assertSame(caller, Thread.currentThread(), "forRangeHere runs on the calling thread");
                        here.add(from + ".." + to);
                    });
                    assertEquals(pooled, here, "n " + n + ", grain " + grain + ", align " + align);
                }
            }
        }
    }

    @Test
    void should_share_a_large_range_between_threads_when_there_are_several_cores() {
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        Parallel.forRange(200_000, 1000, 1, (from, to) -> {
            threads.add(Thread.currentThread());
            busyWork(from, to);
        });
        if (Parallel.THREADS > 1) {
            // the caller takes chunks itself, and a helper joins it on a range of 25 ms chunks
            assertTrue(threads.contains(Thread.currentThread()), "the caller did no chunk: " + threads);
            assertTrue(threads.size() > 1, "no helper took a chunk: " + threads);
        } else {
            assertEquals(Set.of(Thread.currentThread()), threads);
        }
    }

    @Test
    void should_rethrow_the_first_failure_after_every_claimed_chunk_has_finished() {
        AtomicInteger running = new AtomicInteger();
        IllegalStateException boom = new IllegalStateException("boom");
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () ->
                Parallel.forRange(64_000, 1000, 1, (from, to) -> {
                    running.incrementAndGet();
                    try {
                        busyWork(from, to);
                        if (from == 0) {
                            throw boom;
                        }
                    } finally {
                        running.decrementAndGet();
                    }
                }));
        assertSame(boom, thrown);
        assertEquals(0, running.get(), "a chunk was still running when forRange returned");
    }

    @Test
    void should_run_nested_calls_inline_and_serve_concurrent_callers() throws Exception {
        ExecutorService callers = Executors.newFixedThreadPool(4);
        try {
            Future<?>[] futures = new Future<?>[8];
            for (int c = 0; c < futures.length; c++) {
                futures[c] = callers.submit(() -> {
                    AtomicLong sum = new AtomicLong();
                    Parallel.forRange(200, 10, 1, (from, to) -> {
                        for (long i = from; i < to; i++) {
                            long row = i;
                            Parallel.forRange(100, 10, 1, (a, b) -> sum.addAndGet((b - a) * (row + 1)));
                        }
                    });
                    assertEquals(100L * 200 * 201 / 2, sum.get());
                });
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            callers.shutdownNow();
        }
    }

    private static void busyWork(long from, long to) {
        long end = System.nanoTime() + (to - from) * 1000; // about 1 us per item
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }
}
