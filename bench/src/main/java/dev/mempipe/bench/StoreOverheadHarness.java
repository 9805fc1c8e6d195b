package dev.mempipe.bench;

import dev.mempipe.core.memory.EmbeddingRows;
import dev.mempipe.langchain4j.MempipeEmbeddingStore;
import dev.mempipe.spi.Tensor;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntSupplier;

/**
 * {@link StoreOverheadBenchmark}'s comparisons as paired rounds in one JVM: per round, the store's call and the raw
 * op it is compared with run back to back on the same queries (in alternating order), and the round's ratio is
 * {@code raw time / store time}. The figure is the median of the rounds' ratios with the order-statistic interval
 * that holds the true median with at least 95% probability.
 *
 * <p>More figures per type separate the store from where its rows lie: the store's calls against the raw ops over
 * the store's own rows (read by reflection: the same bytes at the same addresses, so only what the store adds is
 * left), the raw op over the store's rows against the same op over the copy (two copies of the same bytes can scan
 * at different speeds: their pages map differently), and one raw call against itself: the ratio an unchanged call
 * gets in this harness on this machine, the floor to read the others against.
 *
 * <p>Why beside the JMH benchmark: the one-query figures are memory-bound scans of 38-154 MB on both cores, whose
 * times drift with whatever else the machine does; JMH runs each benchmark in its own fork minutes apart, so the
 * drift lands in the ratio (a short quiet run gave intervals as wide as the figures). Pairs a fraction of a second
 * apart see the same machine, so the drift cancels in each round's ratio.
 *
 * <p>Usage: {@code StoreOverheadHarness [rounds] [storage...]} (defaults: 15 rounds, F32 BF16 I8); threads:
 * {@code -Dmempipe.threads=N}. Prints one line per figure and writes
 * {@code bench/target/lc4j/StoreOverheadHarness.json}.
 */
public final class StoreOverheadHarness {
    /** Wall time per timed slice of one variant: long enough to hold several calls, short enough to pair. */
    private static final long SLICE_NANOS = 300_000_000L;
    private static final long WARM_UP_NANOS = 3_000_000_000L;
    private static final int[] BATCHES = {32, 256};

    private StoreOverheadHarness() {
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        if (rounds < 6) {
            throw new IllegalArgumentException("rounds must be at least 6 (for a 95% interval), got " + rounds);
        }
        List<String> types = args.length > 1 ? List.of(Arrays.copyOfRange(args, 1, args.length))
                : List.of("F32", "BF16", "I8");
        Map<String, Object> figures = new LinkedHashMap<>();
        for (String type : types) {
            StoreOverheadBenchmark.Data data = new StoreOverheadBenchmark.Data();
            data.storage = type;
            System.err.println("filling the " + type + " store ...");
            data.setUp();
            figures.put("backend", data.backend.description());
            Map<String, IntSupplier> calls = new LinkedHashMap<>();
            StoreOverheadBenchmark bench = new StoreOverheadBenchmark();
            calls.put("storeSearch", () -> bench.storeSearch(data).matches().size());
            calls.put("rawDotTopK", () -> bench.rawDotTopK(data));
            calls.put("rawDotThenTopK", () -> bench.rawDotThenTopK(data));
            // the raw ops over the store's own rows (not the copy): see the class comment
            EmbeddingRows own = storeRows(data.store);
            Tensor ownKeys = own.vectors(0, own.rows());
            Tensor ownNorms = own.inverseNorms(0, own.rows());
            calls.put("rawDotTopKStoreRows", () -> {
                int q = data.nextQuery();
                return data.backend.fused().dotTopK(data.unitQueries.rowSlice(q, q + 1), ownKeys, ownNorms, null,
                        Lc4jStores.TOP_K, data.idx, data.val.rowSlice(0, 1));
            });
            calls.put("rawDotThenTopKStoreRows", () -> {
                int q = data.nextQuery();
                data.backend.relevancy().dot(data.unitQueries.rowSlice(q, q + 1), ownKeys, data.scores);
                return data.backend.retrieval().topK(data.scores, Lc4jStores.TOP_K, data.idx, data.val.rowSlice(0, 1));
            });
            // the same call as its own baseline: the ratio an unchanged call gets here (1.0 is the truth)
            calls.put("rawDotThenTopKStoreRowsAgain", calls.get("rawDotThenTopKStoreRows"));
            List<StoreOverheadBenchmark.Batch> batches = new ArrayList<>();
            for (int size : BATCHES) {
                StoreOverheadBenchmark.Batch batch = new StoreOverheadBenchmark.Batch();
                batch.batch = size;
                batch.setUp();
                batches.add(batch);
                calls.put("storeSearchAll" + size, () -> bench.storeSearchAll(data, batch).size());
                calls.put("rawBatchedDotTopK" + size, () -> bench.rawBatchedDotTopK(data, batch));
                calls.put("rawBatchedDotTopKStoreRows" + size, () -> {
                    int q0 = batch.nextFirst();
                    return data.backend.fused().dotTopK(data.unitQueries.rowSlice(q0, q0 + size), ownKeys, ownNorms,
                            null, Lc4jStores.TOP_K, batch.idx, batch.val);
                });
            }
            for (Map.Entry<String, IntSupplier> call : calls.entrySet()) {
                System.err.println(type + ": warming up " + call.getKey() + " ...");
                timeSlice(call.getValue(), WARM_UP_NANOS);
            }
            compare(figures, type, "store.search / raw dotTopK", calls.get("storeSearch"), calls.get("rawDotTopK"),
                    rounds);
            compare(figures, type, "store.search / raw dot + topK", calls.get("storeSearch"),
                    calls.get("rawDotThenTopK"), rounds);
            compare(figures, type, "store.search / raw dotTopK on the store's rows", calls.get("storeSearch"),
                    calls.get("rawDotTopKStoreRows"), rounds);
            compare(figures, type, "raw dotTopK: the store's rows / the copy", calls.get("rawDotTopKStoreRows"),
                    calls.get("rawDotTopK"), rounds);
            compare(figures, type, "store.search / raw dot + topK on the store's rows", calls.get("storeSearch"),
                    calls.get("rawDotThenTopKStoreRows"), rounds);
            compare(figures, type, "raw dot + topK on the store's rows / itself", calls.get("rawDotThenTopKStoreRows"),
                    calls.get("rawDotThenTopKStoreRowsAgain"), rounds);
            for (int size : BATCHES) {
                compare(figures, type, "searchAll(" + size + ") / raw batched dotTopK(" + size + ")",
                        calls.get("storeSearchAll" + size), calls.get("rawBatchedDotTopK" + size), rounds);
                compare(figures, type, "searchAll(" + size + ") / raw batched dotTopK(" + size + ") on the store's rows",
                        calls.get("storeSearchAll" + size), calls.get("rawBatchedDotTopKStoreRows" + size), rounds);
            }
            batches.forEach(StoreOverheadBenchmark.Batch::tearDown);
            data.tearDown();
        }
        BenchReport.write("StoreOverheadHarness", figures);
    }

