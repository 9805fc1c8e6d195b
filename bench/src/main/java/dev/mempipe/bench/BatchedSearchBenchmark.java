package dev.mempipe.bench;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.EmbeddingSearchResult;
import dev.langchain4j.store.embedding.EmbeddingStore;
import dev.mempipe.langchain4j.MempipeEmbeddingStore;
import dev.mempipe.spi.ElementType;
import java.util.ArrayList;
import java.util.Arrays;
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
 * 32 top-10 queries over 100k x 384 clustered unit vectors: LangChain4j's stock {@code InMemoryEmbeddingStore}
 * answering them one by one, {@link MempipeEmbeddingStore#searchAll} answering them in one pass over the F32 rows, and
 * (for reference) the F32 store answering them one by one. One operation is the whole batch: aggregate QPS is
 * {@code batch / time}. Batches cycle through the data set's first 992 queries. The setup checks that
 * {@code searchAll} returns what {@code search} returns (recall@10 1.0 against it) and against the exact top-10.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 4)
@Measurement(iterations = 5, time = 6)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Xmx6g"})
public class BatchedSearchBenchmark {
    @Param({"stockOneByOne", "mempipeSearchAll", "mempipeOneByOne"})
    String impl;
    @Param("32")
    int batch;

    private EmbeddingStore<TextSegment> store;
    private List<List<EmbeddingSearchRequest>> batches;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        ClusteredVectors data = ClusteredVectors.standard();
        batches = new ArrayList<>();
        for (int q0 = 0; q0 + batch <= data.queries.length; q0 += batch) {
            List<EmbeddingSearchRequest> requests = new ArrayList<>(batch);
            for (int q = q0; q < q0 + batch; q++) {
                requests.add(Lc4jStores.request(data, q, null));
            }
            batches.add(List.copyOf(requests));
        }
        store = impl.startsWith("stock") ? Lc4jStores.stock(data) : Lc4jStores.exact(data, ElementType.F32);
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("impl", impl);
        figures.put("batch", batch);
        if (impl.equals("mempipeSearchAll")) {
            int[][] truth = GroundTruth.topK(data, Lc4jStores.TOP_K, null, "all");
            MempipeEmbeddingStore mempipe = (MempipeEmbeddingStore) store;
            List<int[]> batched = new ArrayList<>();
            List<int[]> single = new ArrayList<>();
            int sameOrder = 0;
            for (List<EmbeddingSearchRequest> requests : batches) {
                for (EmbeddingSearchResult<TextSegment> r : mempipe.searchAll(requests)) {
                    batched.add(Lc4jStores.rows(r));
                }
                for (EmbeddingSearchRequest request : requests) {
                    single.add(Lc4jStores.rows(mempipe.search(request)));
                    if (Arrays.equals(single.getLast(), batched.get(single.size() - 1))) {
                        sameOrder++;
                    }
                }
            }
            figures.put("queriesChecked", batched.size());
            figures.put("recallAt10VsSearch", GroundTruth.recall(single.toArray(int[][]::new), batched,
                    Lc4jStores.TOP_K));
            figures.put("identicalRankings", sameOrder);
            figures.put("recallAt10VsExact", GroundTruth.recall(truth, batched, Lc4jStores.TOP_K));
        }
        BenchReport.write("BatchedSearchBenchmark-" + impl, figures);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (store instanceof MempipeEmbeddingStore m) {
            m.close();
        }
    }

    @Benchmark
    public Object answerBatch() {
        List<EmbeddingSearchRequest> requests = batches.get(next);
        next = next + 1 == batches.size() ? 0 : next + 1;
        if (impl.equals("mempipeSearchAll")) {
            return ((MempipeEmbeddingStore) store).searchAll(requests);
        }
        List<EmbeddingSearchResult<TextSegment>> results = new ArrayList<>(requests.size());
        for (EmbeddingSearchRequest request : requests) {
            results.add(store.search(request));
        }
        return results;
    }
}
