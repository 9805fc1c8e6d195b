package dev.mempipe.bench;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.IExecutorService;
import dev.mempipe.core.memory.EmbeddingMemory;
import dev.mempipe.hazelcast.ClusterHits;
import dev.mempipe.hazelcast.DistributedEmbeddingMemory;
import dev.mempipe.spi.Backends;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.io.Serial;
import java.io.Serializable;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Exact top-10 cosine search over 100k x 384 clustered vectors ({@link ClusteredVectors}) sharded over 1, 2 and 3
 * embedded Hazelcast members in this JVM ({@link BenchCluster}), against one {@link EmbeddingMemory} holding every row,
 * in the same fork. One machine cannot show scale-out: the members share its cores and memory bandwidth. What it
 * measures, separately, are the parts a projection to N machines needs:
 * <ul>
 *   <li>{@code distributed}: a whole {@link DistributedEmbeddingMemory#search} (versions read, query to every member,
 *       each member's scan of its rows, answers back, merge); {@code distributedThroughput} the same from two threads;</li>
 *   <li>{@code singleNode}: {@link EmbeddingMemory#search} over all rows, the baseline (target: distributed on one
 *       member within 1.3x);</li>
 *   <li>{@code memberScan}: the work one member of N does, {@code EmbeddingMemory.search} over n/N rows;</li>
 *   <li>{@code hop}: the network part alone, a task with the query's payload sent to every member and an answer of
 *       k ids and scores back, no work (loopback TCP here; the member that calls answers itself in-process);</li>
 *   <li>{@code merge}: {@link ClusterHits#merge} of N lists of 10.</li>
 * </ul>
 * {@code bench/ratios.py} turns the figures into the ratios and the N-machine model of docs/scale-out.md.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Xmx6g"})
public class ScaleOutBenchmark {
    static final int K = 10;

    @State(Scope.Benchmark)
    public static class Cluster {
        @Param({"1", "2", "3"})
        int members;

        BenchCluster cluster;
        DistributedEmbeddingMemory memory;
        EmbeddingMemory single;
        EmbeddingMemory perMember;
        Arena arena;
        float[][] queries;
        Tensor[] queryTensors;
        IExecutorService executor;
        List<ClusterHits> memberLists;
        int next;

        @Setup(Level.Trial)
        public void setUp() {
            ClusteredVectors data = ClusteredVectors.standard();
            int n = data.rows.length;
            int d = ClusteredVectors.DIMENSION;
            cluster = new BenchCluster(members);
            HazelcastInstance caller = cluster.member(0);
            memory = DistributedEmbeddingMemory.builder(caller, "bench").dimension(d).build();
            memory.append(data.rows);
            arena = Arena.ofShared();
            single = new EmbeddingMemory(arena, Backends.defaultBackend(), d, n);
            perMember = new EmbeddingMemory(arena, Backends.defaultBackend(), d, n / members);
            float[] flat = new float[n * d];
            for (int r = 0; r < n; r++) {
                System.arraycopy(data.rows[r], 0, flat, r * d, d);
            }
            Tensor all = Tensor.of(arena, flat, n, d);
            single.append(all);
            perMember.append(all.rowSlice(0, n / members));
            queries = data.queries;
            queryTensors = new Tensor[queries.length];
            for (int q = 0; q < queries.length; q++) {
                queryTensors[q] = Tensor.of(arena, queries[q], 1, d);
            }
            executor = caller.getExecutorService("mempipe.query");
            memberLists = new ArrayList<>();
            SplittableRandom random = new SplittableRandom(ClusteredVectors.SEED);
            for (int m = 0; m < members; m++) {
                long[] ids = new long[K];
                float[] scores = new float[K];
                float s = 1f;
                for (int i = 0; i < K; i++) {
                    s -= (float) random.nextDouble(0.01);
                    ids[i] = random.nextLong(n);
                    scores[i] = s;
                }
                memberLists.add(new ClusterHits(ids, scores));
            }
            // the cluster answers as one node does (up to the lane-sum order the JIT picks): checked, not assumed
            for (int q = 0; q < 20; q++) {
                ClusterHits got = memory.search(queries[q], K);
                long[] want = new long[K];
                var hits = single.search(queryTensors[q], K);
                for (int i = 0; i < K; i++) {
                    want[i] = hits.id(i);
                }
                if (!java.util.Arrays.equals(want, got.ids())) {
                    throw new IllegalStateException("query " + q + ": cluster " + got + " but one node "
                            + java.util.Arrays.toString(want));
                }
            }
        }

        int nextQuery() {
            int q = next;
            next = (q + 1) % queries.length;
            return q;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            memory.destroy();
            cluster.close();
            arena.close();
        }
    }

    @Benchmark
    public ClusterHits distributed(Cluster c) {
        return c.memory.search(c.queries[c.nextQuery()], K);
    }

    @Benchmark
    @Threads(2)
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public ClusterHits distributedThroughput(Cluster c) {
        return c.memory.search(c.queries[(int) (Thread.currentThread().threadId() + System.nanoTime()) & 511], K);
    }

    @Benchmark
    public Object singleNode(Cluster c) {
        return c.single.search(c.queryTensors[c.nextQuery()], K);
    }

    @Benchmark
    public Object memberScan(Cluster c) {
        return c.perMember.search(c.queryTensors[c.nextQuery()], K);
    }

    @Benchmark
    public int hop(Cluster c) throws ExecutionException, InterruptedException {
        int answered = 0;
        for (Future<long[]> f : c.executor.submitToAllMembers(new Echo(c.queries[c.nextQuery()])).values()) {
            answered += f.get().length;
        }
        return answered;
    }

    @Benchmark
    public ClusterHits merge(Cluster c) {
        return ClusterHits.merge(c.memberLists, K);
    }

    /** The query's payload out, an answer of k ids and k scores back, no work: the hop alone. */
    static final class Echo implements Callable<long[]>, Serializable {
        @Serial
        private static final long serialVersionUID = 1L;
        private final float[] query;

        Echo(float[] query) {
            this.query = query;
        }

        @Override
        public long[] call() {
            long[] answer = new long[K + K / 2]; // 10 longs + 10 floats
            answer[0] = query.length;
            return answer;
        }
    }
}
