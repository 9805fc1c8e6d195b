package dev.mempipe.bench;

import dev.mempipe.ops.SimdBackend;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.MlpLoss;
import dev.mempipe.spi.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The parametric-memory ops (TrainOps) on the SIMD backend against {@code project}, the product they are built
 * from, in the same run: a chunk of {@code N = 256} rows of {@code d = 256} through an MLP of {@code h = 512}.
 * FLOPs per call (the ops' descriptor counts): project {@code X[N,d] W[h,d]^T} {@code 2 N d h} = 67.1 M;
 * mlpForward {@code 6 N d h + 5 N h} = 202 M; mlpGradient {@code 14 N d h} = 470 M; newtonSchulz of a
 * {@code [h, d]} gradient, 5 steps of {@code 4 m^2 k + 2 m^3} with {@code m = 256, k = 512} = 839 M. Divide by
 * the average time for FLOP/s; the ratio to {@code project}'s is what docs/PERFORMANCE.md reports.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx4g"})
public class TrainOpsBenchmark {
    @Param({"project", "mlpForward", "mlpGradient", "newtonSchulz"})
    String op;

    static final int N = 256;
    static final int D = 256;
    static final int H = 512;

    private Arena arena;
    private Runnable call;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        Backend backend = new SimdBackend();
        SplittableRandom random = new SplittableRandom(5);
        Tensor x = gaussian(N, D, random);
        Tensor t = gaussian(N, D, random);
        Tensor w1 = gaussian(H, D, random);
        Tensor w3 = gaussian(H, D, random);
        Tensor w2 = gaussian(D, H, random);
        call = switch (op) {
            case "project" -> {
                Tensor y = out(N, H);
                yield () -> backend.prepare().project(x, w1, y);
            }
            case "mlpForward" -> {
                Tensor y = out(N, D);
                yield () -> backend.train().mlpForward(x, w1, w3, w2, y);
            }
            case "mlpGradient" -> {
                Tensor g1 = out(H, D);
                Tensor g3 = out(H, D);
                Tensor g2 = out(D, H);
                yield () -> backend.train().mlpGradient(x, t, w1, w3, w2, MlpLoss.SQUARED, g1, g3, g2);
            }
            case "newtonSchulz" -> {
                Tensor o = out(H, D);
                yield () -> backend.train().newtonSchulz(w1, 5, o);
            }
            default -> throw new IllegalArgumentException("unknown op " + op);
        };
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public void run() {
        call.run();
    }

    private Tensor gaussian(int rows, int cols, SplittableRandom random) {
        Tensor t = out(rows, cols);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t.set(r, c, (float) (random.nextGaussian() / Math.sqrt(cols)));
            }
        }
        return t;
    }

    private Tensor out(int rows, int cols) {
        return Tensor.allocate(arena, ElementType.F32, rows, cols);
    }
}
