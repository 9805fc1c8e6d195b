package dev.mempipe.core.placement;

import dev.mempipe.core.profile.OpCost;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.core.profile.Units;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;

/**
 * The short measurement behind {@link DeviceModel#calibrate}. Each probe grows its size until one run lasts
 * {@link #TARGET_NANOS} (or a size cap is hit), then keeps the best of a few runs: the best run is the one
 * least disturbed by the rest of the machine, which is what a roof is.
 */
final class Calibration {
    /** Long enough that timer resolution and call overhead do not matter, short enough for a sub-second total. */
    private static final long TARGET_NANOS = 5_000_000;
    /** The whole calibration stops growing sizes and repeating runs after this. */
    private static final long BUDGET_NANOS = 700_000_000;
    /** Rows of the dot scan are this wide: long rows, so the scan streams. */
    private static final int SCAN_DIM = 256;
    /** The scan's largest memory, larger than the last-level caches of common CPUs. */
    private static final long MAX_SCAN_BYTES = 64L << 20;
    private static final int PROJECT_DIM = 256;
    private static final int MAX_PROJECT_ROWS = 4096;
    private static final int REPEATS = 3;
    private static final int LAUNCH_CALLS = 500;

    private final Backend backend;
    private final long deadline;

    private Calibration(Backend backend) {
        this.backend = backend;
        this.deadline = System.nanoTime() + BUDGET_NANOS;
    }

    static DeviceModel run(Backend backend) {
        for (Op op : new Op[] {Op.DOT, Op.PROJECT}) {
            if (!backend.capabilities().supports(op, ElementType.F32)) {
                throw new IllegalArgumentException("cannot calibrate " + backend.name() + ": it does not declare "
                        + op + " on F32, which calibration measures");
            }
        }
        return new Calibration(backend).measure();
    }

    private DeviceModel measure() {
        // Shared, not confined: a backend may split one op over several threads (the SIMD backend does).
        try (Arena arena = Arena.ofShared()) {
            double launchSeconds = launchOverhead(arena);
            double bytesPerSecond = scanBandwidth(arena);
            double flopsPerSecond = projectRate(arena);
            String source = "calibrated: dot scan " + Units.rate(bytesPerSecond, "B") + ", project "
                    + Units.rate(flopsPerSecond, "FLOP") + ", launch " + Units.seconds(launchSeconds);
            return new DeviceModel(backend.name(), flopsPerSecond, bytesPerSecond, launchSeconds, Map.of(), source);
        }
    }

    /** The best time of a tiny dot: what one call costs beyond its work (also warms the code up). */
    private double launchOverhead(Arena arena) {
        Tensor q = Tensor.allocate(arena, ElementType.F32, 1, 16);
        Tensor m = Tensor.allocate(arena, ElementType.F32, 1, 16);
        Tensor s = Tensor.allocate(arena, ElementType.F32, 1, 1);
        long best = Long.MAX_VALUE;
        for (int i = 0; i < LAUNCH_CALLS && System.nanoTime() < deadline; i++) {
            long t0 = System.nanoTime();
            backend.relevancy().dot(q, m, s);
            best = Math.min(best, System.nanoTime() - t0);
        }
        return best == Long.MAX_VALUE ? 0 : best / 1e9;
    }

    /** Bytes per second of a one-query dot over a growing key memory (0.5 FLOP/byte: memory-bound anywhere). */
    private double scanBandwidth(Arena arena) {
        long rowBytes = (long) SCAN_DIM * Float.BYTES;
        int maxRows = (int) (MAX_SCAN_BYTES / rowBytes);
        Tensor keys = Tensor.allocate(arena, ElementType.F32, maxRows, SCAN_DIM);
        Tensor q = Tensor.allocate(arena, ElementType.F32, 1, SCAN_DIM);
        MemorySegment scores = arena.allocate((long) maxRows * Float.BYTES, 64);
        int rows = 256;
        while (true) {
            Tensor m = keys.rowSlice(0, rows);
            Tensor s = Tensor.wrap(scores.asSlice(0, (long) rows * Float.BYTES), ElementType.F32, 1, rows);
            long nanos = time(() -> backend.relevancy().dot(q, m, s));
            if (nanos >= TARGET_NANOS || rows * 2 > maxRows || System.nanoTime() > deadline) {
                OpCost cost = OpCosts.dot(1, rows, SCAN_DIM, ElementType.F32, ElementType.F32);
                return cost.bytesMoved() / (bestOf(nanos, () -> backend.relevancy().dot(q, m, s)) / 1e9);
            }
            rows *= 2;
        }
    }

    /** FLOPs per second of a square-ish projection (about 20 FLOP/byte at the sizes reached: compute-bound). */
    private double projectRate(Arena arena) {
        Tensor w = Tensor.allocate(arena, ElementType.F32, PROJECT_DIM, PROJECT_DIM);
        Tensor xAll = Tensor.allocate(arena, ElementType.F32, MAX_PROJECT_ROWS, PROJECT_DIM);
        Tensor yAll = Tensor.allocate(arena, ElementType.F32, MAX_PROJECT_ROWS, PROJECT_DIM);
        int rows = 8;
        while (true) {
            Tensor x = xAll.rowSlice(0, rows);
            Tensor y = yAll.rowSlice(0, rows);
            long nanos = time(() -> backend.prepare().project(x, w, y));
            if (nanos >= TARGET_NANOS || rows * 2 > MAX_PROJECT_ROWS || System.nanoTime() > deadline) {
                OpCost cost = OpCosts.project(rows, PROJECT_DIM, PROJECT_DIM, ElementType.F32, ElementType.F32,
                        ElementType.F32);
                return cost.flops() / (bestOf(nanos, () -> backend.prepare().project(x, w, y)) / 1e9);
            }
            rows *= 2;
        }
    }

    private long bestOf(long first, Runnable run) {
        long best = first;
        for (int i = 0; i < REPEATS && System.nanoTime() < deadline; i++) {
            best = Math.min(best, time(run));
        }
        return Math.max(best, 1);
    }

    private static long time(Runnable run) {
        long t0 = System.nanoTime();
        run.run();
        return System.nanoTime() - t0;
    }
}
