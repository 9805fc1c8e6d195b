package dev.mempipe.bench;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.EmbeddingRows;
import dev.mempipe.core.memory.Hits;
import dev.mempipe.core.memory.HnswIndex;
import dev.mempipe.core.memory.HnswQuantization;
import dev.mempipe.core.memory.HnswSettings;
import dev.mempipe.goldentests.ForwardingBackend;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Step;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;

/**
 * Quantized HNSW against the F32 HNSW and against native hnswlib (issue 16), on the 100k x 384 clustered data of
 * {@link HnswBenchmark} ({@link ClusteredVectors}), M = 16, construction beam 100, top 10, one query thread.
 *
 * <p>Variants: core's {@link HnswIndex} (what the LangChain4j store and {@code EmbeddingMemory} search with) over F32
 * {@link EmbeddingRows}, walking its graph with the rows ({@link HnswQuantization#NONE}) or with Lucene's INT8, INT4 or
 * BINARY codes (candidates rescored exactly), searched directly ({@code HnswIndex.search} on the CPU backend: the
 * store adds its LangChain4j request and match objects on top, which {@link HnswBenchmark} measures); and hnswlib 0.6.2
 * (Debian's {@code libhnswlib-dev} headers, the C++ program {@code bench/hnswlib/hnswlib_bench.cpp} built with
 * {@code -O3 -march=native} by {@code bench/hnswlib/build.sh}), inner product, M = 16, ef_construction = 100, answering
 * {@code searchKnn} in its own process. The F32 graph is built once ({@code buildThreads} threads) and copied for each
 * quantized variant ({@link HnswIndex#withQuantization}), so the variants differ only in how they walk it. Each
 * variant gets the smallest search beam (ef for hnswlib) of {@link HnswBenchmark#BEAMS} whose recall@10 over the 1000
 * queries, against the exact top 10, is at least 0.95. Then, {@code rounds} times, each variant searches for
 * {@code seconds} on one thread, one after the other (hnswlib is told to measure over its stdin), so that load drift
 * on a shared machine hits all alike; QPS figures are medians over the rounds, ratios are of medians of one run.
 *
 * <p>Memory per vector: for mempipe, the F32 row and its inverse norm (the rows the owner keeps, and what the exact
 * rescoring reads) plus the index's own heap (Lucene's estimate of the graph's links and, when quantized, the codes
 * with their corrections); for hnswlib, its level-0 records (links, vector, label) plus the upper levels' links.
 *
 * <p>Run: {@code bench/hnswlib/build.sh}, then {@code java --add-modules jdk.incubator.vector
 * --enable-native-access=ALL-UNNAMED -Xmx8g -cp bench/target/mempipe-benchmarks.jar
 * dev.mempipe.bench.HnswComparisonHarness [rounds] [seconds] [buildThreads]} (defaults 3, 5, 2). Without the hnswlib
 * program it says so and measures the Java side. Figures also go to {@code bench/target/lc4j/HnswComparison.json}.
 *
 * <p>System properties: {@code -Dmempipe.bench.graphCache=true} saves both graphs on the first run
 * ({@code bench/target/hnsw-graph-<data>.bin} through {@link HnswGraphCache}, {@code hnswlib-index-<data>.bin} through
 * hnswlib's {@code saveIndex}) and loads them on later runs instead of building (the builds take minutes; delete the
 * files after a change to the build); {@code -Dmempipe.bench.jfr=DIR} records JFR CPU samples of each variant's
 * searches in round 0 into {@code DIR/HnswComparison-<variant>.jfr}; {@code -Dmempipe.bench.variants=NONE,INT8,INT4}
 * compares only those walks (NONE, the reference of the ratios, must be among them);
 * {@code -Dmempipe.bench.luceneScorer=true} adds, for INT8 and INT4, the same index walked with Lucene's scorer
 * ({@code INT8-lucene}, {@code INT4-lucene}: the walk before {@code codeDotRows}), in turn with the others;
 * {@code -Dmempipe.bench.warmupSeconds=N} (default 2) searches each walk for N seconds, not counted, before round 0.
 *
 * <p>Each variant's figure is reported twice: wall QPS, and searches per CPU second of the searching thread (its
 * {@code ThreadMXBean} CPU time; hnswlib's {@code CLOCK_THREAD_CPUTIME_ID}). The ratios are of the latter: on a shared
 * machine a variant's wall QPS is mostly the share of a core it happened to get.
 */
