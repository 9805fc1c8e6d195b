package dev.mempipe.bench;

import dev.mempipe.ops.SimdBackend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
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
 * Sparse against dense decode attention: 32 query heads, 8 KV heads, d=128, a 131072-row F32 cache
 * (512 MB of keys, 512 MB of values). Sparse reads 4096 rows, either as 256 pages of 16 tokens (what Quest
 * selects) or as 4096 scattered tokens (what DSA's indexer selects). The ideal speed-up is 131072/4096 = 32.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g"})
public class AttentionBenchmark {
    @Param("131072")
    int contextLength;
    @Param("32")
    int queryHeads;
    @Param("8")
    int kvHeads;
    @Param("128")
    int headDim;
    @Param("4096")
    int selected;
    @Param("16")
    int pageSize;

    private Arena arena;
    private SimdBackend backend;
    private Tensor q;
    private Tensor keys;
    private Tensor values;
    private Tensor out;
    private Indices questRows;
    private Indices scatteredRows;
    private float scale;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        backend = new SimdBackend();
        SplittableRandom random = new SplittableRandom(7);
        int width = kvHeads * headDim;
        q = random(arena, queryHeads, headDim, random);
        keys = random(arena, contextLength, width, random);
        values = random(arena, contextLength, width, random);
        out = Tensor.allocate(arena, ElementType.F32, queryHeads, headDim);
        scale = (float) (1 / Math.sqrt(headDim));

        int pagesWanted = selected / pageSize;
        int[] pages = random.ints(0, contextLength / pageSize).distinct().limit(pagesWanted).sorted().toArray();
        int[] quest = new int[pagesWanted * pageSize];
        for (int p = 0; p < pages.length; p++) {
            for (int t = 0; t < pageSize; t++) {
                quest[p * pageSize + t] = pages[p] * pageSize + t;
            }
        }
        questRows = Indices.of(arena, quest);
        int[] scattered = random.ints(0, contextLength).distinct().limit(selected).toArray();
        Arrays.sort(scattered);
        scatteredRows = Indices.of(arena, scattered);
    }

    private static Tensor random(Arena arena, int rows, int cols, SplittableRandom random) {
        Tensor t = Tensor.allocate(arena, ElementType.F32, rows, cols);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                row[c] = (float) random.nextGaussian();
            }
            MemorySegment.copy(row, 0, t.data(), ValueLayout.JAVA_FLOAT_UNALIGNED, (long) r * t.rowStride(), cols);
        }
        return t;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public Tensor dense() {
        backend.apply().attention(q, keys, values, kvHeads, null, scale, out);
        return out;
    }

    @Benchmark
    public Tensor sparseQuestPages() {
        backend.apply().attention(q, keys, values, kvHeads, questRows, scale, out);
        return out;
    }

    @Benchmark
    public Tensor sparseScattered() {
        backend.apply().attention(q, keys, values, kvHeads, scatteredRows, scale, out);
        return out;
    }
}
