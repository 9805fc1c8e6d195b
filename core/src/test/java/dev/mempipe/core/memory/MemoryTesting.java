package dev.mempipe.core.memory;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.placement.Device;
import dev.mempipe.core.placement.DeviceModel;
import dev.mempipe.core.profile.EnergyMeter;
import dev.mempipe.goldentests.ScalarBackend;
import dev.mempipe.ops.SimdBackend;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Named;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Shared helpers of the memory tests: backends, seeds, sizes, random data, bit comparison, a reader thread. */
final class MemoryTesting {
    /** Multiplies test sizes: {@code -Dmempipe.test.scale=10} for a longer run. */
    static final int SCALE = Math.max(1, Integer.getInteger("mempipe.test.scale", 1));

    private MemoryTesting() {
    }

    /**
     * The two backends every property runs on: the CPU backend and the scalar oracle
     * ({@code @MethodSource("dev.mempipe.core.memory.MemoryTesting#backends")}).
     */
    static List<Named<Backend>> backends() {
        Backend oracle = new ScalarBackend();
        return List.of(Named.of("cpu", cpu()), Named.of(oracle.name(), oracle));
    }

    /** The SIMD CPU backend, as the engine's default CPU device uses it (fused ops and all). */
    static Backend cpu() {
        return new SimdBackend();
    }

    /** An engine whose only device is {@code backend}, with a declared model (no calibration: tests stay fast). */
    static Engine engine(Backend backend) {
        return Engine.builder().cpu(new Device(backend, DeviceModel.declared(backend.name(), 1e11, 2e10, 1e-6)))
                .energyMeter(EnergyMeter.unavailable("not measured in tests")).build();
    }

    /** {@link #engine(Backend)} on {@link #cpu()}. */
    static Engine engine() {
        return engine(cpu());
    }

    /** A seed from {@code -Dmempipe.test.seed} or a fresh one; print it with {@link #reproduce} on failure. */
    static long seed() {
        Long fixed = Long.getLong("mempipe.test.seed");
        return fixed != null ? fixed : new Random().nextLong();
    }

    static String reproduce(long seed, Class<?> test) {
        return "seed=" + seed + "; reproduce: ./mvnw -q -pl core -am verify -Dtest=" + test.getSimpleName()
                + " -Dsurefire.failIfNoSpecifiedTests=false -Dmempipe.test.argLine=-Dmempipe.test.seed=" + seed;
    }

    /**
     * Random chunk sizes summing to {@code total}: many 1s, sizes just below, at and above the boundary
     * ({@code unit}, a page or block), and multiples of it, so appends cross boundaries in every way.
     */
    static List<Integer> chunks(Random random, long total, int unit) {
        List<Integer> sizes = new ArrayList<>();
        long left = total;
        while (left > 0) {
            int size = switch (random.nextInt(8)) {
                case 0, 1 -> 1;
                case 2 -> Math.max(1, unit - 1);
                case 3 -> unit;
                case 4 -> unit + 1;
                case 5 -> 2 * unit + 3;
                case 6 -> 0;
                default -> 1 + random.nextInt(3 * unit);
            };
            size = (int) Math.min(size, left);
            sizes.add(size);
            left -= size;
        }
        return sizes;
    }

    /** Gaussian values, none exactly zero (so min/max never meet a -0.0 / +0.0 tie). */
    static float[] gaussian(Random random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            float x = (float) random.nextGaussian();
            values[i] = x == 0 ? 1e-3f : x;
        }
        return values;
    }

    static Tensor randomRows(Arena arena, Random random, long rows, int cols) {
        return Tensor.of(arena, gaussian(random, (int) (rows * cols)), rows, cols);
    }

    /** Same shape, type and bytes in every row (and the same row scales for integer types). */
    static void assertSameBits(Tensor expected, Tensor actual, String what) {
        assertEquals(expected.type(), actual.type(), what + ": element type");
        assertEquals(expected.rows(), actual.rows(), what + ": rows");
        assertEquals(expected.cols(), actual.cols(), what + ": cols");
        long rowBytes = (long) expected.cols() * expected.type().byteSize();
        for (long r = 0; r < expected.rows(); r++) {
            MemorySegment e = expected.data().asSlice(expected.offset(r, 0), rowBytes);
            MemorySegment a = actual.data().asSlice(actual.offset(r, 0), rowBytes);
            long at = e.mismatch(a);
            if (at >= 0) {
                int col = (int) (at / expected.type().byteSize());
                fail(what + ": row " + r + " differs at column " + col + ": expected " + expected.get(r, col)
                        + " but was " + actual.get(r, col));
            }
            if (expected.type().isQuantized()) {
                assertEquals(Float.floatToRawIntBits(expected.scale(r)), Float.floatToRawIntBits(actual.scale(r)),
                        what + ": scale of row " + r);
            }
        }
    }

    /**
     * Runs {@code writer} on this thread while another thread calls {@code readerCheck} in a loop; fails with
     * the reader's first failure. The writer is handed an "await a read" action to call now and then between
     * appends: it waits until the reader has finished one more check, so that reads interleave with appends
     * however fast the writer is (the reads in between still overlap appends). Returns the number of checks.
     */
    static int withConcurrentReader(Consumer<Runnable> writer, Runnable readerCheck) throws InterruptedException {
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicInteger reads = new AtomicInteger();
        Thread reader = Thread.ofPlatform().name("memory-reader").start(() -> {
            try {
                boolean last = false;
                while (!last) {
                    last = done.get(); // one more read after the writer finished, so the final state is checked
                    readerCheck.run();
                    reads.incrementAndGet();
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        Runnable awaitRead = () -> {
            int seen = reads.get();
            long deadline = System.nanoTime() + 1_000_000_000L;
            while (reads.get() <= seen && failure.get() == null && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
        };
        try {
            writer.accept(awaitRead);
        } finally {
            done.set(true);
            reader.join();
        }
        if (failure.get() != null) {
            throw new AssertionError("reader failed: " + failure.get(), failure.get());
        }
        assertTrue(reads.get() > 1, "the reader ran " + reads.get() + " times");
        return reads.get();
    }

    /** The dot product of two rows, summed in double (the tests' reference for scores). */
    static double dot(float[] a, float[] b) {
        double dot = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
        }
        return dot;
    }

    /** The cosine of two rows, summed in double (the tests' reference for cosine scores). */
    static double cosine(float[] a, float[] b) {
        return dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));
    }
}
