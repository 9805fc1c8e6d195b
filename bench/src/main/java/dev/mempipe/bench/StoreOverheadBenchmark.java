package dev.mempipe.bench;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.EmbeddingSearchResult;
import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.EmbeddingRows;
import dev.mempipe.langchain4j.MempipeEmbeddingStore;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Backends;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
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
 * What the LangChain4j store adds over the raw ops it runs (issue 16, "per-query overhead"), on the same data in one
 * JMH run: 100k x 384 clustered unit vectors ({@link ClusteredVectors}), top 10, no filter, keys stored as
 * {@code storage} (F32, BF16, I8).
 *
 * <ul>
 *   <li>{@code storeSearch}: {@code MempipeEmbeddingStore.search(request)}, the whole LangChain4j call (query checks,
 *       normalization, the engine step, the result objects).</li>
 *   <li>{@code rawDotTopK}: the backend's fused {@code dotTopK} of the unit query against the same rows with their
 *       inverse norms as weights: exactly the op the store runs, called directly (no engine, no store).</li>
 *   <li>{@code rawDotThenTopK}: the raw ops of the wording, {@code dot} of the unit query into a score row
 *       {@code [1, n]}, then {@code topK} (the rows are unit vectors, so the dots are the cosines).</li>
 *   <li>{@code storeSearchAll} / {@code rawBatchedDotTopK}: a batch of {@code batch} queries through
 *       {@code searchAll} against one fused {@code dotTopK} of the same unit queries (the raw batched kernel).</li>
 * </ul>
 *
 * The raw ops read a copy of the store's rows made by core's {@link EmbeddingRows}, the store's own representation
 * (same conversion, same inverse norms, so the same bytes). Each fork prints the backend's description (its vector
 * width and threads) and writes it to {@code bench/target/lc4j/StoreOverheadBenchmark-backend.json};
 * {@code bench/ratios.py} prints the ratios. Queries cycle through the data set's 1000 (batches through the first
 * {@code 1000 / batch * batch}).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 6, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Xmx6g"})
public class StoreOverheadBenchmark {
    private static final int K = Lc4jStores.TOP_K;

    /** The store and a raw copy of its rows, keys stored as {@code storage}. */
    @State(Scope.Benchmark)
    public static class Data {
        @Param({"F32", "BF16", "I8"})
        String storage;

        MempipeEmbeddingStore store;
        Backend backend;
        Engine engine;
        EmbeddingRows rows;
        Tensor keys;          // (n, d) of storage: the raw ops' copy of the store's rows
        Tensor inverseNorms;  // (1, n)
        Arena arena;
        Tensor unitQueries;   // (1000, d) f32, each normalized as the store normalizes it
        Tensor scores;        // (1, n)
        Indices idx;
        Tensor val;
        List<EmbeddingSearchRequest> requests;
        int next;

        @Setup(Level.Trial)
        public void setUp() {
            ClusteredVectors data = ClusteredVectors.standard();
            ElementType type = ElementType.valueOf(storage);
            store = Lc4jStores.exact(data, type);
            backend = Backends.defaultBackend();
            engine = Engine.builder().maxRecords(16).build();
            rows = EmbeddingRows.growable(engine, type, ClusteredVectors.DIMENSION);
            rows.append(data.rows);
            int n = rows.rows();
            int d = ClusteredVectors.DIMENSION;
            keys = rows.vectors(0, n);
            inverseNorms = rows.inverseNorms(0, n);
            arena = Arena.ofShared();
            unitQueries = Tensor.allocate(arena, ElementType.F32, data.queries.length, d);
            for (int q = 0; q < data.queries.length; q++) {
                MemorySegment.copy(unit(data.queries[q]), 0, unitQueries.data(), ValueLayout.JAVA_FLOAT_UNALIGNED,
                        unitQueries.offset(q, 0), d);
            }
            scores = Tensor.allocate(arena, ElementType.F32, 1, n);
            idx = Indices.allocate(arena, 1000 * K);
            val = Tensor.allocate(arena, ElementType.F32, 1000, K);
            requests = new ArrayList<>(data.queries.length);
            for (int q = 0; q < data.queries.length; q++) {
                requests.add(Lc4jStores.request(data, q, null));
            }
            checkSameAnswers(n);
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("backend", backend.description());
            figures.put("storage", storage);
            figures.put("rows", n);
            figures.put("dimension", d);
            BenchReport.write("StoreOverheadBenchmark-backend", figures);
        }