    /** The store's own rows (a private field: read by reflection, for this comparison only). */
    private static EmbeddingRows storeRows(MempipeEmbeddingStore store) {
        try {
            Field rows = MempipeEmbeddingStore.class.getDeclaredField("rows");
            rows.setAccessible(true);
            return (EmbeddingRows) rows.get(store);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("MempipeEmbeddingStore has no field rows of type EmbeddingRows any more: "
                    + "update StoreOverheadHarness", e);
        }
    }

    /** Paired rounds of {@code store} and {@code raw}; prints and records the median ratio raw / store. */
    private static void compare(Map<String, Object> figures, String type, String name, IntSupplier store,
                                IntSupplier raw, int rounds) {
        double[] ratios = new double[rounds];
        double[] storeMs = new double[rounds];
        double[] rawMs = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            boolean storeFirst = r % 2 == 0; // alternate, so a drift within the pair favours neither side
            double first = timeSlice(storeFirst ? store : raw, SLICE_NANOS);
            double second = timeSlice(storeFirst ? raw : store, SLICE_NANOS);
            storeMs[r] = storeFirst ? first : second;
            rawMs[r] = storeFirst ? second : first;
            ratios[r] = rawMs[r] / storeMs[r];
        }
        double[] sorted = ratios.clone();
        Arrays.sort(sorted);
        int[] interval = medianInterval(rounds);
        double median = median(sorted);
        String line = String.format(Locale.ROOT, "%-5s %-44s %.3f  [%.3f, %.3f]  store %.3f ms, raw %.3f ms",
                type, name, median, sorted[interval[0]], sorted[interval[1]], median(sortedCopy(storeMs)),
                median(sortedCopy(rawMs)));
        System.out.println(line);
        String key = type + ": " + name;
        figures.put(key + ": ratio", median);
        figures.put(key + ": 95% interval", "[" + sorted[interval[0]] + ", " + sorted[interval[1]] + "]");
        figures.put(key + ": store ms", median(sortedCopy(storeMs)));
        figures.put(key + ": raw ms", median(sortedCopy(rawMs)));
        figures.put(key + ": rounds", rounds);
    }

    /** Milliseconds per call of {@code call}, repeated for at least {@code nanos} (and at least twice). */
    private static double timeSlice(IntSupplier call, long nanos) {
        long start = System.nanoTime();
        long end = start;
        int calls = 0;
        int sink = 0;
        while (calls < 2 || end - start < nanos) {
            sink += call.getAsInt();
            calls++;
            end = System.nanoTime();
        }
        if (sink < 0) {
            throw new IllegalStateException("negative result count " + sink);
        }
        return (end - start) / 1e6 / calls;
    }

    /**
     * Zero-based indices {@code [lo, hi]} of the sorted sample that bracket the true median with probability at least
     * 0.95 for {@code rounds >= 6}: the order-statistic interval {@code [x(j), x(n + 1 - j)]} (1-based) with the
     * largest j whose {@code P(Binomial(n, 1/2) < j) <= 0.025} (for 15 rounds: the 4th and 12th smallest).
     */
    static int[] medianInterval(int rounds) {
        double[] cdf = new double[rounds + 1];
        double p = Math.pow(0.5, rounds);
        double sum = 0;
        for (int j = 0; j <= rounds; j++) {
            sum += p;
            cdf[j] = sum;
            p = p * (rounds - j) / (j + 1);
        }
        int lo = 0;
        while (lo + 1 < rounds && cdf[lo] <= 0.025) {
            lo++;
        }
        // cdf[lo - 1] <= 0.025 < cdf[lo]: the lo-th smallest (1-based, index lo - 1) is the lower bound
        int lower = Math.max(0, lo - 1);
        int upper = rounds - 1 - lower;
        return new int[] {lower, upper};
    }

    private static double[] sortedCopy(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted;
    }

    static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
