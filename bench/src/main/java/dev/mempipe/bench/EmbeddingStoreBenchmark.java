package dev.mempipe.bench;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.EmbeddingSearchResult;
import dev.langchain4j.store.embedding.EmbeddingStore;
import dev.mempipe.langchain4j.MempipeEmbeddingStore;
import dev.mempipe.spi.ElementType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 * One top-10 search over 100k x 384 clustered unit vectors ({@link ClusteredVectors}), LangChain4j's stock
 * {@code InMemoryEmbeddingStore} against {@link MempipeEmbeddingStore} exact F32, BF16 and I8, and read bandwidth
 * ({@link ReadBandwidth}): over a segment the size of the F32 vectors (153.6 MB, one stream per core, and the same
 * read as four streams per core) and over a STREAM-sized segment (4x the L3, 1 GiB at least: memory, not cache), all
 * in one JMH run.
 *
 * <p>Each search is a full {@code EmbeddingStore.search(request)}: query checks, the scan, top-k and the result
 * objects. Queries cycle through the data set's 1000. The setup computes recall@10 over all 1000 queries against the
 * exact top-10 (double brute force) and, for BF16 and I8, against the F32 store's answers; the stock store's recall
 * is checked on its first 50 queries (it takes about 60 ms a query). Figures: {@code bench/target/lc4j/}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 8, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Xmx6g"})
public class EmbeddingStoreBenchmark {
    private static final int STOCK_RECALL_QUERIES = 50;

    @State(Scope.Benchmark)
    public static class Stores {
        @Param({"stock", "mempipeF32", "mempipeBF16", "mempipeI8"})
        String store;

        EmbeddingStore<TextSegment> under;
        EmbeddingSearchRequest[] requests;
        int next;

        @Setup(Level.Trial)
        public void setUp() {
            ClusteredVectors data = ClusteredVectors.standard();
            int[][] truth = GroundTruth.topK(data, Lc4jStores.TOP_K, null, "all");
            requests = new EmbeddingSearchRequest[data.queries.length];
            for (int q = 0; q < requests.length; q++) {
                requests[q] = Lc4jStores.request(data, q, null);
            }
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("store", store);
            long start = System.nanoTime();
            under = switch (store) {
                case "stock" -> Lc4jStores.stock(data);
                case "mempipeF32" -> Lc4jStores.exact(data, ElementType.F32);
                case "mempipeBF16" -> Lc4jStores.exact(data, ElementType.BF16);
                case "mempipeI8" -> Lc4jStores.exact(data, ElementType.I8);
                default -> throw new IllegalArgumentException("store " + store);
            };
            figures.put("addAllSeconds", (System.nanoTime() - start) / 1e9);
            int checked = store.equals("stock") ? STOCK_RECALL_QUERIES : data.queries.length;
            List<int[]> answers = Lc4jStores.answers(under, data, checked, null);
            figures.put("recallQueries", checked);
            figures.put("recallAt10VsExact", GroundTruth.recall(truth, answers, Lc4jStores.TOP_K));
            if (store.equals("mempipeBF16") || store.equals("mempipeI8")) {
                try (MempipeEmbeddingStore f32 = Lc4jStores.exact(data, ElementType.F32)) {
                    List<int[]> reference = Lc4jStores.answers(f32, data, checked, null);
                    figures.put("recallAt10VsF32Store", GroundTruth.recall(reference.toArray(int[][]::new), answers,
                            Lc4jStores.TOP_K));
                }
            }
            BenchReport.write("EmbeddingStoreBenchmark-" + store, figures);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            if (under instanceof MempipeEmbeddingStore m) {
                m.close();
            }
        }
    }

    @State(Scope.Benchmark)
    public static class Bandwidth {
        Arena arena;
        MemorySegment vectors;
        ReadBandwidth bandwidth;

        @Setup(Level.Trial)
        public void setUp() {
            ClusteredVectors data = ClusteredVectors.standard();
            arena = Arena.ofShared();
            long rowBytes = (long) ClusteredVectors.DIMENSION * Float.BYTES;
            vectors = arena.allocate(data.rows.length * rowBytes, 64); // (100k, 384) f32: what an F32 search reads
            for (int r = 0; r < data.rows.length; r++) {
                MemorySegment.copy(data.rows[r], 0, vectors, ValueLayout.JAVA_FLOAT_UNALIGNED, r * rowBytes,
                        ClusteredVectors.DIMENSION);
            }
            bandwidth = new ReadBandwidth();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            bandwidth.close();
            arena.close();
        }
    }

    /**
     * A segment of at least four times the last-level cache and at least 1 GiB, the size rule of the STREAM
     * benchmark: a read of it comes from memory, not from cache, so its sum measures the machine's memory read
     * bandwidth. The 153.6 MB of the {@link Bandwidth} baseline fit in a large L3 (260 MiB on the development VM),
     * where they are read at cache speed. The size goes to {@code bench/target/lc4j} for {@code ratios.py}, which
     * compares read rates (bytes per second) since the sizes differ.
     */
    @State(Scope.Benchmark)
    public static class MemoryBandwidth {
        Arena arena;
        MemorySegment bytes;
        ReadBandwidth bandwidth;

        @Setup(Level.Trial)
        public void setUp() {
            long lastLevelCache = lastLevelCacheBytes();
            long size = Math.max(1L << 30, 4 * lastLevelCache) / 256 * 256;
            arena = Arena.ofShared();
            bytes = arena.allocate(size, 64);
            bytes.fill((byte) 0x3F); // every float 0x3F3F3F3F = 0.747: finite, so the sum stays a number
            bandwidth = new ReadBandwidth();
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("bytes", size);
            figures.put("lastLevelCacheBytes", lastLevelCache);
            BenchReport.write("EmbeddingStoreBenchmark-memoryBandwidth", figures);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            bandwidth.close();
            arena.close();
        }

        /** The L3 size Linux reports for CPU 0 ({@code 266240K}), or 0 when it cannot be read. */
        private static long lastLevelCacheBytes() {
            try {
                String text = Files.readString(Path.of("/sys/devices/system/cpu/cpu0/cache/index3/size")).trim();
                long unit = text.endsWith("K") ? 1024 : text.endsWith("M") ? 1024 * 1024 : 1;
                return Long.parseLong(text.replaceAll("[KM]$", "")) * unit;
            } catch (IOException | RuntimeException e) {
                return 0;
            }
        }
    }

    @Benchmark
    public EmbeddingSearchResult<TextSegment> search(Stores s) {
        EmbeddingSearchRequest request = s.requests[s.next];
        s.next = s.next + 1 == s.requests.length ? 0 : s.next + 1;
        return s.under.search(request);
    }

    /** Read-only SIMD sum over a segment the size of the F32 store's vectors, all cores (the project's baseline). */
    @Benchmark
    public float bandwidth(Bandwidth b) {
        return b.bandwidth.sum(b.vectors);
    }

    /** The same sum over the STREAM-sized segment: the machine's memory read bandwidth. */
    @Benchmark
    public float bandwidthFromMemory(MemoryBandwidth b) {
        return b.bandwidth.sum(b.bytes);
    }

    /**
     * The same sum read as four streams per core. The 153.6 MB set fits in this machine's 260 MiB L3, where several
     * streams per core read faster than one: the stricter bandwidth figure, reported beside the baseline.
     */
    @Benchmark
    public float bandwidthFourStreams(Bandwidth b) {
        return b.bandwidth.sumFourStreams(b.vectors);
    }
}
