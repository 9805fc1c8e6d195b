package dev.mempipe.bench;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.EmbeddingSearchResult;
import dev.mempipe.langchain4j.MempipeEmbeddingStore;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Backends;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Java side of {@code bench/faiss-vs-mempipe.sh}: exact top-10 search of the 100k x 384 clustered vectors
 * ({@link ClusteredVectors}) by mempipe, timed in one process, round after round (the figures are medians of the
 * rounds, so that load drifting on a shared machine hits every figure alike). It writes the data as {@code .npy}
 * for the Python side (FAISS {@code IndexFlatIP}, NumPy + OpenBLAS {@code sgemm}) and its figures as JSON.
 *
 * <p>Figures (milliseconds per query, medians over rounds; each also as {@code cpu:NAME}, the process's CPU time per
 * query):
 * <ul>
 *   <li>{@code dotTopK.TYPE.bB}: the backend's fused {@code dotTopK} (k = 10) of B queries at once against the
 *       keys stored as TYPE (F32, BF16, I8); B = 1 is the one-query scan, B >= 2 the blocked kernel.</li>
 *   <li>{@code scoring.F32.bB}: the same with k = 1, the closest this op comes to scoring alone (one comparison
 *       per score remains); FLOP/s = {@code 2 B n d / time}, compared with {@code sgemm} of the same shapes.</li>
 *   <li>{@code rawDotTopK.TYPE.b1}: one query as the raw ops, {@code dot} into [1, n] then {@code topK}: the
 *       per-query overhead baseline of the store's single search ({@code store.TYPE.b1}).</li>
 *   <li>{@code store.TYPE.bB}: {@code MempipeEmbeddingStore.search} (B = 1) or {@code searchAll} (B > 1), the
 *       whole LangChain4j call; against {@code dotTopK} with the store's weights (raw batched kernel).</li>
 * </ul>
 * Usage: {@code FaissComparison [rounds] [outDir]}; threads: {@code -Dmempipe.threads=N} (default: every core).
 */
public final class FaissComparison {
    private static final int K = 10;
    private static final int[] BATCHES = {1, 32, 256};
    private static final com.sun.management.OperatingSystemMXBean CPU =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    private static final int SINGLE_QUERIES = 40;
    /**
     * Calls per timed batch figure: one call of 256 queries lasts 0.1-0.3 s, short enough for one scheduling hiccup
     * or a background JIT compilation to move a figure by tens of percent (the Python side times the same count).
     */
    private static final int BATCH_CALLS = 4;
    private static final ElementType[] TYPES = {ElementType.F32, ElementType.BF16, ElementType.I8};

    private FaissComparison() {
    }