public final class HnswComparisonHarness {
    /** The walks compared: every one, or those named by {@code -Dmempipe.bench.variants=NONE,INT8,...}. */
    private static final HnswQuantization[] VARIANTS = System.getProperty("mempipe.bench.variants") == null
            ? HnswQuantization.values()
            : java.util.Arrays.stream(System.getProperty("mempipe.bench.variants").split(","))
                    .map(name -> HnswQuantization.valueOf(name.trim())).toArray(HnswQuantization[]::new);

    /**
     * {@code -Dmempipe.bench.luceneScorer=true}: each INT8 and INT4 variant is also walked with Lucene's scorer
     * ({@code INT8-lucene}, {@code INT4-lucene}), alternating with the {@code codeDotRows} walk in the same run.
     */
    private static final boolean LUCENE_SCORER_BASELINE = Boolean.getBoolean("mempipe.bench.luceneScorer");
    /** Seconds of searches per walk before round 0, not counted: {@code -Dmempipe.bench.warmupSeconds=N}. */
    private static final int WARMUP_SECONDS = Integer.getInteger("mempipe.bench.warmupSeconds", 2);

    private HnswComparisonHarness() {
    }

    /** {@code cpu} under a name of its own, declaring every op but {@code codeDotRows}. */
    private static Backend withoutCodeDots(Backend cpu) {
        EnumSet<Op> ops = EnumSet.complementOf(EnumSet.of(Op.CODE_DOT_ROWS));
        Capabilities caps = Capabilities.builder().ops(ops, EnumSet.allOf(ElementType.class)).build();
        return new ForwardingBackend(cpu.name() + "-without-codeDotRows", cpu) {
            @Override
            public Capabilities capabilities() {
                return caps;
            }
        };
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int buildThreads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        ClusteredVectors data = ClusteredVectors.standard();
        int[][] truth = GroundTruth.topK(data, Lc4jStores.TOP_K, null, "all");
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("processors", Runtime.getRuntime().availableProcessors());

        // hnswlib builds in its own process while the Java graph is built (build times are reported, not compared)
        Hnswlib native_ = Hnswlib.start(data, truth, buildThreads);
        Engine engine = Engine.builder().maxRecords(16).build();
        Backend cpu = engine.backendFor(Step.RELEVANCY);
        int d = ClusteredVectors.DIMENSION;
        EmbeddingRows rows = EmbeddingRows.growable(engine, ElementType.F32, d);
        rows.append(data.rows);
        long start = System.nanoTime();
        HnswIndex base = new HnswIndex(rows, new HnswSettings(HnswBenchmark.M, HnswBenchmark.CONSTRUCTION_BEAM,
                HnswBenchmark.BEAMS[0], HnswBenchmark.SEED, buildThreads));
        Path graphCache = Boolean.getBoolean("mempipe.bench.graphCache")
                ? BenchReport.directory().getParent().resolve("hnsw-graph-" + data.key() + ".bin") : null;
        if (graphCache != null && Files.exists(graphCache)) {
            HnswGraphCache.load(base, graphCache, HnswBenchmark.M, HnswBenchmark.CONSTRUCTION_BEAM);
            System.out.printf(Locale.ROOT, "graph loaded from %s in %.1f s (not built)%n", graphCache,
                    (System.nanoTime() - start) / 1e9);
        } else {
            base.extend(cpu);
            double buildSeconds = (System.nanoTime() - start) / 1e9;
            figures.put("graphBuildSeconds", buildSeconds);
            System.out.printf(Locale.ROOT, "graph built in %.1f s on %d threads (load %.1f)%n", buildSeconds,
                    buildThreads, HnswScalingHarness.load());
            if (graphCache != null) {
                HnswGraphCache.save(base, graphCache);
                System.out.println("graph saved to " + graphCache);
            }
        }

        List<IndexUnderTest> indexes = new ArrayList<>();
        List<String> labels = new ArrayList<>(); // a variant's name in the output: its walk, "-lucene" for the baseline
        for (HnswQuantization codes : VARIANTS) {
            long quantizeStart = System.nanoTime();
            IndexUnderTest index = new IndexUnderTest(codes == HnswQuantization.NONE ? base
                    : base.withQuantization(codes), data, cpu);
            double quantizeSeconds = (System.nanoTime() - quantizeStart) / 1e9;
            double recall = 0;
            for (int b : HnswBenchmark.BEAMS) {
                index.beam(b);
                recall = HnswScalingHarness.recall(index, data, truth);
                if (recall >= HnswBenchmark.TARGET_RECALL) {
                    break;
                }
            }
            double rowBytes = 4.0 * d + 4; // F32 row and its inverse norm
            double indexBytes = (double) index.index.ramBytesUsed() / data.rows.length;
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("quantizeSeconds", quantizeSeconds);
            f.put("searchBeam", index.beam);
            f.put("recallAt10", recall);
            f.put("rowBytesPerVector", rowBytes);
            f.put("indexBytesPerVector", indexBytes);
            figures.put(codes.name(), f);
            index.recall = recall;
            System.out.printf(Locale.ROOT, "%s: beam %d, recall@10 %.4f, %.0f + %.0f bytes per vector (rows + index),"
                    + " codes in %.1f s%n", codes, index.beam, recall, rowBytes, indexBytes, quantizeSeconds);
            indexes.add(index);
            labels.add(codes.name());
            if (LUCENE_SCORER_BASELINE && (codes == HnswQuantization.INT8 || codes == HnswQuantization.INT4)) {
                // the same index and codes walked with Lucene's scorer (main's walk before codeDotRows): the search
                // is given a CPU backend that does not declare codeDotRows, so QuantizedRows falls back to it
                IndexUnderTest lucene = new IndexUnderTest(index.index, data, withoutCodeDots(cpu));
                lucene.beam = index.beam; // the settings are the index's: the beam found above
                lucene.recall = HnswScalingHarness.recall(lucene, data, truth);
                System.out.printf(Locale.ROOT, "%s-lucene: beam %d, recall@10 %.4f (the scores are the same to the"
                        + " bit, so is the recall)%n", codes, lucene.beam, lucene.recall);
                indexes.add(lucene);
                labels.add(codes.name() + "-lucene");
            }
        }
        if (native_ != null) {
            System.out.println("hnswlib: " + native_.awaitReady());
            figures.put("hnswlib", native_.ready);
        }

        Map<String, List<Double>> qps = new LinkedHashMap<>();
        Map<String, List<Double>> cpuQps = new LinkedHashMap<>(); // searches per CPU second of the searching thread
        String jfrDirectory = System.getProperty("mempipe.bench.jfr"); // CPU samples of round 0's searches, or null
        // the recall tuning above runs a few thousand searches per walk, which left a walk's kernels in C2's
        // middle tiers in some runs (round 0 of the INT4 walk at half its later rounds): warm each walk first
        for (int v = 0; v < indexes.size(); v++) {
            oneThread(indexes.get(v), data.queries.length, WARMUP_SECONDS);
        }
        for (int round = 0; round < rounds; round++) {
            for (int v = 0; v < indexes.size(); v++) {
                Recording recording = round == 0 && jfrDirectory != null ? startRecording() : null;
                double[] value = oneThread(indexes.get(v), data.queries.length, seconds);
                if (recording != null) {
                    Path file = Path.of(jfrDirectory, "HnswComparison-" + labels.get(v) + ".jfr");
                    Files.createDirectories(file.getParent());
                    recording.stop();
                    recording.dump(file);
                    recording.close();
                    System.out.println("JFR of " + labels.get(v) + "'s searches: " + file);
                }
                qps.computeIfAbsent(labels.get(v), x -> new ArrayList<>()).add(value[0]);
                cpuQps.computeIfAbsent(labels.get(v), x -> new ArrayList<>()).add(value[1]);
                System.out.printf(Locale.ROOT, "round %d: %s %.0f QPS, %.0f per CPU second (load %.1f)%n", round,
                        labels.get(v), value[0], value[1], HnswScalingHarness.load());
            }
            if (native_ != null) {
                double[] value = native_.measure(seconds);
                qps.computeIfAbsent("hnswlib", x -> new ArrayList<>()).add(value[0]);
                cpuQps.computeIfAbsent("hnswlib", x -> new ArrayList<>()).add(value[1]);
                System.out.printf(Locale.ROOT, "round %d: hnswlib %.0f QPS, %.0f per CPU second (load %.1f)%n", round,
                        value[0], value[1], HnswScalingHarness.load());
            }
        }
        figures.put("qps", qps);
        figures.put("cpuQps", cpuQps);
        // ratios of searches per CPU second: on a shared machine the wall QPS of each variant depends on the share
        // of a core it got; the searching thread's CPU time does not (its cache and memory bandwidth still do)
        double f32 = HnswScalingHarness.median(cpuQps.get("NONE"));
        Double hnswlib = native_ == null ? null : HnswScalingHarness.median(cpuQps.get("hnswlib"));
        System.out.println("| variant | beam | recall@10 | QPS (wall, median) | searches per CPU s (median) | / F32 HNSW"
                + " | / hnswlib |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (int v = 0; v < indexes.size(); v++) {
            double m = HnswScalingHarness.median(cpuQps.get(labels.get(v)));
            System.out.printf(Locale.ROOT, "| %s | %d | %.4f | %.0f | %.0f | %.2f | %s |%n", labels.get(v),
                    indexes.get(v).beam, indexes.get(v).recall, HnswScalingHarness.median(qps.get(labels.get(v))),
                    m, m / f32, hnswlib == null ? "-" : String.format(Locale.ROOT, "%.2f", m / hnswlib));
        }
        if (native_ != null) {
            System.out.printf(Locale.ROOT, "| hnswlib | %s | | %.0f | %.0f | %.2f | 1.00 |%n", native_.ready,
                    HnswScalingHarness.median(qps.get("hnswlib")), hnswlib, hnswlib / f32);
            native_.close();
        }
        rows.close();
        BenchReport.write("HnswComparison", figures);
    }

