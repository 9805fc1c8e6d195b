package dev.mempipe.bench;

import dev.mempipe.goldentests.ScalarBackend;
import dev.mempipe.ops.SimdBackend;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.PoolMode;
import dev.mempipe.spi.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 * Every op on the SIMD backend against the same op on the kit's scalar oracle (plain loops, double
 * accumulation, one decoded element at a time), on the same inputs in the same run: the "SIMD vs scalar"
 * column of docs/PERFORMANCE.md. Sizes are moderate (16K rows of d=128) so both fit in cache-to-memory
 * territory and the scalar side finishes in reasonable time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx4g"})
public class OpsVsScalarBenchmark {
    @Param({"simd", "scalar"})
    String impl;

    @Param({"pageMinMax", "pagePool", "project", "quantize", "convertBF16", "l2Normalize", "rope", "bm25Index",
            "dot", "dotI8xI8", "cosine", "questBound", "groupMax", "indexerScore", "softmax", "bm25Score",
            "topK", "threshold", "expandBlocks", "gather", "attention", "softRetrieve"})
    String op;

    private static final int N = 16384;
    private static final int D = 128;

    private Arena arena;
    private Backend backend;
    private Runnable call;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        backend = impl.equals("simd") ? new SimdBackend() : new ScalarBackend();
        SplittableRandom random = new SplittableRandom(3);
        Tensor keys = gaussian(N, D, random);
        Tensor q = gaussian(1, D, random);
        Tensor scores = gaussian(1, N, random);
        int pages = N / 16;
        call = switch (op) {
            case "pageMinMax" -> {
                Tensor min = out(pages, D);
                Tensor max = out(pages, D);
                yield () -> backend.prepare().pageMinMax(keys, 16, min, max);
            }
            case "pagePool" -> {
                Tensor y = out(pages, D);
                yield () -> backend.prepare().pagePool(keys, 16, PoolMode.MEAN, y);
            }
            case "project" -> {
                Tensor x = gaussian(64, 256, random);
                Tensor w = gaussian(256, 256, random);
                Tensor y = out(64, 256);
                yield () -> backend.prepare().project(x, w, y);
            }
            case "quantize" -> {
                Tensor y = Tensor.allocate(arena, ElementType.I8, N, D);
                yield () -> backend.prepare().quantize(keys, y);
            }
            case "convertBF16" -> {
                Tensor y = Tensor.allocate(arena, ElementType.BF16, N, D);
                yield () -> backend.prepare().convert(keys, y);
            }
            case "l2Normalize" -> {
                Tensor y = out(N, D);
                yield () -> backend.prepare().l2Normalize(keys, y);
            }
            case "rope" -> {
                Tensor y = out(N, D);
                int[] pos = new int[N];
                for (int i = 0; i < N; i++) {
                    pos[i] = i;
                }
                Indices positions = Indices.of(arena, pos);
                yield () -> backend.prepare().rope(keys, positions, 10000f, y);
            }
            case "bm25Index", "bm25Score" -> {
                int docs = 4096;
                int[] offsets = new int[docs + 1];
                int[] tokens = new int[docs * 64];
                for (int d = 0; d < docs; d++) {
                    offsets[d + 1] = (d + 1) * 64;
                    for (int t = 0; t < 64; t++) {
                        tokens[d * 64 + t] = (int) Math.min(20000, Math.abs(random.nextGaussian()) * 3000);
                    }
                }
                Indices off = Indices.of(arena, offsets);
                Indices tok = Indices.of(arena, tokens);
                if (op.equals("bm25Index")) {
                    yield () -> backend.prepare().bm25Index(off, tok);
                }
                Bm25Index index = backend.prepare().bm25Index(off, tok);
                Indices query = Indices.of(arena, 1, 5, 17, 300, 4000);
                Tensor s = out(1, docs);
                yield () -> backend.relevancy().bm25Score(query, index, Bm25Params.DEFAULT, s);
            }
            case "dot" -> {
                Tensor s = out(1, N);
                yield () -> backend.relevancy().dot(q, keys, s);
            }
            case "dotI8xI8" -> {
                Tensor k8 = Tensor.allocate(arena, ElementType.I8, N, D);
                new SimdBackend().prepare().quantize(keys, k8);
                Tensor q8 = Tensor.allocate(arena, ElementType.I8, 1, D);
                new SimdBackend().prepare().quantize(q, q8);
                Tensor s = out(1, N);
                yield () -> backend.relevancy().dot(q8, k8, s);
            }
            case "cosine" -> {
                Tensor s = out(1, N);
                yield () -> backend.relevancy().cosine(q, keys, s);
            }
            case "questBound" -> {
                Tensor min = gaussian(pages, D, random);
                Tensor max = gaussian(pages, D, random);
                Tensor s = out(1, pages);
                yield () -> backend.relevancy().questBound(q, min, max, s);
            }
            case "groupMax" -> {
                Tensor y = out(1, pages);
                yield () -> backend.relevancy().groupMax(scores, 16, y);
            }
            case "indexerScore" -> {
                Tensor qi = gaussian(64, 128, random);
                Tensor w = gaussian(1, 64, random);
                Tensor k = gaussian(4096, 128, random);
                Tensor s = out(1, 4096);
                yield () -> backend.relevancy().indexerScore(qi, w, k, null, s);
            }
            case "softmax" -> {
                Tensor p = out(1, N);
                yield () -> backend.relevancy().softmax(scores, 0.125f, p);
            }
            case "topK" -> {
                Indices idx = Indices.allocate(arena, 64);
                Tensor val = out(1, 64);
                yield () -> backend.retrieval().topK(scores, 64, idx, val);
            }
            case "threshold" -> {
                Bitmap bits = Bitmap.allocate(arena, N);
                yield () -> backend.retrieval().threshold(scores, 0.5f, bits);
            }
            case "expandBlocks" -> {
                Indices blocks = Indices.of(arena, random.ints(0, pages).distinct().limit(256).toArray());
                Indices tokens = Indices.allocate(arena, N);
                yield () -> backend.retrieval().expandBlocks(blocks, 16, N, 64, 256, tokens);
            }
            case "gather" -> {
                Indices idx = Indices.of(arena, random.ints(0, N).limit(2048).toArray());
                Tensor y = out(2048, D);
                yield () -> backend.retrieval().gather(keys, idx, y);
            }
            case "attention" -> {
                Tensor qa = gaussian(8, D, random);
                Tensor k = gaussian(4096, 2 * D, random);
                Tensor v = gaussian(4096, 2 * D, random);
                Tensor o = out(8, D);
                yield () -> backend.apply().attention(qa, k, v, 2, null, 0.088f, o);
            }
            case "softRetrieve" -> {
                Tensor o = out(1, D);
                yield () -> backend.apply().softRetrieve(scores, keys, o);
            }
            default -> throw new IllegalArgumentException("unknown op " + op);
        };
    }

    private Tensor out(int rows, int cols) {
        return Tensor.allocate(arena, ElementType.F32, rows, cols);
    }

    private Tensor gaussian(int rows, int cols, SplittableRandom random) {
        Tensor t = out(rows, cols);
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
    public void run() {
        call.run();
    }
}
