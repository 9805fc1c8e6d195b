package dev.mempipe.bench;

import dev.mempipe.ops.SimdScalarQuantizer;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.util.quantization.OptimizedScalarQuantizer;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * What a quantized HNSW walk pays once per search to quantize its query: Lucene's {@link OptimizedScalarQuantizer}
 * (the baseline, in the same run) against {@link SimdScalarQuantizer}, the same algorithm in vector lanes that
 * {@code QuantizedRows} uses, on unit vectors of {@code d} dimensions against a centroid, at the query bits of the
 * INT8 (8) and INT4 (4) walks. 64 different vectors in turn, each a fresh copy (both quantizers centre in place).
 * The ratio of the two average times is what docs/PERFORMANCE.md reports.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx1g"})
public class QueryQuantizerBenchmark {
    @Param({"384"})
    int d;

    @Param({"8", "4"})
    int bits;

    @Param({"lucene", "lanes"})
    String quantizer;

    private static final int VECTORS = 64;
    private float[][] vectors;
    private float[] centroid;
    private float[] copy;
    private byte[] codes;
    private int next;
    private boolean useLucene; // the parameter, read once: no string compare inside the timed call
    private final OptimizedScalarQuantizer lucene = new OptimizedScalarQuantizer(VectorSimilarityFunction.DOT_PRODUCT);
    private final SimdScalarQuantizer lanes = new SimdScalarQuantizer(0.1f, 5);

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom random = new SplittableRandom(11);
        vectors = new float[VECTORS][d];
        centroid = new float[d];
        for (float[] v : vectors) {
            double norm = 0;
            for (int i = 0; i < d; i++) {
                v[i] = (float) random.nextGaussian() + (i % 7) * 0.1f; // not centred: like embeddings
                norm += (double) v[i] * v[i];
            }
            for (int i = 0; i < d; i++) {
                v[i] /= (float) Math.sqrt(norm);
                centroid[i] += v[i] / VECTORS;
            }
        }
        copy = new float[d];
        codes = new byte[d];
        if (!quantizer.equals("lucene") && !quantizer.equals("lanes")) {
            throw new IllegalArgumentException("quantizer must be lucene or lanes, got " + quantizer);
        }
        useLucene = quantizer.equals("lucene");
    }

    @Benchmark
    public int quantize() {
        float[] v = vectors[next];
        next = (next + 1) % VECTORS;
        System.arraycopy(v, 0, copy, 0, d);
        return useLucene ? lucene.scalarQuantize(copy, codes, (byte) bits, centroid)
                .quantizedComponentSum() : lanes.quantize(copy, centroid, bits, codes).componentSum();
    }
}