    /**
     * One thread searching for {@code seconds}, cycling through the queries: {wall QPS, searches per CPU second of
     * that thread}.
     */
    private static double[] oneThread(HnswBenchmark.Index index, int queries, int seconds) throws InterruptedException {
        double[] result = new double[2];
        Thread searcher = Thread.ofPlatform().start(() -> {
            java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
            long cpu = threads.getCurrentThreadCpuTime();
            long start = System.nanoTime();
            long end = start + seconds * 1_000_000_000L;
            long n = 0;
            for (int q = 0; System.nanoTime() < end; q = q + 1 == queries ? 0 : q + 1) {
                index.search(q);
                n++;
            }
            result[0] = n / ((System.nanoTime() - start) / 1e9);
            result[1] = n / ((threads.getCurrentThreadCpuTime() - cpu) / 1e9);
        });
        searcher.join();
        return result;
    }

    /**
     * A JFR recording with the JDK's "profile" settings (CPU samples every 10 ms, allocation samples), started now:
     * after the JVM's start, since {@code -XX:StartFlightRecording} at launch is not usable with the engine.
     */
    private static Recording startRecording() throws IOException, java.text.ParseException {
        Recording recording = new Recording(Configuration.getConfiguration("profile"));
        recording.start();
        return recording;
    }

