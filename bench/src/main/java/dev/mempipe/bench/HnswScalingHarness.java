package dev.mempipe.bench;

import dev.mempipe.core.memory.HnswSettings;
import dev.mempipe.langchain4j.MempipeEmbeddingStore;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * HNSW under concurrency (issue 16): how the approximate store's graph build and its searches scale with threads,
 * on the 100k x 384 clustered data of {@link HnswBenchmark} ({@link ClusteredVectors}), M = 16, construction beam 100.
 *
 * <ul>
 *   <li><b>Build</b>: {@code addAll} of every row into a store whose {@link HnswSettings#buildThreads()} is 1, then
 *       2 (the graph is built by the add), timed, alternating {@code rounds} times; the ratio is the median 1-thread
 *       time over the median 2-thread time.</li>
 *   <li><b>Search</b>: on the last store built, the search beam is tuned to the smallest giving recall@10 >= 0.95
 *       (as {@link HnswBenchmark}); then 1 and 2 threads search through the 1000 queries for {@code seconds} each,
 *       alternating, {@code rounds} times; QPS = searches / wall time, ratio of the medians.</li>
 * </ul>
 *
 * <p>Not JMH: the two variants are interleaved round after round in one process, so that the load of a shared machine
 * drifts over both alike (the ratio is the claim, not the absolute figures). Run: {@code java --add-modules
 * jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g -cp bench/target/mempipe-benchmarks.jar
 * dev.mempipe.bench.HnswScalingHarness [rounds] [seconds]} (defaults 2 and 5). Figures also go to
 * {@code bench/target/lc4j/HnswScaling.json}.
 */
public final class HnswScalingHarness {
    private HnswScalingHarness() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        ClusteredVectors data = ClusteredVectors.standard();
        int[][] truth = GroundTruth.topK(data, Lc4jStores.TOP_K, null, "all");
        System.out.printf(Locale.ROOT, "HnswScalingHarness: %d rows x %d, %d processors, %d rounds%n",
                data.rows.length, ClusteredVectors.DIMENSION, Runtime.getRuntime().availableProcessors(), rounds);
        Map<String, Object> figures = new LinkedHashMap<>();

        List<Double> build1 = new ArrayList<>();
        List<Double> build2 = new ArrayList<>();
        MempipeEmbeddingStore store = null;
        for (int round = 0; round < rounds; round++) {
            for (int threads : new int[] {1, 2}) {
                if (store != null) {
                    store.close();
                }
                long start = System.nanoTime();
                store = Lc4jStores.hnsw(data, new HnswSettings(HnswBenchmark.M, HnswBenchmark.CONSTRUCTION_BEAM,
                        HnswBenchmark.BEAMS[0], HnswBenchmark.SEED, threads));
                double s = (System.nanoTime() - start) / 1e9;
                (threads == 1 ? build1 : build2).add(s);
                System.out.printf(Locale.ROOT, "round %d: build on %d thread(s): %.1f s (load %.1f)%n", round, threads,
                        s, load());
            }
        }
        figures.put("build1ThreadSeconds", build1);
        figures.put("build2ThreadsSeconds", build2);
        figures.put("buildSpeedup", median(build1) / median(build2));

        HnswBenchmark.StoreIndex index = new HnswBenchmark.StoreIndex(data, store, 2);
        int beam = -1;
        double recall = 0;
        for (int b : HnswBenchmark.BEAMS) {
            index.beam(b);
            recall = recall(index, data, truth);
            if (recall >= HnswBenchmark.TARGET_RECALL) {
                beam = b;
                break;
            }
        }
        figures.put("searchBeam", beam);
        figures.put("recallAt10", recall);
        List<Double> qps1 = new ArrayList<>();
        List<Double> qps2 = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            for (int threads : new int[] {1, 2}) {
                double qps = qps(index, data.queries.length, threads, seconds);
                (threads == 1 ? qps1 : qps2).add(qps);
                System.out.printf(Locale.ROOT, "round %d: search on %d thread(s): %.0f QPS (load %.1f)%n", round,
                        threads, qps, load());
            }
        }
        store.close();
        figures.put("qps1Thread", qps1);
        figures.put("qps2Threads", qps2);
        figures.put("searchSpeedup", median(qps2) / median(qps1));
        System.out.printf(Locale.ROOT, "build: 1 thread %.1f s, 2 threads %.1f s: %.2fx (measured, medians)%n",
                median(build1), median(build2), median(build1) / median(build2));
        System.out.printf(Locale.ROOT, "search (beam %d, recall@10 %.4f): 1 thread %.0f QPS, 2 threads %.0f QPS: %.2fx"
                + " (measured, medians)%n", beam, recall, median(qps1), median(qps2), median(qps2) / median(qps1));
        BenchReport.write("HnswScaling", figures);
    }

    static double recall(HnswBenchmark.Index index, ClusteredVectors data, int[][] truth) {
        List<int[]> got = new ArrayList<>();
        for (int q = 0; q < data.queries.length; q++) {
            got.add(index.rows(index.search(q)));
        }
        return GroundTruth.recall(truth, got, Lc4jStores.TOP_K);
    }

    /** Searches per second of {@code threads} threads, each cycling through the queries from its own offset. */
    static double qps(HnswBenchmark.Index index, int queries, int threads, int seconds) throws InterruptedException {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong done = new AtomicLong();
        CountDownLatch finished = new CountDownLatch(threads);
        for (int t = 0; t < threads; t++) {
            int offset = t * queries / threads;
            Thread.ofPlatform().daemon().start(() -> {
                long n = 0;
                for (int q = offset; !stop.get(); q = q + 1 == queries ? 0 : q + 1) {
                    index.search(q);
                    n++;
                }
                done.addAndGet(n);
                finished.countDown();
            });
        }
        long start = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        stop.set(true);
        finished.await();
        return done.get() / ((System.nanoTime() - start) / 1e9);
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /** The one-minute load average (-1 where the OS does not say), printed beside each figure. */
    static double load() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }
}
