package dev.mempipe.bench;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingSearchResult;
import dev.mempipe.core.memory.HnswSettings;
import dev.mempipe.langchain4j.MempipeEmbeddingStore;
import java.lang.management.ManagementFactory;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.reflect.Constructor;
import java.util.Arrays;
import java.util.Locale;

/**
 * The approximate store's HNSW graph build on one thread, timed round after round in one JVM: the figure of the
 * "no regression" check of issue 9 (its history: {@code docs/perf-history.md}, "The HNSW build regression of issue
 * 9"; the current figure: {@code docs/PERFORMANCE.md}, "Regression check ... session 6").
 *
 * <p>Each round builds a new store over the first {@code rows} rows of the clustered 384-d data
 * ({@link ClusteredVectors}, M = 16, construction beam 100, as {@link HnswBenchmark}) and runs one search: the
 * current store builds its graph in {@code addAll} (with {@code buildThreads} 1, on the calling thread), the store
 * of commit 4d6cfaa (before issue 9) in its first search, so the timed span (add + first search) holds the whole
 * build for both. Per round it prints wall seconds, the calling thread's CPU seconds (the build runs there: the
 * figure the machine's load disturbs least), the process's CPU seconds (JIT and GC threads too), the load average,
 * the bytes the calling thread allocated and the collections meanwhile (neither depends on the load), and the
 * recall@10 of {@code queries} queries against a brute-force top-10 (both builds must give graphs of the
 * same quality: a faster build of a worse graph is no answer).
 *
 * <p>The same source compiles against both jars (it finds the settings' constructor by reflection), so the old
 * commit can be measured with it too:
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx4g \
 *      -cp bench/target/mempipe-benchmarks.jar dev.mempipe.bench.HnswBuildHarness 20000 3
 * # the old jar: compile this file against it, then run it with the old jar on the class path
 * javac --add-modules jdk.incubator.vector -cp OLD.jar -d /tmp/old-harness \
 *       bench/src/main/java/dev/mempipe/bench/HnswBuildHarness.java
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx4g \
 *      -cp /tmp/old-harness:OLD.jar dev.mempipe.bench.HnswBuildHarness 20000 3
 * </pre>
 * Arguments: rows (default 20000, at most 100000), rounds (default 3), queries for the recall (default 50).
 * Output lines: {@code round R: wall W s, thread cpu T s, process cpu P s, load L, recall@10 X, allocated A MiB,
 * G GCs (M ms)}, then
 * {@code median: ...} over the rounds after the first (the first includes the JIT's warm-up).
 */
public final class HnswBuildHarness {
    private static final int SEARCH_BEAM = 64;
    private static final long DATA_SEED = ClusteredVectors.SEED;

    private HnswBuildHarness() {
    }

    public static void main(String[] args) throws ReflectiveOperationException {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int queries = args.length > 2 ? Integer.parseInt(args[2]) : 50;
        if (rows < 1 || rows > ClusteredVectors.ROWS) {
            throw new IllegalArgumentException("rows must be in [1, " + ClusteredVectors.ROWS + "], got " + rows);
        }
        if (rounds < 1) {
            throw new IllegalArgumentException("rounds must be >= 1, got " + rounds);
        }
        if (queries < 1 || queries > ClusteredVectors.QUERIES) {
            throw new IllegalArgumentException("queries must be in [1, " + ClusteredVectors.QUERIES + "], got "
                    + queries);
        }
        ClusteredVectors data = ClusteredVectors.generate(rows, queries, DATA_SEED);
        int[][] truth = bruteForceTop(data, queries);
        HnswSettings settings = oneThreadSettings();
        System.out.printf(Locale.ROOT, "HnswBuildHarness: %d rows x %d, one build thread, %d rounds, settings %s,"
                        + " java %s, %d processors%n", rows, ClusteredVectors.DIMENSION, rounds, settings,
                Runtime.version(), Runtime.getRuntime().availableProcessors());
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        double[] wall = new double[rounds];
        double[] threadCpu = new double[rounds];
        double[] processCpu = new double[rounds];
        for (int round = 0; round < rounds; round++) {
            long wall0 = System.nanoTime();
            long thread0 = threads.getCurrentThreadCpuTime();
            long process0 = os.getProcessCpuTime();
            long allocated0 = threads.getCurrentThreadAllocatedBytes();
            long[] gc0 = collections();
            double recall;
            double allocatedMiB;
            long gcCount;
            long gcMillis;
            try (MempipeEmbeddingStore store = Lc4jStores.hnsw(data, settings)) {
                int[] first = Lc4jStores.rows(store.search(Lc4jStores.request(data, 0, null))); // old: builds here
                wall[round] = (System.nanoTime() - wall0) / 1e9;
                threadCpu[round] = (threads.getCurrentThreadCpuTime() - thread0) / 1e9;
                processCpu[round] = (os.getProcessCpuTime() - process0) / 1e9;
                allocatedMiB = (threads.getCurrentThreadAllocatedBytes() - allocated0) / 1048576.0;
                long[] gc1 = collections();
                gcCount = gc1[0] - gc0[0];
                gcMillis = gc1[1] - gc0[1];
                recall = recall(store, data, truth, first);
            }
            System.out.printf(Locale.ROOT, "round %d: wall %.2f s, thread cpu %.2f s, process cpu %.2f s, load %.2f,"
                    + " recall@10 %.4f, allocated %.1f MiB, %d GCs (%d ms)%n", round, wall[round], threadCpu[round],
                    processCpu[round], os.getSystemLoadAverage(), recall, allocatedMiB, gcCount, gcMillis);
        }
        if (rounds > 1) {
            System.out.printf(Locale.ROOT,
                    "median of rounds 1-%d: wall %.2f s, thread cpu %.2f s, process cpu %.2f s%n", rounds - 1,
                    median(wall), median(threadCpu), median(processCpu));
        }
    }

