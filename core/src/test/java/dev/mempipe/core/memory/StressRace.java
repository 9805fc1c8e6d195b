package dev.mempipe.core.memory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;
import java.util.function.LongSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The race of the single-writer memory stress tests ({@code *StressTest}): one writer appends a planned sequence of
 * batches while {@value #READERS} readers read the memory the way a pipeline does and check every read, as it
 * happens, against a serial model (the same appends done one after another). The plan is fixed before the race, so
 * the lengths the memory may publish are known in advance: a read is right when it equals the model at one
 * published length between the reader's look at the length before the read and its look after (which is what
 * "counts never ahead of data, summaries never half-updated" means for a reader).
 *
 * <p>Seeded ({@code -Dmempipe.stress.seed}, printed), scaled with {@code -Dmempipe.stress.scale=N} (N times the
 * appends; each check grows with the length read, so a run takes more than N times as long). Thread-safety: {@link #run} is called from one test thread; it starts and joins the
 * readers itself. A run longer than {@value #PROGRESS_SECONDS} s prints a progress line
 * every {@value #PROGRESS_SECONDS} s.
 */
final class StressRace {
    static final long SEED = Long.getLong("mempipe.stress.seed", System.nanoTime());
    static final int SCALE = Math.max(1, Integer.getInteger("mempipe.stress.scale", 1));
    static final int READERS = 2;
    private static final int PROGRESS_SECONDS = 10;
    /** A reader's delay before a read: up to a few tens of microseconds, about the time of a small append. */
    private static final int MAX_DELAY_SPINS = 2000;
    /**
     * Reads in a row before a reader yields during an append: reading on and on covers the whole append (also while
     * the writer waits for a core on a loaded machine) but must not keep it from a core for long.
     */
    private static final int YIELD_EVERY = 16;
    /** A writer waits at most this long for the readers to make progress (a stuck reader fails the test). */
    private static final long READER_WAIT_NANOS = 30_000_000_000L;

    private StressRace() {
    }

    /** The command that reruns a test class with this run's seed and scale. */
    static String reproduce(Class<?> test) {
        return "seed " + SEED + "; rerun: ./mvnw -pl core -am verify -Dtest=" + test.getSimpleName()
                + " -Dsurefire.failIfNoSpecifiedTests=false -Dmempipe.test.argLine=\"-Dmempipe.stress.seed=" + SEED
                + " -Dmempipe.stress.scale=" + SCALE + "\"";
    }

    /**
     * The lengths the writer publishes, in order: {@code lengths[0] = 0}, and batch i appends rows
     * {@code [lengths[i], lengths[i + 1])}.
     */
    record Plan(long[] lengths) {
        /**
         * Batches summing to {@code total}: sizes of 1, around the memory's unit ({@code unit - 1}, {@code unit},
         * {@code unit + 1}), several units, and random, so appends start and end at every offset in a page or
         * block (no empty batches: they publish nothing).
         */
        static Plan batches(SplittableRandom random, long total, int unit) {
            List<Long> ends = new ArrayList<>(List.of(0L));
            long at = 0;
            while (at < total) {
                int size = switch (random.nextInt(7)) {
                    case 0, 1 -> 1;
                    case 2 -> Math.max(1, unit - 1);
                    case 3 -> unit;
                    case 4 -> unit + 1;
                    case 5 -> 2 * unit + 3;
                    default -> 1 + random.nextInt(3 * unit);
                };
                at = Math.min(total, at + size);
                ends.add(at);
            }
            return new Plan(ends.stream().mapToLong(Long::longValue).toArray());
        }

        /** One item per append (Bm25Memory's documents). */
        static Plan ones(int total) {
            long[] lengths = new long[total + 1];
            Arrays.setAll(lengths, i -> i);
            return new Plan(lengths);
        }

        int batches() {
            return lengths.length - 1;
        }

        long total() {
            return lengths[lengths.length - 1];
        }

        long from(int batch) {
            return lengths[batch];
        }

        long to(int batch) {
            return lengths[batch + 1];
        }

        boolean isPublished(long length) {
            return Arrays.binarySearch(lengths, length) >= 0;
        }

        /**
         * The length published after {@code length} (itself when it is the last): an append that is in progress
         * when a reader looks at the length publishes it next.
         */
        long next(long length) {
            int at = Arrays.binarySearch(lengths, length);
            at = at >= 0 ? at + 1 : -at - 1;
            return at < lengths.length ? lengths[at] : length;
        }

        /** The published lengths in {@code [low, high]}, ascending. */
        long[] between(long low, long high) {
            int from = Arrays.binarySearch(lengths, low);
            from = from >= 0 ? from : -from - 1;
            int to = Arrays.binarySearch(lengths, high);
            to = to >= 0 ? to + 1 : -to - 1;
            return from < to ? Arrays.copyOfRange(lengths, from, to) : new long[0];
        }
    }

    /** One read and its check; throws {@link AssertionError} naming what differs from the model. */
    @FunctionalInterface
    interface Read {
        /** @return whether the read overlapped an append (the length changed between its looks before and after) */
        boolean readAndCheck();
    }

    /** What a race did: the appends, the reads checked, how many of them overlapped an append. */
    record Result(int appends, long checks, long overlapping) {
        @Override
        public String toString() {
            return checks + " reads checked during " + appends + " appends, " + overlapping
                    + " of them overlapping an append; all equal to the serial model";
        }
    }

    /**
     * Runs the plan: {@code append.accept(i)} appends batch i on this thread while the {@value #READERS} readers
     * race it. For each append the writer waits until both readers are ready, appends, and waits until both have
     * finished; each reader starts after a random delay of 0 to about {@value #MAX_DELAY_SPINS} spin-waits (so reads
     * begin before, during and after the append, at varied points of it) and calls {@code read} again and again until
     * the append has returned, so that reads cover the whole append however long it takes. A last read of each
     * reader sees the final state. Fails with the first reader's failure and the seed; checks that {@code length}
     * ends at the plan's total.
     */
    static Result run(String memory, Plan plan, IntConsumer append, LongSupplier length, Read read)
            throws InterruptedException {
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong turn = new AtomicLong();      // the append being raced, from 1
        AtomicLong ready = new AtomicLong();     // readers ready for it, over all turns
        AtomicLong appended = new AtomicLong();  // the last turn whose append returned
        AtomicLong finished = new AtomicLong();  // readers done with it, over all turns
        AtomicLong checks = new AtomicLong();
        AtomicLong overlapping = new AtomicLong();
        List<Thread> readers = new ArrayList<>();
        for (int r = 0; r < READERS; r++) {
            SplittableRandom delays = new SplittableRandom(SEED + 31L * r);
            readers.add(Thread.ofPlatform().name(memory + "-reader-" + r).start(() -> {
                try {
                    long seen = 0;
                    while (failure.get() == null) {
                        while (turn.get() == seen && !done.get() && failure.get() == null) {
                            Thread.yield();
                        }
                        if (turn.get() == seen) { // done: one last read of the final state
                            checkOnce(read, checks, overlapping);
                            break;
                        }
                        seen = turn.get();
                        ready.incrementAndGet();
                        for (int spin = delays.nextInt(MAX_DELAY_SPINS); spin > 0; spin--) {
                            Thread.onSpinWait();
                        }
                        for (int reads = 1; ; reads++) {
                            checkOnce(read, checks, overlapping);
                            if (appended.get() >= seen || failure.get() != null) {
                                break;
                            }
                            if (reads % YIELD_EVERY == 0) {
                                Thread.yield(); // now and then: the writer may be waiting for a core
                            }
                        }
                        finished.incrementAndGet();
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }));
        }
        long started = System.nanoTime();
        long nextProgress = started + PROGRESS_SECONDS * 1_000_000_000L;
        int appends = 0;
        try {
            for (int batch = 0; batch < plan.batches() && failure.get() == null; batch++) {
                long t = turn.incrementAndGet();
                await(ready, t * READERS, failure, memory);
                append.accept(batch);
                appends++;
                appended.set(t);
                await(finished, t * READERS, failure, memory);
                if (System.nanoTime() > nextProgress) {
                    System.out.printf("  %s: %d of %d appended, %d reads checked (%d s)%n", memory, plan.to(batch),
                            plan.total(), checks.get(), (System.nanoTime() - started) / 1_000_000_000L);
                    nextProgress += PROGRESS_SECONDS * 1_000_000_000L;
                }
            }
        } finally {
            done.set(true);
            for (Thread t : readers) {
                t.join();
            }
        }
        Throwable t = failure.get();
        if (t != null) {
            throw new AssertionError(memory + ": a read differs from the serial model: " + t.getMessage()
                    + "; seed " + SEED + ", scale " + SCALE, t);
        }
        assertEquals(plan.total(), length.getAsLong(), memory + " length after every append");
        assertTrue(overlapping.get() > 0, memory + ": no read overlapped an append (the race raced nothing)");
        return new Result(appends, checks.get(), overlapping.get());
    }

    private static void checkOnce(Read read, AtomicLong checks, AtomicLong overlapping) {
        if (read.readAndCheck()) {
            overlapping.incrementAndGet();
        }
        checks.incrementAndGet();
    }

    /** The writer waits for the readers (yielding: there may be fewer cores than threads). */
    private static void await(AtomicLong counter, long target, AtomicReference<Throwable> failure, String memory) {
        long deadline = System.nanoTime() + READER_WAIT_NANOS;
        while (counter.get() < target && failure.get() == null) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the readers of " + memory + " made no progress for 30 s; seed " + SEED);
            }
            Thread.yield();
        }
    }

    /** The published lengths in {@code [before, after]}, failing when {@code seen} is not one of them. */
    static long[] window(Plan plan, long before, long seen, long after, String what) {
        if (seen < before || seen > after || !plan.isPublished(seen)) {
            throw new AssertionError(what + " read length " + seen + ", which is not a length published between "
                    + before + " (before the read) and " + after + " (after it)");
        }
        return plan.between(seen, after);
    }

    /** Fails with {@code problem} unless {@code ok}: a reader's check (the race reports the first failure). */
    static void check(boolean ok, String problem) {
        if (!ok) {
            throw new AssertionError(problem);
        }
    }

    /** Gaussian rows, none exactly zero (so min and max never meet a -0.0 / +0.0 tie). */
    static float[][] gaussianRows(SplittableRandom random, long rows, int cols) {
        float[][] out = new float[Math.toIntExact(rows)][cols];
        for (float[] row : out) {
            for (int c = 0; c < cols; c++) {
                float x = (float) random.nextGaussian();
                row[c] = x == 0 ? 1e-3f : x;
            }
        }
        return out;
    }

    /** The rows one after another, as {@code Tensor.of} takes them. */
    static float[] flat(float[][] rows) {
        int cols = rows.length == 0 ? 0 : rows[0].length;
        float[] out = new float[rows.length * cols];
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(rows[r], 0, out, r * cols, cols);
        }
        return out;
    }
}
