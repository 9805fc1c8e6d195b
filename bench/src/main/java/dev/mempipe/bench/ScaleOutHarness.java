package dev.mempipe.bench;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.IExecutorService;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.EmbeddingMemory;
import dev.mempipe.core.profile.EnergyMeter;
import dev.mempipe.core.memory.Hits;
import dev.mempipe.hazelcast.ClusterEmbeddingStore;
import dev.mempipe.hazelcast.ClusterHits;
import dev.mempipe.hazelcast.DistributedEmbeddingMemory;
import dev.mempipe.langchain4j.MempipeEmbeddingStore;
import dev.mempipe.spi.Backends;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;

import java.io.Serial;
import java.io.Serializable;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/**
 * Scale-out figures (issue 15): exact top-10 cosine search over 100k x 384 clustered vectors ({@link ClusteredVectors})
 * sharded over 1, 2 and 3 embedded Hazelcast members in this one JVM on this one machine, against one
 * {@link EmbeddingMemory} holding every row.
 *
 * <p>One machine cannot show scale-out: the members share its cores and memory bandwidth. What it can measure,
 * separately, are the parts a projection to N machines needs: the whole distributed search, the scan one member of N
 * does (n/N rows), the hop (a task with the query's payload to every member and an answer of k ids and scores back, no
 * work) and the merge of N lists. The operations are measured interleaved, round after round in one process, and each
 * figure is the median of its rounds: on a machine shared with other builds, load drifts over minutes, and
 * interleaving exposes every operation to the same drift, so the ratios hold where absolute times do not.
 *
 * <p>Run: {@code java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx6g -cp
 * bench/target/mempipe-benchmarks.jar dev.mempipe.bench.ScaleOutHarness [rounds]} (default 25 rounds; about three
 * minutes on the 2-core VM). Prints markdown tables: {@code measured} figures, then a {@code model} projection to N
 * machines with its assumptions.
 */
public final class ScaleOutHarness {
    private static final int K = 10;
    /** Assumed round trip between two machines of one data centre, added once per query in the model. */
    private static final double NETWORK_RTT_US = 100;
    private static final int MERGES_PER_SAMPLE = 1000;
    /** The single-node baseline's engine: as the store's default (bounded records, no energy readings). */
    private static final Engine ENGINE = Engine.builder().maxRecords(1024)
            .energyMeter(EnergyMeter.unavailable("not metered by the harness")).build();

