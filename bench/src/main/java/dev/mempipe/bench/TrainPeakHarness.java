package dev.mempipe.bench;

import dev.mempipe.core.placement.DeviceModel;
import dev.mempipe.ops.SimdBackend;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.MlpLoss;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The parametric-memory ops (TrainOps) against the peak FLOP rate {@code mempipe profile} calibrates (issue 12: target
 * {@code >= 0.6} of it). One process: first the profile's own calibration ({@link DeviceModel#calibrate} with the
 * profile's 3-second budget, whose FLOP roof is the best rate of an F32 {@code project} of {@code [rows, 256]} by
 * {@code [256, 256]}), then every op at the shapes the workloads use, interleaved round after round (load on a shared
 * machine drifts over minutes; interleaving exposes every op to the same drift), then the calibration again. After a
 * warm-up round, so that the calibration times compiled kernels; the higher of the two calibrations is the roof. A sample repeats its op until it
 * lasts at least 5 ms. Each op's rate is reported as the best sample (the calibration also keeps its best run, so the
 * two are comparable) and the median, each divided by the calibrated peak, and the median divided by the median of
 * {@code project} at the calibration's own shape timed in the same rounds (the ratio other load moves least).
 *
 * <p>FLOPs per call are the ops' descriptor counts ({@code dev.mempipe.spi.Op}): mlpForward {@code 6 n d h + 5 n h},
 * mlpGradient {@code 14 n d h}, newtonSchulz {@code steps (4 m^2 k + 2 m^3)} with {@code m = min(r, c)},
 * {@code k = max(r, c)}, momentumUpdate {@code 5 r c} (memory-bound: 20 bytes per 5 FLOPs, so it is compared with the
 * calibrated bandwidth instead).
 *
 * <p>Run: {@code java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx4g -cp
 * bench/target/mempipe-benchmarks.jar dev.mempipe.bench.TrainPeakHarness [rounds]} (default 12 rounds, about a minute
 * on the 2-core VM). Prints a markdown table of {@code measured} figures.
 */
public final class TrainPeakHarness {
    /** The profile's calibration budget ({@code ProfileMeasurement.CALIBRATION}). */
    private static final Duration CALIBRATION = Duration.ofSeconds(3);
    private static final long MIN_SAMPLE_NANOS = 5_000_000;

    private TrainPeakHarness() {
    }

    /** One op at one shape: its call, its work per call, and whether that work is FLOPs or bytes. */
    private record Case(String op, String shape, String workload, double work, boolean bytes, Runnable call,
                       List<Double> rates) {
        Case(String op, String shape, String workload, double work, boolean bytes, Runnable call) {
            this(op, shape, workload, work, bytes, call, new ArrayList<>());
        }
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 12;
        if (rounds < 3) {
            throw new IllegalArgumentException("rounds must be >= 3, got " + rounds);
        }
        try (Backend backend = new SimdBackend(); Arena arena = Arena.ofShared()) {
            List<Case> cases = cases(backend, arena);
            // a warm-up round first: in a fresh JVM on a busy machine the calibration can finish before C2 has
            // compiled the kernels, and a roof measured on interpreted code would flatter every ratio
            System.err.println("warming up");
            for (Case c : cases) {
                sample(c);
            }
            System.err.println("calibrating " + backend.description() + " as mempipe profile does ("
                    + CALIBRATION.toSeconds() + " s)");
            DeviceModel before = DeviceModel.calibrate(backend, CALIBRATION);
            for (int round = 0; round < rounds; round++) {
                System.err.printf(Locale.ROOT, "round %d of %d%n", round + 1, rounds);
                for (Case c : cases) {
                    c.rates().add(sample(c));
                }
            }
            System.err.println("calibrating again");
            DeviceModel after = DeviceModel.calibrate(backend, CALIBRATION);
            // the higher of the two roofs: the stricter denominator
            DeviceModel roofs = after.peakFlopsPerSecond() > before.peakFlopsPerSecond() ? after : before;
            System.out.printf(Locale.ROOT, "calibrations: %.1f GFLOP/s before the rounds, %.1f after; the higher "
                    + "is the roof%n", before.peakFlopsPerSecond() / 1e9, after.peakFlopsPerSecond() / 1e9);
            print(backend, roofs, cases, rounds);
        }
    }