        /**
         * The raw op must return the store's rows (first 50 queries), or the comparison would time different work.
         */
        private void checkSameAnswers(int n) {
            for (int q = 0; q < 50; q++) {
                int[] fromStore = Lc4jStores.rows(store.search(requests.get(q)));
                int found = backend.fused().dotTopK(unitQueries.rowSlice(q, q + 1), keys, inverseNorms, null, K, idx,
                        val.rowSlice(0, 1));
                for (int i = 0; i < found; i++) {
                    if (idx.get(i) != fromStore[i]) {
                        throw new IllegalStateException("query " + q + ": raw dotTopK rank " + i + " is row "
                                + idx.get(i) + ", the store's is row " + fromStore[i] + " (of " + n + ")");
                    }
                }
            }
        }

        int nextQuery() {
            int q = next;
            next = next + 1 == requests.size() ? 0 : next + 1;
            return q;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            store.close();
            rows.close();
            arena.close();
        }
    }

    /** Batches of {@code batch} requests and their unit queries. */
    @State(Scope.Benchmark)
    public static class Batch {
        @Param({"32", "256"})
        int batch;

        Indices idx;
        Tensor val;
        Arena arena;
        int next;

        @Setup(Level.Trial)
        public void setUp() {
            arena = Arena.ofShared();
            idx = Indices.allocate(arena, batch * K);
            val = Tensor.allocate(arena, ElementType.F32, batch, K);
        }

        int nextFirst() {
            int q0 = next;
            next = next + 2 * batch > 1000 ? 0 : next + batch;
            return q0;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }
    }

    @Benchmark
    public EmbeddingSearchResult<TextSegment> storeSearch(Data s) {
        return s.store.search(s.requests.get(s.nextQuery()));
    }

    @Benchmark
    public int rawDotTopK(Data s) {
        int q = s.nextQuery();
        return s.backend.fused().dotTopK(s.unitQueries.rowSlice(q, q + 1), s.keys, s.inverseNorms, null, K, s.idx,
                s.val.rowSlice(0, 1));
    }

    @Benchmark
    public int rawDotThenTopK(Data s) {
        int q = s.nextQuery();
        s.backend.relevancy().dot(s.unitQueries.rowSlice(q, q + 1), s.keys, s.scores);
        return s.backend.retrieval().topK(s.scores, K, s.idx, s.val.rowSlice(0, 1));
    }

    @Benchmark
    public List<EmbeddingSearchResult<TextSegment>> storeSearchAll(Data s, Batch b) {
        int q0 = b.nextFirst();
        return s.store.searchAll(s.requests.subList(q0, q0 + b.batch));
    }

    @Benchmark
    public int rawBatchedDotTopK(Data s, Batch b) {
        int q0 = b.nextFirst();
        return s.backend.fused().dotTopK(s.unitQueries.rowSlice(q0, q0 + b.batch), s.keys, s.inverseNorms, null, K,
                b.idx, b.val);
    }

    /** {@code x / ||x||} in double, as the store's search normalizes a query. */
    static float[] unit(float[] x) {
        double sum = 0;
        for (float v : x) {
            sum += (double) v * v;
        }
        double norm = Math.sqrt(sum);
        float[] u = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            u[i] = (float) (x[i] / norm);
        }
        return u;
    }
}