    private ScaleOutHarness() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 25;
        if (rounds < 4) {
            throw new IllegalArgumentException("rounds must be >= 4, got " + rounds);
        }
        ClusteredVectors data = ClusteredVectors.standard();
        int n = data.rows.length;
        int d = ClusteredVectors.DIMENSION;
        System.out.printf(Locale.ROOT, "machine: %s, %d cores, %s; %d rows x %d, top %d; %d interleaved rounds%n",
                System.getProperty("os.arch"), Runtime.getRuntime().availableProcessors(),
                Backends.defaultBackend().name(), n, d, K, rounds);
        Map<Integer, Map<String, double[]>> byMembers = new LinkedHashMap<>();
        Map<Integer, double[]> throughput = new LinkedHashMap<>();
        try (Arena arena = Arena.ofShared()) {
            EmbeddingMemory single = new EmbeddingMemory(arena, ENGINE, d, n);
            float[] flat = new float[n * d];
            for (int r = 0; r < n; r++) {
                System.arraycopy(data.rows[r], 0, flat, r * d, d);
            }
            Tensor all = Tensor.of(arena, flat, n, d);
            single.append(all);
            Tensor[] queryTensors = new Tensor[data.queries.length];
            for (int q = 0; q < queryTensors.length; q++) {
                queryTensors[q] = Tensor.of(arena, data.queries[q], 1, d);
            }
            for (int members = 1; members <= 3; members++) {
                System.err.println("[scale-out] " + members + " member(s): starting, loading " + n + " rows");
                try (BenchCluster cluster = new BenchCluster(members)) {
                    HazelcastInstance caller = cluster.member(0);
                    DistributedEmbeddingMemory memory = DistributedEmbeddingMemory.builder(caller, "bench")
                            .dimension(d).build();
                    memory.append(data.rows);
                    EmbeddingMemory perMember = new EmbeddingMemory(arena, ENGINE, d, n / members);
                    perMember.append(all.rowSlice(0, n / members));
                    checkSameAnswers(memory, single, data, queryTensors);
                    IExecutorService executor = caller.getExecutorService("mempipe.query");
                    List<ClusterHits> lists = memberLists(members, n);
                    int[] next = {0};
                    IntSupplier query = () -> next[0] = (next[0] + 1) % data.queries.length;
                    Map<String, Runnable> ops = new LinkedHashMap<>();
                    ops.put("singleNode", () -> single.search(queryTensors[query.getAsInt()], K));
                    ops.put("distributed", () -> memory.search(data.queries[query.getAsInt()], K));
                    ops.put("memberScan", () -> perMember.search(queryTensors[query.getAsInt()], K));
                    ops.put("hop", () -> hop(executor, data.queries[query.getAsInt()]));
                    ops.put("merge", () -> {
                        for (int i = 0; i < MERGES_PER_SAMPLE; i++) {
                            ClusterHits.merge(lists, K);
                        }
                    });
                    byMembers.put(members, interleave(ops, rounds));
                    throughput.put(members, new double[] {
                            queriesPerSecond(2, 3_000, () -> memory.search(data.queries[query.getAsInt()], K)),
                            queriesPerSecond(2, 3_000, () -> single.search(queryTensors[query.getAsInt()], K))});
                    byMembers.get(members).put("merge", scale(byMembers.get(members).get("merge"),
                            1.0 / MERGES_PER_SAMPLE));
                    memory.destroy();
                }
            }
        }
        double[][] store = storeRatio(data, rounds);
        report(byMembers, throughput, store, n);
    }

    /** The cluster answers as one node does (ids; scores may differ in the last bits, see docs/scale-out.md). */
    private static void checkSameAnswers(DistributedEmbeddingMemory memory, EmbeddingMemory single,
                                         ClusteredVectors data, Tensor[] queryTensors) {
        for (int q = 0; q < 20; q++) {
            ClusterHits got = memory.search(data.queries[q], K);
            Hits want = single.search(queryTensors[q], K);
            long[] ids = new long[want.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = want.id(i);
            }
            if (!Arrays.equals(ids, got.ids())) {
                throw new IllegalStateException("query " + q + ": cluster " + got + ", one node " + want);
            }
        }
    }

    private static List<ClusterHits> memberLists(int members, int n) {
        SplittableRandom random = new SplittableRandom(ClusteredVectors.SEED);
        List<ClusterHits> lists = new ArrayList<>();
        for (int m = 0; m < members; m++) {
            long[] ids = new long[K];
            float[] scores = new float[K];
            float s = 1f;
            for (int i = 0; i < K; i++) {
                s -= (float) random.nextDouble(0.01);
                ids[i] = random.nextLong(n);
                scores[i] = s;
            }
            lists.add(new ClusterHits(ids, scores));
        }
        return lists;
    }

    private static void hop(IExecutorService executor, float[] query) {
        try {
            for (Future<long[]> f : executor.submitToAllMembers(new Echo(query)).values()) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Warms every op up (3 rounds), then runs {@code rounds} rounds, each op five times per round in a fixed
     * rotation; returns each op's per-round medians in microseconds.
     */
    private static Map<String, double[]> interleave(Map<String, Runnable> ops, int rounds) {
        Map<String, double[]> medians = new LinkedHashMap<>();
        ops.keySet().forEach(name -> medians.put(name, new double[rounds]));
        for (int round = -3; round < rounds; round++) {
            for (Map.Entry<String, Runnable> op : ops.entrySet()) {
                double[] samples = new double[5];
                for (int i = 0; i < samples.length; i++) {
                    long start = System.nanoTime();
                    op.getValue().run();
                    samples[i] = (System.nanoTime() - start) / 1e3;
                }
                if (round >= 0) {
                    Arrays.sort(samples);
                    medians.get(op.getKey())[round] = samples[2];
                }
            }
            if (round >= 0 && round % 5 == 4) {
                System.err.println("[scale-out]   round " + (round + 1) + "/" + rounds);
            }
        }
        return medians;
    }

    private static double queriesPerSecond(int threads, long millis, Runnable search) throws InterruptedException {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong done = new AtomicLong();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            workers.add(Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    search.run();
                    done.incrementAndGet();
                }
            }));
        }
        Thread.sleep(millis / 3); // warm
        long before = done.get();
        long start = System.nanoTime();
        Thread.sleep(millis);
        long count = done.get() - before;
        double seconds = (System.nanoTime() - start) / 1e9;
        stop.set(true);
        for (Thread w : workers) {
            w.join();
        }
        return count / seconds;
    }

    /** The LangChain4j store on one node and backed by one member, interleaved: {single, backed} per-round medians. */
    private static double[][] storeRatio(ClusteredVectors data, int rounds) {
        System.err.println("[scale-out] LangChain4j store, one node and backed by one member");
        try (BenchCluster cluster = new BenchCluster(1)) {
            MempipeEmbeddingStore single = Lc4jStores.exact(data, ElementType.F32);
            ClusterEmbeddingStore backing = ClusterEmbeddingStore.builder(cluster.member(0), "bench-store").build();
            MempipeEmbeddingStore backed = MempipeEmbeddingStore.builder().dimension(ClusteredVectors.DIMENSION)
                    .backedBy(backing).build();
            backed.addAll(data.ids(), data.embeddings(), data.segments());
            EmbeddingSearchRequest[] requests = new EmbeddingSearchRequest[data.queries.length];
            for (int q = 0; q < requests.length; q++) {
                requests[q] = Lc4jStores.request(data, q, null);
            }
            for (int q = 0; q < 20; q++) {
                if (!Arrays.equals(Lc4jStores.rows(single.search(requests[q])),
                        Lc4jStores.rows(backed.search(requests[q])))) {
                    throw new IllegalStateException("query " + q + ": the backed store answers differently");
                }
            }
            int[] next = {0};
            Map<String, Runnable> ops = new LinkedHashMap<>();
            ops.put("single", () -> single.search(requests[next[0]++ % requests.length]));
            ops.put("backed", () -> backed.search(requests[next[0]++ % requests.length]));
            Map<String, double[]> medians = interleave(ops, rounds);
            backing.destroy();
            backed.close();
            single.close();
            return new double[][] {medians.get("single"), medians.get("backed")};
        }
    }

    private static void report(Map<Integer, Map<String, double[]>> byMembers, Map<Integer, double[]> throughput,
                               double[][] store, int n) {
        System.out.println();
        System.out.println("measured (medians of interleaved rounds, microseconds; [p25, p75] of the rounds)");
        System.out.println();
        System.out.println("| members | distributed search | one node | ratio of medians | scan of n/members rows | hop to every"
                + " member | merge | distributed, 2 threads (q/s) | one node, 2 threads (q/s) |");
        System.out.println("|---|---|---|---|---|---|---|---|---|");
        double[] scanRows = new double[byMembers.size()];
        double[] scan = new double[byMembers.size()];
        double[] membersAxis = new double[byMembers.size()];
        double[] hop = new double[byMembers.size()];
        double[] merge = new double[byMembers.size()];
        int i = 0;
        for (Map.Entry<Integer, Map<String, double[]>> e : byMembers.entrySet()) {
            int m = e.getKey();
            Map<String, double[]> f = e.getValue();
            double dist = median(f.get("distributed"));
            double one = median(f.get("singleNode"));
            System.out.printf(Locale.ROOT, "| %d | %s | %s | %.2f | %s | %s | %.2f | %.1f | %.1f |%n", m,
                    spread(f.get("distributed")), spread(f.get("singleNode")), dist / one, spread(f.get("memberScan")),
                    spread(f.get("hop")), median(f.get("merge")), throughput.get(m)[0], throughput.get(m)[1]);
            membersAxis[i] = m;
            scanRows[i] = (double) n / m;
            scan[i] = median(f.get("memberScan"));
            hop[i] = median(f.get("hop"));
            merge[i] = median(f.get("merge"));
            i++;
        }
        // the targets: per round, the ratio of the two medians measured side by side; then the median of those
        double oneMember = median(pairedRatios(byMembers.get(1).get("distributed"), byMembers.get(1).get("singleNode")));
        double storeRatio = median(pairedRatios(store[1], store[0]));
        System.out.println();
        System.out.println("| figure (median of per-round ratios) | ratio | target | met |");
        System.out.println("|---|---|---|---|");
        System.out.printf(Locale.ROOT, "| distributed exact search on 1 member / one EmbeddingMemory | %.2f | <= 1.3 | %s |%n",
                oneMember, oneMember <= 1.3 ? "yes" : "NO");
        System.out.printf(Locale.ROOT, "| LangChain4j store backed by 1 member / the same store on one node | %.2f |"
                + " <= 1.3 | %s |%n", storeRatio, storeRatio <= 1.3 ? "yes" : "NO");

        // model: the scan costs the same per row on every machine (median of the measured per-row costs), the
        // fan-out is the measured hop plus what each further member added to it, the merge as measured
        double[] perRow = new double[scan.length];
        for (int j = 0; j < scan.length; j++) {
            perRow[j] = scan[j] / scanRows[j];
        }
        double scanPerRow = median(perRow);
        double hopOne = hop[0];
        double hopPerMember = Math.max(0, (hop[hop.length - 1] - hop[0]) / Math.max(1, hop.length - 1));
        double[] mergeFit = fit(membersAxis, merge);
        System.out.println();
        System.out.printf(Locale.ROOT, "model (a projection, not a measurement): scan = %.4f us per row (median of the"
                        + " measured per-row scan costs) x %d/N rows; fan-out = %.0f us + %.0f us per further member"
                        + " (the measured hop); + %.0f us network round trip (assumed) when N > 1; merge = %.3f + %.3f us"
                        + " x N. Assumes N machines like this one, members scanning in parallel with no straggler,"
                        + " the caller's network not saturated.%n",
                scanPerRow, n, hopOne, hopPerMember, NETWORK_RTT_US, mergeFit[0], mergeFit[1]);
        System.out.println();
        System.out.println("| machines N | rows per machine | latency (model, us) | vs one machine (model) |"
                + " queries/s (model) |");
        System.out.println("|---|---|---|---|---|");
        double base = 0;
        for (int machines : new int[] {1, 2, 4, 8, 16, 32}) {
            double scanN = scanPerRow * n / machines;
            double dispatch = hopOne + hopPerMember * (machines - 1);
            double mergeN = Math.max(0, mergeFit[0] + mergeFit[1] * machines);
            double latency = scanN + dispatch + mergeN + (machines > 1 ? NETWORK_RTT_US : 0);
            base = base == 0 ? latency : base;
            // every machine scans its share of every query; the caller's own work is the dispatch and the merge
            double qps = 1e6 / Math.max(scanN, dispatch + mergeN);
            System.out.printf(Locale.ROOT, "| %d | %,d | %.0f | %.2f | %,.0f |%n", machines, n / machines, latency,
                    latency / base, qps);
        }
    }

    /** {@code a[r] / b[r]} for each round r. */
    private static double[] pairedRatios(double[] a, double[] b) {
        double[] out = new double[a.length];
        for (int r = 0; r < a.length; r++) {
            out[r] = a[r] / b[r];
        }
        return out;
    }

    private static double[] fit(double[] x, double[] y) {
        double mx = Arrays.stream(x).average().orElse(0);
        double my = Arrays.stream(y).average().orElse(0);
        double sxx = 0;
        double sxy = 0;
        for (int i = 0; i < x.length; i++) {
            sxx += (x[i] - mx) * (x[i] - mx);
            sxy += (x[i] - mx) * (y[i] - my);
        }
        double b = sxx == 0 ? 0 : sxy / sxx;
        return new double[] {my - b * mx, b};
    }

    private static double[] scale(double[] v, double factor) {
        double[] out = v.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] *= factor;
        }
        return out;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static String spread(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return String.format(Locale.ROOT, "%.0f [%.0f, %.0f]", s[s.length / 2], s[s.length / 4], s[3 * s.length / 4]);
    }

    /** The query's payload out, k ids and k scores back, no work: the hop alone. */
    static final class Echo implements Callable<long[]>, Serializable {
        @Serial
        private static final long serialVersionUID = 1L;
        private final float[] query;

        Echo(float[] query) {
            this.query = query;
        }

        @Override
        public long[] call() {
            long[] answer = new long[K + K / 2]; // 10 longs and 10 floats
            answer[0] = query.length;
            return answer;
        }
    }
}