    /** One variant: an index searched directly on the CPU backend, its beam swapped as {@link HnswBenchmark} does. */
    static final class IndexUnderTest implements HnswBenchmark.Index {
        final HnswIndex index;
        private final ClusteredVectors data;
        private final Backend cpu;
        private final Field settings;
        int beam;
        double recall;

        IndexUnderTest(HnswIndex index, ClusteredVectors data, Backend cpu) throws NoSuchFieldException {
            this.index = index;
            this.data = data;
            this.cpu = cpu;
            this.settings = HnswIndex.class.getDeclaredField("settings");
            settings.setAccessible(true);
        }

        @Override
        public void beam(int beam) {
            this.beam = beam;
            HnswSettings s = index.settings();
            try { // the search beam does not change the graph or the codes: the index a builder with it would give
                settings.set(index, new HnswSettings(s.maxConn(), s.beamWidth(), beam, s.seed(), s.buildThreads(),
                        s.quantization()));
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public Object search(int q) {
            return index.search(cpu, data.queries[q], Lc4jStores.TOP_K);
        }

        @Override
        public int[] rows(Object answer) {
            return ((Hits) answer).ids();
        }

        @Override
        public void close() {
        }
    }

    /** The hnswlib program, started on the exported data, driven over its stdin. */
    static final class Hnswlib implements AutoCloseable {
        String ready; // the program's figures, once awaitReady returned
        private final Process process;
        private final BufferedReader out;
        private final OutputStream in;

        private Hnswlib(Process process, BufferedReader out) {
            this.process = process;
            this.out = out;
            this.in = process.getOutputStream();
        }

        /** Starts the program (it builds and tunes in the background); null, said why, when it is not built. */
        static Hnswlib start(ClusteredVectors data, int[][] truth, int buildThreads) throws IOException {
            Path program = BenchReport.directory().getParent().resolve("hnswlib_bench");
            if (!Files.isExecutable(program)) {
                System.out.println("hnswlib: " + program + " is not built (bench/hnswlib/build.sh, needs g++ and"
                        + " libhnswlib-dev); measuring the Java side only");
                return null;
            }
            Path file = export(data, truth);
            List<String> command = new ArrayList<>(List.of(program.toString(), file.toString(),
                    Integer.toString(buildThreads)));
            if (Boolean.getBoolean("mempipe.bench.graphCache")) { // hnswlib's own saveIndex / loadIndex
                command.add(file.resolveSibling("hnswlib-index-" + data.key() + ".bin").toString());
            }
            Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            return new Hnswlib(process, new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.US_ASCII)));
        }

