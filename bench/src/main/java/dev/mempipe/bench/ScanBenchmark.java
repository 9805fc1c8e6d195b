package dev.mempipe.bench;

import dev.mempipe.ops.SimdBackend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Tensor;
import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
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
 * Relevancy scans and top-k against the machine's read bandwidth, all in one JMH run so the ratios in
 * docs/PERFORMANCE.md compare figures taken under the same conditions.
 *
 * <ul>
 *   <li>{@code bandwidthKeysF32}: read-only sum over a segment the size of the f32 keys (1M x 128, 512 MB);</li>
 *   <li>{@code dotF32/dotBF16/dotI8}: one f32 query against 1M keys of that type (keys/s ratios);</li>
 *   <li>{@code bandwidthPages} and {@code questBound}: 64K pages of d=128, min and max (64 MB);</li>
 *   <li>{@code topK2048}: k=2048 over 1M f32 scores, compared with {@code dotF32}.</li>
 * </ul>
 *
 * <p>Each fork prints one {@code [figures ScanBenchmark-<bits>bit]} line: the vector width the kernels run at
 * (the backend's description, the JDK's preferred float species, the {@code MaxVectorSize} flag if any) and how
 * many keys one {@code dot*} call scans, so keys/s is {@code keys / (ms/op) * 1000}; {@code bench/ratios.py}
 * prints the keys/s, the ratios and the width. To run the 256-bit (AVX2) kernels on an AVX-512 machine, add
 * {@code -jvmArgsPrepend -XX:MaxVectorSize=32} ({@code -jvmArgsAppend} would replace this class's fork arguments,
 * {@code --add-modules jdk.incubator.vector} among them).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g"})
public class ScanBenchmark {
    @Param("1048576")
    int keys;
    @Param("128")
    int dim;
    @Param("65536")
    int pages;

    private Arena arena;
    private SimdBackend backend;
    private ReadBandwidth bandwidth;
    private Tensor query;
    private Tensor keysF32;
    private Tensor keysBF16;
    private Tensor keysI8;
    private Tensor scores;
    private Tensor pageMin;
    private Tensor pageMax;
    private Tensor pageScores;
    private Indices topIdx;
    private Tensor topVal;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        backend = new SimdBackend();
        bandwidth = new ReadBandwidth();
        reportVectors();
        SplittableRandom random = new SplittableRandom(42);
        query = Tensor.allocate(arena, ElementType.F32, 1, dim);
        for (int c = 0; c < dim; c++) {
            query.set(0, c, (float) random.nextGaussian());
        }
        keysF32 = Tensor.allocate(arena, ElementType.F32, keys, dim);
        fillGaussian(keysF32, random);
        keysBF16 = Tensor.allocate(arena, ElementType.BF16, keys, dim);
        backend.prepare().convert(keysF32, keysBF16);
        keysI8 = Tensor.allocate(arena, ElementType.I8, keys, dim);
        backend.prepare().quantize(keysF32, keysI8);
        scores = Tensor.allocate(arena, ElementType.F32, 1, keys);
        backend.relevancy().dot(query, keysF32, scores);

        pageMin = Tensor.allocate(arena, ElementType.F32, pages, dim);
        pageMax = Tensor.allocate(arena, ElementType.F32, pages, dim);
        fillGaussian(pageMin, random);
        fillGaussian(pageMax, random);
        pageScores = Tensor.allocate(arena, ElementType.F32, 1, pages);
        topIdx = Indices.allocate(arena, 2048);
        topVal = Tensor.allocate(arena, ElementType.F32, 1, 2048);
    }

    /** The line that names the vector width of this fork's figures (see the class comment). */
    private void reportVectors() {
        int bits = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        String maxVectorSize = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("-XX:MaxVectorSize=")).reduce((a, b) -> b).orElse("default");
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("vectorBits", bits);
        figures.put("floatLanes", FloatVector.SPECIES_PREFERRED.length());
        figures.put("backend", backend.description());
        figures.put("maxVectorSize", maxVectorSize);
        figures.put("keys", keys);
        figures.put("dim", dim);
        figures.put("keysPerSecond", "keys / (dot* ms/op) * 1000");
        BenchReport.write("ScanBenchmark-" + bits + "bit", figures);
    }

    private static void fillGaussian(Tensor t, SplittableRandom random) {
        // Bulk fill through the segment: element-wise set() would take minutes for 512 MB.
        float[] row = new float[t.cols()];
        for (long r = 0; r < t.rows(); r++) {
            for (int c = 0; c < row.length; c++) {
                row[c] = (float) random.nextGaussian();
            }
            java.lang.foreign.MemorySegment.copy(row, 0, t.data(), java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED,
                    r * t.rowStride(), row.length);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        bandwidth.close();
        arena.close();
    }

    @Benchmark
    public float bandwidthKeysF32() {
        return bandwidth.sum(keysF32.data());
    }

    @Benchmark
    public Tensor dotF32() {
        backend.relevancy().dot(query, keysF32, scores);
        return scores;
    }

    @Benchmark
    public Tensor dotBF16() {
        backend.relevancy().dot(query, keysBF16, scores);
        return scores;
    }

    @Benchmark
    public Tensor dotI8() {
        backend.relevancy().dot(query, keysI8, scores);
        return scores;
    }

    @Benchmark
    public float bandwidthPages() {
        return bandwidth.sum(pageMin.data(), pageMax.data());
    }

    @Benchmark
    public Tensor questBound() {
        backend.relevancy().questBound(query, pageMin, pageMax, pageScores);
        return pageScores;
    }

    @Benchmark
    public Indices topK2048() {
        backend.retrieval().topK(scores, 2048, topIdx, topVal);
        return topIdx;
    }
}