    /** Collections so far and their total milliseconds, over every collector. */
    private static long[] collections() {
        long count = 0;
        long millis = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            count += Math.max(0, gc.getCollectionCount());
            millis += Math.max(0, gc.getCollectionTime());
        }
        return new long[] {count, millis};
    }

    /** M 16, construction beam 100, one build thread where the settings have that choice (not before issue 16). */
    private static HnswSettings oneThreadSettings() throws ReflectiveOperationException {
        for (Constructor<?> c : HnswSettings.class.getConstructors()) {
            Class<?>[] p = c.getParameterTypes();
            if (p.length == 5 && p[4] == int.class) {
                return (HnswSettings) c.newInstance(HnswBenchmark.M, HnswBenchmark.CONSTRUCTION_BEAM, SEARCH_BEAM,
                        HnswBenchmark.SEED, 1);
            }
        }
        // the store of 4d6cfaa builds on the searching thread: one thread by construction
        return HnswSettings.class.getConstructor(int.class, int.class, int.class, long.class)
                .newInstance(HnswBenchmark.M, HnswBenchmark.CONSTRUCTION_BEAM, SEARCH_BEAM, HnswBenchmark.SEED);
    }

    private static double recall(MempipeEmbeddingStore store, ClusteredVectors data, int[][] truth, int[] first) {
        int found = 0;
        int wanted = 0;
        for (int q = 0; q < truth.length; q++) {
            EmbeddingSearchResult<TextSegment> result = q == 0 ? null : store.search(Lc4jStores.request(data, q, null));
            int[] got = q == 0 ? first : Lc4jStores.rows(result);
            for (int row : truth[q]) {
                wanted++;
                for (int g : got) {
                    if (g == row) {
                        found++;
                        break;
                    }
                }
            }
        }
        return (double) found / wanted;
    }

    /** The exact top-10 rows of each query by dot product in double (the rows are unit vectors). */
    private static int[][] bruteForceTop(ClusteredVectors data, int queries) {
        int k = Math.min(Lc4jStores.TOP_K, data.rows.length);
        int[][] top = new int[queries][];
        for (int q = 0; q < queries; q++) {
            float[] query = data.queries[q];
            int[] best = new int[k];
            double[] bestScore = new double[k];
            Arrays.fill(bestScore, Double.NEGATIVE_INFINITY);
            for (int r = 0; r < data.rows.length; r++) {
                double s = 0;
                float[] row = data.rows[r];
                for (int i = 0; i < row.length; i++) {
                    s += (double) query[i] * row[i];
                }
                if (s > bestScore[k - 1]) {
                    int at = k - 1;
                    while (at > 0 && bestScore[at - 1] < s) {
                        bestScore[at] = bestScore[at - 1];
                        best[at] = best[at - 1];
                        at--;
                    }
                    bestScore[at] = s;
                    best[at] = r;
                }
            }
            top[q] = best;
        }
        return top;
    }

    private static double median(double[] perRound) {
        double[] warm = Arrays.copyOfRange(perRound, 1, perRound.length);
        Arrays.sort(warm);
        int n = warm.length;
        return n % 2 == 1 ? warm[n / 2] : (warm[n / 2 - 1] + warm[n / 2]) / 2;
    }
}