        /** Waits for the program's "ready" line: its ef, recall, build time and memory. */
        String awaitReady() throws IOException {
            String line = out.readLine();
            if (line == null || !line.startsWith("ready ")) {
                process.destroy();
                throw new IOException("hnswlib_bench did not start: " + line);
            }
            ready = line.substring("ready ".length());
            return ready;
        }

        /** {wall QPS, searches per CPU second of its searching thread}. */
        double[] measure(int seconds) throws IOException {
            in.write(("measure " + seconds + "\n").getBytes(StandardCharsets.US_ASCII));
            in.flush();
            String line = out.readLine();
            String[] words = line == null ? new String[0] : line.split(" ");
            if (words.length != 4 || !words[0].equals("qps") || !words[2].equals("cpuqps")) {
                throw new IOException("hnswlib_bench answered " + line + " (rebuild it: bench/hnswlib/build.sh)");
            }
            return new double[] {Double.parseDouble(words[1]), Double.parseDouble(words[3])};
        }

        @Override
        public void close() throws IOException {
            in.write("quit\n".getBytes(StandardCharsets.US_ASCII));
            in.flush();
            try {
                process.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroy();
            }
        }

        /** Rows, queries and the exact top 10 in the program's format (little-endian), once per data set. */
        private static Path export(ClusteredVectors data, int[][] truth) throws IOException {
            Path file = BenchReport.directory().getParent().resolve("hnswlib-" + data.key() + ".bin");
            if (Files.exists(file)) {
                return file;
            }
            int n = data.rows.length;
            int q = data.queries.length;
            int d = ClusteredVectors.DIMENSION;
            int k = Lc4jStores.TOP_K;
            Path partial = file.resolveSibling(file.getFileName() + ".partial");
            try (FileChannel channel = FileChannel.open(partial, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                ByteBuffer header = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(n).putInt(q).putInt(d)
                        .putInt(k).flip();
                channel.write(header);
                ByteBuffer row = ByteBuffer.allocate(4 * d).order(ByteOrder.LITTLE_ENDIAN);
                for (float[][] block : new float[][][] {data.rows, data.queries}) {
                    for (float[] v : block) {
                        row.clear();
                        row.asFloatBuffer().put(v);
                        row.limit(4 * d);
                        channel.write(row);
                    }
                }
                ByteBuffer ids = ByteBuffer.allocate(4 * k).order(ByteOrder.LITTLE_ENDIAN);
                for (int[] t : truth) {
                    ids.clear();
                    ids.asIntBuffer().put(t, 0, k);
                    ids.limit(4 * k);
                    channel.write(ids);
                }
            }
            Files.move(partial, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return file;
        }
    }
}
