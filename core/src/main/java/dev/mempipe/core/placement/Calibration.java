package dev.mempipe.core.placement;

import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.core.profile.Units;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.DeviceDescription;
import dev.mempipe.spi.Figure;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;

/**
 * The short measurement behind {@link DeviceModel#calibrate}. Each probe runs an op again and again until its
 * share of the budget is spent: while a run is shorter than {@link #TARGET_NANOS} the size doubles (so timer
 * resolution and call overhead do not count), and the best rate at the largest size reached is kept. Early
 * runs are slow because the JIT has not compiled the op yet (Vector API code is very slow until C2 compiles
 * it, which can take most of a second on a loaded machine); once it is compiled runs get short, the size
 * grows out of the caches, and the best run measures the machine least disturbed by other work, which is
 * what a roof is. A longer budget gives steadier numbers.
 */
final class Calibration {
    /** Long enough that timer resolution and call overhead do not matter. */
    private static final long TARGET_NANOS = 5_000_000;
    /** The default budget: under a second in all. */
    static final Duration DEFAULT_BUDGET = Duration.ofMillis(900);
    /** Rows of the dot scan are this wide: long rows, so the scan streams. */
    private static final int SCAN_DIM = 256;
    /** The scan's largest memory, larger than the last-level caches of common CPUs. */
    private static final long MAX_SCAN_BYTES = 64L << 20;
    private static final int PROJECT_DIM = 256;
    private static final int MAX_PROJECT_ROWS = 4096;

    /** An op at a given size; returns the work it does (bytes or FLOPs) per run. */
    private interface Probe {
        long run(int size);
    }

    private final Backend backend;
    /** Per probe: the scan and the projection get 45% each, the launch probe (run last, compiled) 10%. */
    private final long probeNanos;
    private final long launchNanos;

    private Calibration(Backend backend, Duration budget) {
        this.backend = backend;
        this.probeNanos = budget.toNanos() * 45 / 100;
        this.launchNanos = budget.toNanos() / 10;
    }

    /**
     * The backend's model: each number its {@link DeviceDescription} gives is taken as it is (with its label);
     * each one missing is measured, with only the ops the backend declares (the bandwidth with an F32 {@code dot}
     * scan, the FLOP rate with an F32 {@code project}, the launch cost with a tiny {@code dot}).
     *
     * @throws IllegalArgumentException naming the number and the op when a number is neither described nor
     *                                  measurable with a declared op
     */
    static DeviceModel run(Backend backend, Duration budget) {
        if (budget.isNegative() || budget.isZero()) {
            throw new IllegalArgumentException("calibration budget must be positive, got " + budget);
        }
        DeviceDescription described = backend.deviceDescription();
        if (described.memoryBandwidth() == null) {
            requireDeclared(backend, Op.DOT, "memory bandwidth");
        }
        if (described.peakFlops() == null) {
            requireDeclared(backend, Op.PROJECT, "peak FLOP rate");
        }
        return new Calibration(backend, budget).measure(described);
    }

    private static void requireDeclared(Backend backend, Op op, String what) {
        if (!backend.capabilities().supports(op, ElementType.F32)) {
            throw new IllegalArgumentException("cannot calibrate " + backend.name() + ": its device description gives no "
                    + what + " and it does not declare " + op + " on F32, which would measure it");
        }
    }

