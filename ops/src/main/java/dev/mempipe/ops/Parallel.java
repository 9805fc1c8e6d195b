package dev.mempipe.ops;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Splits large scans over rows between the calling thread and a pool of helpers. Work below {@code minGrain}
 * items, or on a one-core machine, stays on the calling thread: waking a helper costs microseconds, more than a
 * small scan.
 *
 * <p>The range is cut into up to {@code 16 * THREADS} chunks that every participant, the caller included, claims
 * one at a time from a shared counter, so whoever is running takes the next chunk and a helper that wakes late
 * costs nothing. (A recursive fork-join split was used before: the caller only waited, and the first helper took
 * the halves before the second woke, so a 150 MB store scan ran mostly on one core: one pool thread held 95% of
 * the profiler's samples.)
 *
 * <p>Uses its own pool of daemon threads sized to the machine ({@code -Dmempipe.threads=N} overrides), not the
 * common pool, whose parallelism is one less than the cores (1 on a 2-core machine). Safe for concurrent use:
 * each call has its own chunk counter.
 */
final class Parallel {
    /** A body over the half-open range {@code [from, to)}. */
    @FunctionalInterface
    interface RangeBody {
        void run(long from, long to);
    }

    static final int THREADS = Integer.getInteger("mempipe.threads", Runtime.getRuntime().availableProcessors());

    /**
     * Chunks per thread at most: the last chunk to finish sets the end, so smaller chunks leave less idle time
     * behind (with 4 per thread a 150 MB scan kept one core idle for up to an eighth of it); the grain keeps each
     * chunk worth a claim.
     */
    private static final long CHUNKS_PER_THREAD = 16;

    private static final ForkJoinPool POOL = new ForkJoinPool(Math.max(1, THREADS), pool -> {
        ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
        t.setName("mempipe-simd-" + t.getPoolIndex());
        t.setDaemon(true);
        return t;
    }, null, false);

    /** Never started: a confined segment is accessible only by its owner, and this thread owns none. */
    private static final Thread NOT_AN_OWNER = Thread.ofPlatform().unstarted(() -> { });

    private Parallel() {
    }

    /**
     * Runs {@code body} over {@code [0, n)}, split into up to {@code 16 * THREADS} chunks of at least
     * {@code minGrain} items each (aligned to {@code align} items, e.g. a page), in parallel when there is
     * more than one chunk. Returns when every claimed chunk is done; the first exception from a chunk propagates
     * to the caller (chunks not yet started are then skipped).
     */
    static void forRange(long n, long minGrain, long align, RangeBody body) {
        if (n <= 0 || THREADS <= 1 || n < 2 * minGrain || inPool()) {
            forRangeHere(n, minGrain, align, body);
            return;
        }
        Chunks work = new Chunks(n, grain(n, minGrain, align), body);
        for (int h = 0; h < Math.min(THREADS - 1, work.count - 1); h++) {
            POOL.execute(work::claimAll);
        }
        work.claimAll();
        work.awaitAll();
    }

    static void forRange(long n, long minGrain, RangeBody body) {
        forRange(n, minGrain, 1, body);
    }

    /**
     * {@link #forRange(long, long, long, RangeBody)}'s chunks, one after another on the calling thread: for memory
     * other threads cannot read (a confined arena). The same split as the parallel run, so the same results: a
     * kernel may sum a row's lanes in another order than the kernel for the rows a block leaves over, so where
     * the chunks start decides some rows' last bit (docs/SPEC.md, "Threads").
     */
    static void forRangeHere(long n, long minGrain, long align, RangeBody body) {
        if (n <= 0) {
            return;
        }
        if (THREADS <= 1 || n < 2 * minGrain) {
            body.run(0, n);
            return;
        }
        inOrder(n, grain(n, minGrain, align), body);
    }

    /** Chunk length: up to {@code 16 * THREADS} chunks of at least {@code minGrain}, aligned to {@code align}. */
    private static long grain(long n, long minGrain, long align) {
        long chunks = Math.min(CHUNKS_PER_THREAD * THREADS, n / minGrain);
        long grain = (n + chunks - 1) / chunks;
        return (grain + align - 1) / align * align;
    }

    private static void inOrder(long n, long grain, RangeBody body) {
        for (long from = 0; from < n; from += grain) {
            body.run(from, Math.min(n, from + grain));
        }
    }

    /**
     * {@link #forRange(long, long, RangeBody)} for a body that reads or writes {@code touched}: it runs on the
     * calling thread when any of them is confined to it (an {@code Arena.ofConfined()} segment throws
     * {@code WrongThreadException} on a pool thread). Null entries are ignored.
     */
    static void forRange(long n, long minGrain, RangeBody body, MemorySegment... touched) {
        if (shareable(touched)) {
            forRange(n, minGrain, 1, body);
        } else {
            forRangeHere(n, minGrain, 1, body);
        }
    }

    /** Whether every segment can be accessed from other threads (global, auto, shared or heap memory). */
    static boolean shareable(MemorySegment... segments) {
        for (MemorySegment s : segments) {
            if (s != null && !s.isAccessibleBy(NOT_AN_OWNER)) {
                return false;
            }
        }
        return true;
    }

    /** Nested calls from a worker run sequentially: the outer split already uses every core. */
    private static boolean inPool() {
        return Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == POOL;
    }

    /**
     * The chunks of one call. A helper that starts after every chunk is claimed does nothing and touches no
     * memory, so the caller waits for claimed chunks only, never for helpers still queued.
     */
    private static final class Chunks {
        private final long n;
        private final long grain;
        private final RangeBody body;
        private final int count;
        private final AtomicLong next = new AtomicLong();
        private final CountDownLatch done;
        private final AtomicReference<Throwable> failure = new AtomicReference<>();

        Chunks(long n, long grain, RangeBody body) {
            this.n = n;
            this.grain = grain;
            this.body = body;
            this.count = (int) ((n + grain - 1) / grain);
            this.done = new CountDownLatch(count);
        }

        void claimAll() {
            for (long c = next.getAndIncrement(); c < count; c = next.getAndIncrement()) {
                try {
                    if (failure.get() == null) {
                        long from = c * grain;
                        body.run(from, Math.min(n, from + grain));
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.countDown();
                }
            }
        }

        void awaitAll() {
            boolean interrupted = false;
            while (true) {
                try {
                    done.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // chunks still read the caller's memory: wait for them regardless
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            Throwable t = failure.get();
            if (t instanceof RuntimeException r) {
                throw r;
            }
            if (t instanceof Error e) {
                throw e;
            }
            if (t != null) {
                throw new IllegalStateException(t);
            }
        }
    }
}
