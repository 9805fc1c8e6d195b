package dev.mempipe.bench;

import dev.mempipe.core.memory.HnswQuantization;
import dev.mempipe.core.memory.HnswSettings;
import dev.mempipe.langchain4j.MempipeEmbeddingStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Quantized HNSW against the F32 HNSW store and against native hnswlib (issue 16), on the 100k x 384 clustered data of
 * {@link HnswBenchmark} ({@link ClusteredVectors}), M = 16, construction beam 100, top 10, one query thread.
 *
 * <p>Variants: the approximate {@link MempipeEmbeddingStore} (F32 rows) walking its graph with the rows
 * ({@link HnswQuantization#NONE}) or with Lucene's INT8, INT4 or BINARY codes (candidates rescored exactly), each
 * searched through {@code EmbeddingStore.search}; and hnswlib 0.6.2 (Debian's {@code libhnswlib-dev} headers, the C++
 * program {@code bench/hnswlib/hnswlib_bench.cpp} built with {@code -O3 -march=native} by {@code bench/hnswlib/build.sh}),
 * inner product, M = 16, ef_construction = 100, answering {@code searchKnn} in its own process. Each variant gets the
 * smallest search beam (ef for hnswlib) of {@link HnswBenchmark#BEAMS} whose recall@10 over the 1000 queries, against
 * the exact top 10, is at least 0.95. Then, {@code rounds} times, each variant searches for {@code seconds} on one
 * thread, one after the other (hnswlib is told to measure over its stdin), so that load drift on a shared machine hits
 * all alike; QPS figures are medians over the rounds, and the ratios are of medians from the same run.
 *
 * <p>Memory per vector: for the store, the rows it keeps (F32 and an inverse norm) plus the index's own heap (Lucene's
 * estimate of the graph's links and, when quantized, the codes with their corrections); for hnswlib, its level-0
 * records (links, vector, label) plus the upper levels' links.
 *
 * <p>Run: {@code bench/hnswlib/build.sh}, then {@code java --add-modules jdk.incubator.vector
 * --enable-native-access=ALL-UNNAMED -Xmx8g -cp bench/target/mempipe-benchmarks.jar
 * dev.mempipe.bench.HnswComparisonHarness [rounds] [seconds] [buildThreads]} (defaults 3, 5, 2). Without the hnswlib
 * program it says so and measures the Java side. Figures also go to {@code bench/target/lc4j/HnswComparison.json}.
 */
public final class HnswComparisonHarness {
    private static final HnswQuantization[] VARIANTS = HnswQuantization.values();

    private HnswComparisonHarness() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int buildThreads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        ClusteredVectors data = ClusteredVectors.standard();
        int[][] truth = GroundTruth.topK(data, Lc4jStores.TOP_K, null, "all");
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("processors", Runtime.getRuntime().availableProcessors());

        // hnswlib first, alone: its build and tuning do not overlap the Java builds
        Hnswlib native_ = Hnswlib.start(data, truth, buildThreads);
        if (native_ != null) {
            System.out.println("hnswlib: " + native_.ready);
            figures.put("hnswlib", native_.ready);
        }

        List<HnswBenchmark.StoreIndex> indexes = new ArrayList<>();
        List<Integer> beams = new ArrayList<>();
        for (HnswQuantization codes : VARIANTS) {
            long start = System.nanoTime();
            MempipeEmbeddingStore store = Lc4jStores.hnsw(data, new HnswSettings(HnswBenchmark.M,
                    HnswBenchmark.CONSTRUCTION_BEAM, HnswBenchmark.BEAMS[0], HnswBenchmark.SEED, buildThreads, codes));
            double buildSeconds = (System.nanoTime() - start) / 1e9;
            HnswBenchmark.StoreIndex index = new QuantizedStoreIndex(data, store, buildThreads, codes);
            int beam = -1;
            double recall = 0;
            for (int b : HnswBenchmark.BEAMS) {
                index.beam(b);
                recall = HnswScalingHarness.recall(index, data, truth);
                if (recall >= HnswBenchmark.TARGET_RECALL) {
                    beam = b;
                    break;
                }
            }
            double rowBytes = 4.0 * ClusteredVectors.DIMENSION + 4; // F32 row and its inverse norm
            double indexBytes = (double) index.graph().ramBytesUsed() / data.rows.length;
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("buildSeconds", buildSeconds);
            f.put("searchBeam", beam);
            f.put("recallAt10", recall);
            f.put("rowBytesPerVector", rowBytes);
            f.put("indexBytesPerVector", indexBytes);
            figures.put(codes.name(), f);
            System.out.printf(Locale.ROOT, "%s: built in %.1f s (%d threads), beam %d, recall@10 %.4f, %.0f + %.0f bytes"
                    + " per vector (rows + index)%n", codes, buildSeconds, buildThreads, beam, recall, rowBytes,
                    indexBytes);
            if (beam < 0) {
                System.out.printf("%s never reached recall@10 %.2f; measured at the widest beam%n", codes,
                        HnswBenchmark.TARGET_RECALL);
            }
            indexes.add(index);
            beams.add(beam);
        }

        Map<String, List<Double>> qps = new LinkedHashMap<>();
        for (int round = 0; round < rounds; round++) {
            for (int v = 0; v < VARIANTS.length; v++) {
                double value = HnswScalingHarness.qps(indexes.get(v), data.queries.length, 1, seconds);
                qps.computeIfAbsent(VARIANTS[v].name(), x -> new ArrayList<>()).add(value);
                System.out.printf(Locale.ROOT, "round %d: %s %.0f QPS (load %.1f)%n", round, VARIANTS[v], value,
                        HnswScalingHarness.load());
            }
            if (native_ != null) {
                double value = native_.measure(seconds);
                qps.computeIfAbsent("hnswlib", x -> new ArrayList<>()).add(value);
                System.out.printf(Locale.ROOT, "round %d: hnswlib %.0f QPS (load %.1f)%n", round, value,
                        HnswScalingHarness.load());
            }
        }
        figures.put("qps", qps);
        double f32 = HnswScalingHarness.median(qps.get("NONE"));
        Double hnswlib = native_ == null ? null : HnswScalingHarness.median(qps.get("hnswlib"));
        System.out.println("| variant | beam | recall@10 | QPS (median) | / F32 HNSW | / hnswlib |");
        System.out.println("|---|---|---|---|---|---|");
        for (int v = 0; v < VARIANTS.length; v++) {
            double m = HnswScalingHarness.median(qps.get(VARIANTS[v].name()));
            @SuppressWarnings("unchecked")
            double recall = (double) ((Map<String, Object>) figures.get(VARIANTS[v].name())).get("recallAt10");
            System.out.printf(Locale.ROOT, "| %s | %d | %.4f | %.0f | %.2f | %s |%n", VARIANTS[v], beams.get(v), recall,
                    m, m / f32, hnswlib == null ? "-" : String.format(Locale.ROOT, "%.2f", m / hnswlib));
        }
        if (native_ != null) {
            System.out.printf(Locale.ROOT, "| hnswlib | %s | | %.0f | %.2f | 1.00 |%n", native_.ready, hnswlib,
                    hnswlib / f32);
            native_.close();
        }
        for (HnswBenchmark.StoreIndex index : indexes) {
            index.close();
        }
        BenchReport.write("HnswComparison", figures);
    }

    /** The store index whose beam swap keeps its quantization. */
    static final class QuantizedStoreIndex extends HnswBenchmark.StoreIndex {
        private final int buildThreads;
        private final HnswQuantization codes;

        QuantizedStoreIndex(ClusteredVectors data, MempipeEmbeddingStore store, int buildThreads,
                            HnswQuantization codes) {
            super(data, store, buildThreads);
            this.buildThreads = buildThreads;
            this.codes = codes;
        }

        @Override
        public void beam(int beam) {
            setSettings(new HnswSettings(HnswBenchmark.M, HnswBenchmark.CONSTRUCTION_BEAM, beam, HnswBenchmark.SEED,
                    buildThreads, codes));
        }
    }

    /** The hnswlib program, started on the exported data, driven over its stdin. */
    static final class Hnswlib implements AutoCloseable {
        final String ready;
        private final Process process;
        private final BufferedReader out;
        private final OutputStream in;

        private Hnswlib(Process process, BufferedReader out, String ready) {
            this.process = process;
            this.out = out;
            this.in = process.getOutputStream();
            this.ready = ready;
        }

        static Hnswlib start(ClusteredVectors data, int[][] truth, int buildThreads) throws IOException {
            Path program = BenchReport.directory().getParent().resolve("hnswlib_bench");
            if (!Files.isExecutable(program)) {
                System.out.println("hnswlib: " + program + " is not built (bench/hnswlib/build.sh, needs g++ and"
                        + " libhnswlib-dev); measuring the Java side only");
                return null;
            }
            Path file = export(data, truth);
            Process process = new ProcessBuilder(program.toString(), file.toString(), Integer.toString(buildThreads))
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.US_ASCII));
            String line = out.readLine();
            if (line == null || !line.startsWith("ready ")) {
                process.destroy();
                throw new IOException("hnswlib_bench did not start: " + line);
            }
            return new Hnswlib(process, out, line.substring("ready ".length()));
        }

        double measure(int seconds) throws IOException {
            in.write(("measure " + seconds + "\n").getBytes(StandardCharsets.US_ASCII));
            in.flush();
            String line = out.readLine();
            if (line == null || !line.startsWith("qps ")) {
                throw new IOException("hnswlib_bench answered " + line);
            }
            return Double.parseDouble(line.substring(4));
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
