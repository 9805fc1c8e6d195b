package dev.mempipe.bench;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.EmbeddingSearchResult;
import dev.mempipe.hazelcast.ClusterEmbeddingStore;
import dev.mempipe.langchain4j.MempipeEmbeddingStore;
import dev.mempipe.spi.ElementType;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The LangChain4j store's top-10 search over 100k x 384 clustered vectors on one node ({@code single}) and backed by a
 * one-member cluster ({@code cluster}: the same store class with {@code backedBy}), in one fork: the engine's overhead
 * on the store (target: within 1.3x). One member, so the figure holds no scale-out, only overhead.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Xmx6g"})
public class ClusterStoreBenchmark {

    @State(Scope.Benchmark)
    public static class Stores {
        BenchCluster cluster;
        ClusterEmbeddingStore backing;
        MempipeEmbeddingStore single;
        MempipeEmbeddingStore backed;
        EmbeddingSearchRequest[] requests;
        int next;

        @Setup(Level.Trial)
        public void setUp() {
            ClusteredVectors data = ClusteredVectors.standard();
            single = Lc4jStores.exact(data, ElementType.F32);
            cluster = new BenchCluster(1);
            backing = ClusterEmbeddingStore.builder(cluster.member(0), "bench-store").build();
            backed = MempipeEmbeddingStore.builder().dimension(ClusteredVectors.DIMENSION).backedBy(backing).build();
            backed.addAll(data.ids(), data.embeddings(), data.segments());
            requests = new EmbeddingSearchRequest[data.queries.length];
            for (int q = 0; q < requests.length; q++) {
                requests[q] = Lc4jStores.request(data, q, null);
            }
            for (int q = 0; q < 20; q++) { // same answers, checked
                if (!java.util.Arrays.equals(Lc4jStores.rows(single.search(requests[q])),
                        Lc4jStores.rows(backed.search(requests[q])))) {
                    throw new IllegalStateException("query " + q + ": the backed store answers differently");
                }
            }
        }

        EmbeddingSearchRequest nextRequest() {
            EmbeddingSearchRequest r = requests[next];
            next = (next + 1) % requests.length;
            return r;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            backing.destroy();
            backed.close();
            single.close();
            cluster.close();
        }
    }

    @Benchmark
    public EmbeddingSearchResult<TextSegment> single(Stores s) {
        return s.single.search(s.nextRequest());
    }

    @Benchmark
    public EmbeddingSearchResult<TextSegment> cluster(Stores s) {
        return s.backed.search(s.nextRequest());
    }
}