    public static void main(String[] args) throws IOException {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        Path out = Path.of(args.length > 1 ? args[1] : "bench/target/faiss");
        Files.createDirectories(out);
        System.err.println("generating 100k x 384 clustered vectors ...");
        ClusteredVectors data = ClusteredVectors.standard();
        writeNpy(out.resolve("rows.npy"), data.rows);
        writeNpy(out.resolve("queries.npy"), data.queries);
        Backend backend = Backends.defaultBackend();
        int n = data.rows.length;
        int d = data.rows[0].length;
        Map<String, List<Double>> times = new LinkedHashMap<>();
        try (Arena arena = Arena.ofShared()) {
            Tensor f32 = Tensor.allocate(arena, ElementType.F32, n, d);
            for (int i = 0; i < n; i++) {
                MemorySegment.copy(data.rows[i], 0, f32.data(), ValueLayout.JAVA_FLOAT_UNALIGNED, f32.offset(i, 0), d);
            }
            Map<ElementType, Tensor> keys = CompactKeys.of(backend, arena, f32);
            Tensor queries = Tensor.allocate(arena, ElementType.F32, data.queries.length, d);
            for (int j = 0; j < data.queries.length; j++) {
                MemorySegment.copy(data.queries[j], 0, queries.data(), ValueLayout.JAVA_FLOAT_UNALIGNED,
                        queries.offset(j, 0), d);
            }
            Map<ElementType, MempipeEmbeddingStore> stores = new LinkedHashMap<>();
            for (ElementType t : TYPES) {
                System.err.println("filling the " + t + " store ...");
                stores.put(t, Lc4jStores.exact(data, t));
            }
            List<EmbeddingSearchRequest> requests = new ArrayList<>();
            for (int q = 0; q < data.queries.length; q++) {
                requests.add(Lc4jStores.request(data, q, null));
            }
            Indices idx = Indices.allocate(arena, 256 * K);
            Tensor val = Tensor.allocate(arena, ElementType.F32, 256, K);
            Tensor scores = Tensor.allocate(arena, ElementType.F32, 1, n);
            for (int round = 0; round <= rounds; round++) { // round 0 warms up and is not kept
                System.err.println("round " + round + " of " + rounds + (round == 0 ? " (warm-up)" : ""));
                Map<String, double[]> r = new LinkedHashMap<>();
                for (ElementType t : TYPES) {
                    Tensor m = keys.get(t);
                    MempipeEmbeddingStore store = stores.get(t);
                    for (int b : BATCHES) {
                        if (b == 32 && t != ElementType.F32) {
                            continue; // keeps a round short on a shared machine: BF16 and I8 at 1 and 256 only
                        }
                        r.put("dotTopK." + t + ".b" + b, perQuery(b, q0 -> backend.fused().dotTopK(
                                queries.rowSlice(q0, q0 + b), m, null, null, K, idx, val.rowSlice(0, b))));
                        r.put("store." + t + ".b" + b, perQuery(b, q0 -> b == 1 ? store.search(requests.get(q0))
                                : store.searchAll(requests.subList(q0, q0 + b))));
                    }
                    r.put("rawDotTopK." + t + ".b1", perQuery(1, q0 -> {
                        backend.relevancy().dot(queries.rowSlice(q0, q0 + 1), m, scores);
                        return backend.retrieval().topK(scores, K, idx, val.rowSlice(0, 1));
                    }));
                }
                r.put("scoring.F32.b256", perQuery(256, q0 -> backend.fused().dotTopK(queries.rowSlice(q0, q0 + 256),
                        f32, null, null, 1, idx, val.rowSlice(0, 256))));
                if (round > 0) {
                    r.forEach((name, ms) -> {
                        times.computeIfAbsent(name, x -> new ArrayList<>()).add(ms[0]);
                        times.computeIfAbsent("cpu:" + name, x -> new ArrayList<>()).add(ms[1]);
                    });
                }
            }
            stores.values().forEach(MempipeEmbeddingStore::close);
        }
        StringBuilder json = new StringBuilder();
        json.append("{\n  \"backend\": \"").append(backend.description()).append("\",\n  \"threads\": ")
                .append(Integer.getInteger("mempipe.threads", Runtime.getRuntime().availableProcessors()))
                .append(",\n  \"rows\": ").append(n).append(",\n  \"d\": ").append(d).append(",\n  \"k\": ").append(K)
                .append(",\n  \"rounds\": ").append(rounds).append(",\n  \"msPerQuery\": {\n");
        List<String> names = new ArrayList<>(times.keySet());
        for (int i = 0; i < names.size(); i++) {
            double median = median(times.get(names.get(i)));
            json.append("    \"").append(names.get(i)).append("\": ").append(String.format("%.6f", median))
                    .append(i + 1 < names.size() ? ",\n" : "\n");
            System.out.printf("%-28s %10.4f ms/query%n", names.get(i), median);
        }
        json.append("  }\n}\n");
        Files.writeString(out.resolve("mempipe.json"), json.toString());
        System.err.println("wrote " + out.resolve("mempipe.json"));
    }

    /** One call of a batch starting at query {@code q0}. */
    @FunctionalInterface
    private interface Batch {
        Object run(int q0);
    }

    /**
     * Milliseconds per query, wall-clock and CPU time of the whole process: B = 1 runs {@link #SINGLE_QUERIES}
     * queries one by one; a larger B runs {@link #BATCH_CALLS} batches of B queries (four of 32). CPU time counts
     * what the process computed however much of a shared machine it got (with one thread it is the wall time of a
     * quiet machine).
     */
    static double[] perQuery(int b, Batch call) {
        int total = b == 1 ? SINGLE_QUERIES : Math.max(BATCH_CALLS * b, 128);
        long cpu = CPU.getProcessCpuTime();
        long start = System.nanoTime();
        int answered = 0;
        for (int q0 = 0; answered < total; q0 += b) {
            if (q0 + b > 1000) {
                q0 = 0;
            }
            if (call.run(q0) == null) {
                throw new IllegalStateException("no result");
            }
            answered += b;
        }
        return new double[] {(System.nanoTime() - start) / 1e6 / answered,
                (CPU.getProcessCpuTime() - cpu) / 1e6 / answered};
    }

    private static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** A little-endian f32 {@code .npy} (format 1.0) of {@code rows}. */
    private static void writeNpy(Path file, float[][] rows) throws IOException {
        int d = rows[0].length;
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + rows.length + ", " + d + "), }";
        int unpadded = 10 + dict.length() + 1;
        String header = dict + " ".repeat((64 - unpadded % 64) % 64) + "\n";
        ByteBuffer head = ByteBuffer.allocate(10 + header.length()).order(ByteOrder.LITTLE_ENDIAN);
        head.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0)
                .putShort((short) header.length()).put(header.getBytes(StandardCharsets.US_ASCII)).flip();
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(head);
            ByteBuffer row = ByteBuffer.allocate(4 * d).order(ByteOrder.LITTLE_ENDIAN);
            for (float[] r : rows) {
                row.clear();
                row.asFloatBuffer().put(r);
                ch.write(row);
            }
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
