package dev.mempipe.ops;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveAction;

/**
 * Fork-join split of large scans over rows. Work below {@link #minGrain} items, or on a one-core machine,
 * stays on the calling thread: forking costs microseconds, more than a small scan.
 *
 * <p>Uses its own pool of daemon threads sized to the machine ({@code -Dmempipe.threads=N} overrides), not the
 * common pool, whose parallelism is one less than the cores (1 on a 2-core machine).
 */
final class Parallel {
    /** A body over the half-open range {@code [from, to)}. */
    @FunctionalInterface
    interface RangeBody {
        void run(long from, long to);
    }

    static final int THREADS = Integer.getInteger("mempipe.threads", Runtime.getRuntime().availableProcessors());

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
     * Runs {@code body} over {@code [0, n)}, split into about {@code 4 * THREADS} chunks of at least
     * {@code minGrain} items each (aligned to {@code align} items, e.g. a page), in parallel when there is
     * more than one chunk. Exceptions from a chunk propagate to the caller.
     */
    static void forRange(long n, long minGrain, long align, RangeBody body) {
        if (n <= 0) {
            return;
        }
        if (THREADS <= 1 || n < 2 * minGrain || inPool()) {
            body.run(0, n);
            return;
        }
        long chunks = Math.min(4L * THREADS, n / minGrain);
        long grain = (n + chunks - 1) / chunks;
        grain = (grain + align - 1) / align * align;
        POOL.invoke(new Split(0, n, grain, body));
    }

    static void forRange(long n, long minGrain, RangeBody body) {
        forRange(n, minGrain, 1, body);
    }

    /**
     * {@link #forRange(long, long, RangeBody)} for a body that reads or writes {@code touched}: it runs on the
     * calling thread when any of them is confined to it (an {@code Arena.ofConfined()} segment throws
     * {@code WrongThreadException} on a pool thread). Null entries are ignored.
     */
    static void forRange(long n, long minGrain, RangeBody body, MemorySegment... touched) {
        if (shareable(touched)) {
            forRange(n, minGrain, 1, body);
        } else if (n > 0) {
            body.run(0, n);
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

    private static final class Split extends RecursiveAction {
        private final long from;
        private final long to;
        private final long grain;
        private final transient RangeBody body;

        Split(long from, long to, long grain, RangeBody body) {
            this.from = from;
            this.to = to;
            this.grain = grain;
            this.body = body;
        }

        @Override
        protected void compute() {
            if (to - from <= grain) {
                body.run(from, to);
                return;
            }
            long chunks = (to - from + grain - 1) / grain;
            long mid = from + (chunks / 2) * grain;
            invokeAll(new Split(from, mid, grain, body), new Split(mid, to, grain, body));
        }
    }
}