    private DeviceModel measure(DeviceDescription described) {
        // Shared, not confined: a backend may split one op over several threads (the SIMD backend does).
        try (Arena arena = Arena.ofShared()) {
            List<String> parts = new ArrayList<>();
            double bytesPerSecond = described.memoryBandwidth() != null ? described.memoryBandwidth().value()
                    : scanBandwidth(arena);
            parts.add(label("memory", Units.rate(bytesPerSecond, "B"), described.memoryBandwidth(), "dot scan"));
            double flopsPerSecond = described.peakFlops() != null ? described.peakFlops().value() : projectRate(arena);
            parts.add(label("compute", Units.rate(flopsPerSecond, "FLOP"), described.peakFlops(), "project"));
            double launchSeconds;
            if (described.launchSeconds() != null) {
                launchSeconds = described.launchSeconds().value();
            } else if (backend.capabilities().supports(Op.DOT, ElementType.F32)) {
                launchSeconds = launchOverhead(arena);
            } else {
                launchSeconds = 0;
            }
            parts.add(label("launch", Units.seconds(launchSeconds), described.launchSeconds(),
                    backend.capabilities().supports(Op.DOT, ElementType.F32) ? "tiny dot" : "not measurable: taken as 0"));
            EnumMap<Op, DeviceModel.Throughput> perOp = new EnumMap<>(Op.class);
            described.opThroughput().forEach((op, figure) -> {
                perOp.put(op, new DeviceModel.Throughput(flopsPerSecond, figure.value()));
                parts.add(label(op.contractName(), Units.rate(figure.value(), "B"), figure, null));
            });
            return new DeviceModel(backend.name(), flopsPerSecond, bytesPerSecond, launchSeconds, perOp,
                    "calibrated: " + String.join(", ", parts));
        }
    }

    /** {@code memory 55.2 GB/s (measured: dot scan)} or {@code memory 460 GB/s (model: U55C datasheet ...)}. */
    private static String label(String what, String value, Figure described, String probe) {
        return what + " " + value + " (" + (described == null ? "measured: " + probe
                : described.source() + ": " + described.note()) + ")";
    }

    /** The best time of a tiny dot: what one call costs beyond its work. */
    private double launchOverhead(Arena arena) {
        Tensor q = Tensor.allocate(arena, ElementType.F32, 1, 16);
        Tensor m = Tensor.allocate(arena, ElementType.F32, 1, 16);
        Tensor s = Tensor.allocate(arena, ElementType.F32, 1, 1);
        long deadline = System.nanoTime() + launchNanos;
        long best = Long.MAX_VALUE;
        while (System.nanoTime() < deadline) {
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
        return bestRate(16, maxRows, rows -> {
            Tensor m = keys.rowSlice(0, rows);
            Tensor s = Tensor.wrap(scores.asSlice(0, (long) rows * Float.BYTES), ElementType.F32, 1, rows);
            backend.relevancy().dot(q, m, s);
            return OpCosts.dot(1, rows, SCAN_DIM, ElementType.F32, ElementType.F32).bytesMoved();
        });
    }

    /** FLOPs per second of a square-ish projection (about 20 FLOP/byte at the sizes reached: compute-bound). */
    private double projectRate(Arena arena) {
        Tensor w = Tensor.allocate(arena, ElementType.F32, PROJECT_DIM, PROJECT_DIM);
        Tensor xAll = Tensor.allocate(arena, ElementType.F32, MAX_PROJECT_ROWS, PROJECT_DIM);
        Tensor yAll = Tensor.allocate(arena, ElementType.F32, MAX_PROJECT_ROWS, PROJECT_DIM);
        return bestRate(8, MAX_PROJECT_ROWS, rows -> {
            backend.prepare().project(xAll.rowSlice(0, rows), w, yAll.rowSlice(0, rows));
            return OpCosts.project(rows, PROJECT_DIM, PROJECT_DIM, ElementType.F32, ElementType.F32, ElementType.F32)
                    .flops();
        });
    }

    /** The best work per second of {@code probe} at the largest size reached from {@code first} (at most {@code max}). */
    private double bestRate(int first, int max, Probe probe) {
        long start = System.nanoTime();
        long deadline = start + probeNanos;
        // Warm-up: many cheap calls at the smallest size reach the JIT's invocation thresholds far sooner
        // than a few long calls do.
        long warmUpEnd = start + probeNanos * 3 / 10;
        while (System.nanoTime() < warmUpEnd) {
            probe.run(first);
        }
        int size = first;
        double best = 0;
        double last = 0;
        do {
            long t0 = System.nanoTime();
            long work = probe.run(size);
            long nanos = Math.max(1, System.nanoTime() - t0);
            last = work / (nanos / 1e9);
            if (nanos < TARGET_NANOS && size * 2 <= max) {
                // Too short to time well, or freshly compiled: grow, and forget rates of smaller sizes, which
                // may have come from the caches.
                size *= 2;
                best = 0;
            } else {
                best = Math.max(best, last);
            }
        } while (System.nanoTime() < deadline);
        return best > 0 ? best : last;
    }
}