    private static List<Case> cases(Backend backend, Arena arena) {
        SplittableRandom random = new SplittableRandom(12);
        List<Case> cases = new ArrayList<>();
        // the calibration's own probe at its largest size, timed like the others: how far the roof is from a
        // typical sample of the same op
        Tensor px = gaussian(arena, random, 4096, 256);
        Tensor pw = gaussian(arena, random, 256, 256);
        Tensor py = f32(arena, 4096, 256);
        cases.add(new Case("project", "[4096, 256] x [256, 256]", "the calibration's probe", 2.0 * 4096 * 256 * 256,
                false, () -> backend.prepare().project(px, pw, py)));
        // TrainOpsBenchmark's chunk; LaCT's chunk update in the profile (2048 tokens, d = h = the tiny model's 512);
        // Titans' setup mini-batch (64 rows)
        int[][] mlpShapes = {{256, 256, 512}, {2048, 512, 512}, {64, 512, 512}};
        String[] workloads = {"TrainOpsBenchmark's chunk", "LaCT chunk update (profile)", "Titans setup batch (profile)"};
        for (int s = 0; s < mlpShapes.length; s++) {
            int n = mlpShapes[s][0];
            int d = mlpShapes[s][1];
            int h = mlpShapes[s][2];
            Tensor x = gaussian(arena, random, n, d);
            Tensor t = gaussian(arena, random, n, d);
            Tensor w1 = gaussian(arena, random, h, d);
            Tensor w3 = gaussian(arena, random, h, d);
            Tensor w2 = gaussian(arena, random, d, h);
            Tensor y = f32(arena, n, d);
            Tensor g1 = f32(arena, h, d);
            Tensor g3 = f32(arena, h, d);
            Tensor g2 = f32(arena, d, h);
            String shape = "n=" + n + ", d=" + d + ", h=" + h;
            cases.add(new Case("mlpForward", shape, workloads[s], 6.0 * n * d * h + 5.0 * n * h, false,
                    () -> backend.train().mlpForward(x, w1, w3, w2, y)));
            MlpLoss loss = s == 2 ? MlpLoss.SQUARED : MlpLoss.NEGATIVE_DOT;
            cases.add(new Case("mlpGradient " + loss, shape, workloads[s], 14.0 * n * d * h, false,
                    () -> backend.train().mlpGradient(x, t, w1, w3, w2, loss, g1, g3, g2)));
        }
        // LaCT orthogonalizes each gradient: [h, d] = [512, 512] in the profile, [512, 256] in TrainOpsBenchmark
        for (int[] rc : new int[][] {{512, 256}, {512, 512}}) {
            Tensor g = gaussian(arena, random, rc[0], rc[1]);
            Tensor o = f32(arena, rc[0], rc[1]);
            double m = Math.min(rc[0], rc[1]);
            double k = Math.max(rc[0], rc[1]);
            cases.add(new Case("newtonSchulz (5 steps)", "[" + rc[0] + ", " + rc[1] + "]",
                    rc[1] == 512 ? "LaCT chunk update (profile)" : "TrainOpsBenchmark's chunk",
                    5 * (4 * m * m * k + 2 * m * m * m), false, () -> backend.train().newtonSchulz(g, 5, o)));
        }
        Tensor w = gaussian(arena, random, 512, 512);
        Tensor grad = gaussian(arena, random, 512, 512);
        Tensor momentum = f32(arena, 512, 512);
        cases.add(new Case("momentumUpdate", "[512, 512]", "Titans, per weight matrix", 5.0 * 512 * 512 * Float.BYTES,
                true, () -> backend.train().momentumUpdate(w, grad, momentum, 0.9f, 1e-6f, 0f)));
        // a decode step's read, M(q) for one token: 3 d h weights read for 6 d h FLOPs, memory-bound by construction
        Tensor q = gaussian(arena, random, 1, 512);
        Tensor w1 = gaussian(arena, random, 512, 512);
        Tensor w3 = gaussian(arena, random, 512, 512);
        Tensor w2 = gaussian(arena, random, 512, 512);
        Tensor read = f32(arena, 1, 512);
        cases.add(new Case("mlpForward", "n=1, d=512, h=512", "Titans/LaCT read per decode step",
                3.0 * 512 * 512 * Float.BYTES, true, () -> backend.train().mlpForward(q, w1, w3, w2, read)));
        return cases;
    }

    /** Work per second of one sample: the op repeated until it lasts {@link #MIN_SAMPLE_NANOS}. */
    private static double sample(Case c) {
        int calls = 0;
        long start = System.nanoTime();
        long elapsed;
        do {
            c.call().run();
            calls++;
            elapsed = System.nanoTime() - start;
        } while (elapsed < MIN_SAMPLE_NANOS);
        return c.work() * calls / (elapsed / 1e9);
    }

    private static void print(Backend backend, DeviceModel roofs, List<Case> cases, int rounds) {
        System.out.println("backend: " + backend.description() + ", " + Runtime.getRuntime().availableProcessors()
                + " cores; " + rounds + " interleaved rounds");
        System.out.println("roofs: " + roofs.source());
        System.out.printf(Locale.ROOT, "calibrated peak: %.1f GFLOP/s (project); bandwidth %.1f GB/s (dot scan)%n%n",
                roofs.peakFlopsPerSecond() / 1e9, roofs.bytesPerSecond() / 1e9);
        System.out.println("| op | shape | workload | best | median | best / roof | median / roof | median / project's "
                + "median |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        // project at the calibration's shape, timed in the same rounds: the ratio least moved by other load
        double projectMedian = median(cases.getFirst().rates().stream().mapToDouble(Double::doubleValue).sorted()
                .toArray());
        for (Case c : cases) {
            double[] rates = c.rates().stream().mapToDouble(Double::doubleValue).sorted().toArray();
            double best = rates[rates.length - 1];
            double median = median(rates);
            double roof = c.bytes() ? roofs.bytesPerSecond() : roofs.peakFlopsPerSecond();
            String unit = c.bytes() ? " GB/s" : " GFLOP/s";
            System.out.printf(Locale.ROOT, "| %s | %s | %s | %.1f%s | %.1f%s | %.2f%s | %.2f%s | %s |%n", c.op(),
                    c.shape(), c.workload(), best / 1e9, unit, median / 1e9, unit, best / roof,
                    c.bytes() ? " of bandwidth" : "", median / roof, c.bytes() ? " of bandwidth" : "",
                    c.bytes() ? "-" : String.format(Locale.ROOT, "%.2f", median / projectMedian));
        }
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static Tensor gaussian(Arena arena, SplittableRandom random, int rows, int cols) {
        Tensor t = f32(arena, rows, cols);
        double scale = 1 / Math.sqrt(cols);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t.set(r, c, (float) (random.nextGaussian() * scale));
            }
        }
        return t;
    }

    private static Tensor f32(Arena arena, int rows, int cols) {
        return Tensor.allocate(arena, ElementType.F32, rows, cols);
    }
}
