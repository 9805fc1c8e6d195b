package dev.mempipe.bench;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.EmbeddingSearchResult;
import dev.langchain4j.store.embedding.filter.Filter;
import dev.mempipe.core.memory.HnswSettings;
import dev.mempipe.langchain4j.MempipeEmbeddingStore;
import io.github.jbellis.jvector.graph.GraphIndexBuilder;
import io.github.jbellis.jvector.graph.GraphSearcher;
import io.github.jbellis.jvector.graph.ImmutableGraphIndex;
import io.github.jbellis.jvector.graph.ListRandomAccessVectorValues;
import io.github.jbellis.jvector.graph.RandomAccessVectorValues;
import io.github.jbellis.jvector.graph.SearchResult;
import io.github.jbellis.jvector.graph.similarity.BuildScoreProvider;
import io.github.jbellis.jvector.graph.similarity.DefaultSearchScoreProvider;
import io.github.jbellis.jvector.vector.VectorizationProvider;
import io.github.jbellis.jvector.vector.types.VectorFloat;
import io.github.jbellis.jvector.vector.types.VectorTypeSupport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import org.apache.lucene.codecs.hnsw.DefaultFlatVectorScorer;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.TopKnnCollector;
import org.apache.lucene.util.hnsw.HnswGraphBuilder;
import org.apache.lucene.util.hnsw.HnswGraphSearcher;
import org.apache.lucene.util.hnsw.OnHeapHnswGraph;
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
 * Approximate top-10 over 100k x 384 clustered unit vectors ({@link ClusteredVectors}): the {@link
 * MempipeEmbeddingStore} HNSW store, Lucene 10.6 HNSW used directly ({@code HnswGraphBuilder} and
 * {@code HnswGraphSearcher} over on-heap {@code float[]}, the same M, construction beam, seed and search beam), and
 * jvector 4.0.2 ({@code GraphIndexBuilder} and {@code GraphSearcher}, degree 32 = Lucene's level-0 2M, the same
 * construction beam, alpha 1.2, hierarchy on), plus the store answering with a 10% selective metadata filter
 * ({@code bucket == 3}) and, as the baseline any filtered graph search has to beat, the exact F32 store with that filter.
 *
 * <p>Setup, per implementation (one JMH fork each): build the index, timed (one thread each by default: the store
 * builds its graph when the rows are added, on {@link #buildThreads} threads, Lucene's builder is single-threaded,
 * jvector gets pools of one thread); then tune the search beam: the smallest beam of {@link #BEAMS} whose recall@10 over all 1000 queries,
 * against the exact top-10 (double brute force), is at least {@link #TARGET_RECALL}. The store's search beam is part
 * of its {@link HnswSettings}, fixed at build; as rebuilding the graph for every candidate would take an hour, the
 * setup swaps the settings object inside the store's graph index by reflection (the search beam does not change the
 * graph, so this is exactly the store a builder with that beam would give). The filtered variant records its recall
 * at the beam tuned without a filter and at the default beam, then tunes its own beam the same way (coarse ladder, then
 * bisection) against the exact filtered top-10, and is benchmarked at that beam. Figures (build seconds, beams, recall,
 * the curves, the cost of LangChain4j's {@code Filter.test} over all rows): {@code bench/target/lc4j/}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Xmx8g"})
public class HnswBenchmark {
    static final double TARGET_RECALL = 0.95;
    /** Candidate search beams: every width from 10 to 64, then coarser (recall grows with the beam). */
    static final int[] BEAMS = java.util.stream.IntStream.concat(java.util.stream.IntStream.rangeClosed(10, 64),
            java.util.stream.IntStream.of(72, 80, 96, 112, 128, 160, 192, 256, 320, 384, 512, 768)).toArray();
    /** Coarse beams for the filtered search (each step is 1000 filtered searches), refined by bisection. */
    static final int[] FILTERED_BEAMS = {32, 64, 128, 192, 256, 384, 512, 768};
    static final int M = 16;
    static final int CONSTRUCTION_BEAM = 100;
    static final long SEED = 42;
    static final int JVECTOR_DEGREE = 2 * M;

    @Param({"mempipe", "lucene", "jvector", "mempipeFiltered10", "exactF32Filtered10"})
    String impl;

    /** Threads that build the store's graph (at add time); 1, like Lucene's builder and jvector's pool here. */
    @Param({"1"})
    int buildThreads;

    private ClusteredVectors data;
    private Index index;
    private int next;

    /** One implementation under test. */
    interface Index extends AutoCloseable {
        void beam(int beam);

        /** The native answer to query q (what the benchmark times). */
        Object search(int q);

        /** The rows of a {@link #search} answer, best first, at most 10. */
        int[] rows(Object answer);

        @Override
        void close();
    }

    @Setup(Level.Trial)
    public void setUp() {
        data = ClusteredVectors.standard();
        int[][] truth = GroundTruth.topK(data, Lc4jStores.TOP_K, null, "all");
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("impl", impl);
        if (impl.equals("exactF32Filtered10")) {
            // the baseline a filtered graph search has to beat: the exact F32 store, same filter
            StoreIndex exact = new StoreIndex(data, Lc4jStores.exact(data, dev.mempipe.spi.ElementType.F32), 1);
            exact.filter = Lc4jStores.TEN_PERCENT;
            index = exact;
            figures.put("filteredShare", share(data));
            figures.put("filteredRecallAt10", recall(filteredTruth()));
            figures.put("filterTestMillis", filterTestMillis(data));
            BenchReport.write("HnswBenchmark-" + impl, figures);
            return;
        }
        long start = System.nanoTime();
        index = switch (impl) {
            case "mempipe", "mempipeFiltered10" -> {
                MempipeEmbeddingStore store = Lc4jStores.hnsw(data, new HnswSettings(M, CONSTRUCTION_BEAM, BEAMS[0],
                        SEED, buildThreads));
                figures.put("addAllSeconds", (System.nanoTime() - start) / 1e9); // the add builds the graph
                figures.put("buildThreads", buildThreads);
                yield new StoreIndex(data, store, buildThreads);
            }
            case "lucene" -> new LuceneIndex(data);
            case "jvector" -> new JvectorIndex(data);
            default -> throw new IllegalArgumentException("impl " + impl);
        };
        figures.put("buildSeconds", (System.nanoTime() - start) / 1e9);
        System.out.printf("%s: index built in %.1f s%n", impl, (System.nanoTime() - start) / 1e9);

        // Tune: the smallest beam reaching the target recall without a filter.
        StringBuilder curve = new StringBuilder();
        int chosen = -1;
        double recall = 0;
        for (int beam : BEAMS) {
            index.beam(beam);
            recall = recall(truth);
            curve.append(beam).append(':').append(format(recall)).append(' ');
            if (recall >= TARGET_RECALL) {
                chosen = beam;
                break;
            }
        }
        if (chosen < 0) {
            throw new IllegalStateException(impl + " never reached recall@10 " + TARGET_RECALL + ": " + curve);
        }
        figures.put("searchBeam", chosen);
        figures.put("recallAt10", recall);
        figures.put("recallCurve", curve.toString().trim());
        if (impl.equals("mempipeFiltered10")) {
            tuneFiltered((StoreIndex) index, chosen, figures);
        }
        BenchReport.write("HnswBenchmark-" + impl, figures);
    }

    /**
     * The filtered search: its recall at the beam tuned without a filter, at the store's default beam, along a coarse
     * ladder, and the smallest beam reaching the target (then benchmarked), with how many searches the graph answered
     * and how many fell back to the exact scan.
     */
    private void tuneFiltered(StoreIndex store, int unfilteredBeam, Map<String, Object> figures) {
        int[][] filteredTruth = filteredTruth();
        store.filter = Lc4jStores.TEN_PERCENT;
        figures.put("filteredShare", share(data));
        figures.put("filterTestMillis", filterTestMillis(data));
        store.beam(unfilteredBeam);
        figures.put("filteredRecallAtUnfilteredBeam", recall(filteredTruth));
        store.beam(HnswSettings.DEFAULT.searchBeamWidth());
        figures.put("filteredRecallAtDefaultBeam" + HnswSettings.DEFAULT.searchBeamWidth(), recall(filteredTruth));
        StringBuilder curve = new StringBuilder();
        int failing = unfilteredBeam;
        int passing = -1;
        for (int beam : FILTERED_BEAMS) {
            if (beam <= unfilteredBeam) {
                continue;
            }
            store.beam(beam);
            double r = recall(filteredTruth);
            curve.append(beam).append(':').append(format(r)).append(' ');
            if (r >= TARGET_RECALL) {
                passing = beam;
                break;
            }
            failing = beam;
        }
        while (passing > 0 && passing - failing > Math.max(4, passing / 16)) { // bisect to about 6%
            int mid = (failing + passing) >>> 1;
            store.beam(mid);
            double r = recall(filteredTruth);
            curve.append(mid).append(':').append(format(r)).append(' ');
            if (r >= TARGET_RECALL) {
                passing = mid;
            } else {
                failing = mid;
            }
        }
        figures.put("filteredRecallCurve", curve.toString().trim());
        if (passing < 0) {
            figures.put("filteredSearchBeam", "none reached " + TARGET_RECALL);
            store.beam(unfilteredBeam);
            return;
        }
        store.beam(passing);
        long[] before = store.counters();
        figures.put("filteredSearchBeam", passing);
        figures.put("filteredRecallAt10", recall(filteredTruth));
        long[] after = store.counters();
        figures.put("filteredAnsweredByGraph", after[0] - before[0]);
        figures.put("filteredAnsweredByExactScan", after[1] - before[1]);
    }

    private int[][] filteredTruth() {
        return GroundTruth.topK(data, Lc4jStores.TOP_K, r -> data.bucket[r] == ClusteredVectors.FILTER_BUCKET,
                "bucket" + ClusteredVectors.FILTER_BUCKET);
    }

    /**
     * Milliseconds LangChain4j's {@code Filter.test} takes over the metadata of every row (the best of 30): the part
     * of a filtered search that is the same whatever index answers it.
     */
    private static double filterTestMillis(ClusteredVectors data) {
        List<dev.langchain4j.data.document.Metadata> metadata = new ArrayList<>();
        for (TextSegment segment : data.segments()) {
            metadata.add(segment.metadata());
        }
        double best = Double.MAX_VALUE;
        int accepted = 0;
        for (int run = 0; run < 30; run++) {
            long start = System.nanoTime();
            accepted = 0;
            for (dev.langchain4j.data.document.Metadata m : metadata) {
                accepted += Lc4jStores.TEN_PERCENT.test(m) ? 1 : 0;
            }
            best = Math.min(best, (System.nanoTime() - start) / 1e6);
        }
        if (accepted == 0) {
            throw new IllegalStateException("the filter accepted nothing");
        }
        return best;
    }

    private static String format(double recall) {
        return String.format(java.util.Locale.ROOT, "%.4f", recall);
    }

    private double recall(int[][] truth) {
        List<int[]> got = new ArrayList<>(data.queries.length);
        for (int q = 0; q < data.queries.length; q++) {
            got.add(index.rows(index.search(q)));
        }
        return GroundTruth.recall(truth, got, Lc4jStores.TOP_K);
    }

    private static double share(ClusteredVectors data) {
        int n = 0;
        for (int b : data.bucket) {
            n += b == ClusteredVectors.FILTER_BUCKET ? 1 : 0;
        }
        return (double) n / data.bucket.length;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        index.close();
    }

    @Benchmark
    public Object search() {
        int q = next;
        next = next + 1 == data.queries.length ? 0 : next + 1;
        return index.search(q);
    }

    /** The mempipe store, searched through {@code EmbeddingStore.search}. */
    static final class StoreIndex implements Index {
        final MempipeEmbeddingStore store;
        final ClusteredVectors data;
        Filter filter;
        private final Field settingsField;
        private final Object graph;
        private final Method counters;
        private final int buildThreads;

        StoreIndex(ClusteredVectors data, MempipeEmbeddingStore store, int buildThreads) {
            this.data = data;
            this.store = store;
            this.buildThreads = buildThreads;
            if (!store.isApproximate()) {
                settingsField = null;
                graph = null;
                counters = null;
                return;
            }
            try {
                Field graphField = MempipeEmbeddingStore.class.getDeclaredField("graph");
                graphField.setAccessible(true);
                graph = graphField.get(store);
                settingsField = graph.getClass().getDeclaredField("settings");
                settingsField.setAccessible(true);
                counters = MempipeEmbeddingStore.class.getDeclaredMethod("graphCounters");
                counters.setAccessible(true);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("the beam probe no longer matches the store's internals", e);
            }
        }

        @Override
        public void beam(int beam) {
            setSettings(new HnswSettings(M, CONSTRUCTION_BEAM, beam, SEED, buildThreads));
        }

        /** Swaps the settings inside the store's graph index (only the search beam may differ). */
        void setSettings(HnswSettings settings) {
            try {
                settingsField.set(graph, settings);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }

        long[] counters() {
            try {
                return (long[]) counters.invoke(store);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public Object search(int q) {
            EmbeddingSearchRequest request = EmbeddingSearchRequest.builder().queryEmbedding(data.query(q))
                    .maxResults(Lc4jStores.TOP_K).minScore(0.0).filter(filter).build();
            return store.search(request);
        }

        @Override
        @SuppressWarnings("unchecked")
        public int[] rows(Object answer) {
            return Lc4jStores.rows((EmbeddingSearchResult<TextSegment>) answer);
        }

        @Override
        public void close() {
            store.close();
        }
    }

    /** Lucene's HNSW used directly: on-heap float[] vectors, DOT_PRODUCT, one-thread build. */
    static final class LuceneIndex implements Index {
        private final ClusteredVectors data;
        private final FloatVectorValues vectors;
        private final OnHeapHnswGraph graph;
        private int beam = BEAMS[0];

        LuceneIndex(ClusteredVectors data) {
            this.data = data;
            try {
                vectors = FloatVectorValues.fromFloats(List.of(data.rows), ClusteredVectors.DIMENSION);
                HnswGraphBuilder builder = HnswGraphBuilder.create(DefaultFlatVectorScorer.INSTANCE
                        .getRandomVectorScorerSupplier(VectorSimilarityFunction.DOT_PRODUCT, vectors), M,
                        CONSTRUCTION_BEAM, SEED);
                graph = builder.build(data.rows.length);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void beam(int beam) {
            this.beam = beam;
        }

        @Override
        public Object search(int q) {
            try {
                TopKnnCollector collector = new TopKnnCollector(Math.max(Lc4jStores.TOP_K, beam), Integer.MAX_VALUE);
                HnswGraphSearcher.search(DefaultFlatVectorScorer.INSTANCE.getRandomVectorScorer(
                        VectorSimilarityFunction.DOT_PRODUCT, vectors, data.queries[q]), collector, graph, null);
                return collector.topDocs();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public int[] rows(Object answer) {
            ScoreDoc[] docs = ((TopDocs) answer).scoreDocs;
            int[] rows = new int[Math.min(Lc4jStores.TOP_K, docs.length)];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = docs[i].doc;
            }
            return rows;
        }

        @Override
        public void close() {
        }
    }

    /** jvector 4.0.2: on-heap vectors, DOT_PRODUCT, exact scores (no PQ), one-thread build. */
    static final class JvectorIndex implements Index {
        private static final io.github.jbellis.jvector.vector.VectorSimilarityFunction DOT =
                io.github.jbellis.jvector.vector.VectorSimilarityFunction.DOT_PRODUCT;
        private final VectorTypeSupport types = VectorizationProvider.getInstance().getVectorTypeSupport();
        private final List<VectorFloat<?>> queries = new ArrayList<>();
        private final RandomAccessVectorValues vectors;
        private final ImmutableGraphIndex graph;
        private final GraphSearcher searcher;
        private final ForkJoinPool pool = new ForkJoinPool(1);
        private int beam = BEAMS[0];

        // The deprecated constructor is the one that takes both the hierarchy and refinement flags and the
        // executors explicitly; 4.0.2's Builder reads the two flags from a JMX config object instead.
        @SuppressWarnings("deprecation")
        JvectorIndex(ClusteredVectors data) {
            System.out.println("jvector vectorization: " + VectorizationProvider.getInstance().getClass().getName());
            List<VectorFloat<?>> rows = new ArrayList<>(data.rows.length);
            for (float[] row : data.rows) {
                rows.add(types.createFloatVector(row));
            }
            for (float[] query : data.queries) {
                queries.add(types.createFloatVector(query));
            }
            vectors = new ListRandomAccessVectorValues(rows, ClusteredVectors.DIMENSION);
            BuildScoreProvider scores = BuildScoreProvider.randomAccessScoreProvider(vectors, DOT);
            try (GraphIndexBuilder builder = new GraphIndexBuilder(scores, ClusteredVectors.DIMENSION, JVECTOR_DEGREE,
                    CONSTRUCTION_BEAM, 1.2f, 1.2f, true, true, pool, pool)) {
                graph = builder.build(vectors);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            searcher = new GraphSearcher(graph);
        }

        @Override
        public void beam(int beam) {
            this.beam = beam;
        }

        @Override
        public Object search(int q) {
            return searcher.search(DefaultSearchScoreProvider.exact(queries.get(q), DOT, vectors), Lc4jStores.TOP_K,
                    Math.max(Lc4jStores.TOP_K, beam), 0f, 0f, io.github.jbellis.jvector.util.Bits.ALL);
        }

        @Override
        public int[] rows(Object answer) {
            SearchResult.NodeScore[] nodes = ((SearchResult) answer).getNodes();
            int[] rows = new int[Math.min(Lc4jStores.TOP_K, nodes.length)];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = nodes[i].node;
            }
            return rows;
        }

        @Override
        public void close() {
            try {
                searcher.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            pool.shutdown();
        }
    }
}
