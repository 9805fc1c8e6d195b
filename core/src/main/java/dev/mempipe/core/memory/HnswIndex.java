package dev.mempipe.core.memory;

import dev.mempipe.core.profile.OpCost;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopKnnCollector;
import org.apache.lucene.search.knn.KnnSearchStrategy;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.hnsw.HnswGraphBuilder;
import org.apache.lucene.util.hnsw.HnswGraphSearcher;
import org.apache.lucene.util.hnsw.RandomVectorScorer;
import org.apache.lucene.util.hnsw.RandomVectorScorerSupplier;
import org.apache.lucene.util.hnsw.UpdateableRandomVectorScorer;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Objects;

/**
 * A Lucene HNSW graph over {@link HnswVectors}, for approximate cosine search: {@link EmbeddingMemory}'s
 * {@code searchApproximate} and the LangChain4j store's approximate mode. The graph is scored straight from where
 * the vectors live (off-heap), with Lucene's DOT_PRODUCT similarity {@code (1 + cos) / 2}; hits carry the exact
 * cosines of {@link HnswVectors#cosine}.
 *
 * <p>The graph is built lazily: the first search builds it, later searches first add the rows appended since, so
 * vectors that are never searched approximately pay nothing. Rows a caller no longer wants (a store's removed
 * entries) stay in the graph as routing nodes and are kept out of results by the search's accept bits; when rows
 * are renumbered (a compaction), {@link #reset()} forgets the graph and the next search rebuilds it.
 *
 * <p>Filters are applied <em>during</em> the graph search: the accept bits go to Lucene's searcher, which collects
 * only accepted nodes (and, below {@link #FILTERED_SEARCH_THRESHOLD}% accepted, switches to its ACORN-style
 * filtered searcher that explores through accepted neighbours). As in Lucene's own {@code KnnFloatVectorQuery}, a
 * filtered search may visit at most as many nodes as the filter accepts, which is what an exact scan of the
 * accepted rows would cost; when it would visit more it stops and {@link #search} returns null, and the caller
 * answers exactly instead. The same happens when the walk returns fewer hits than {@code min(k, accepted)}: it got
 * stuck among rejected nodes (or, without a filter, the graph left rows unreachable). A restrictive filter
 * therefore costs at most about one scan and never returns fewer matches than exist.
 *
 * <p>Scoring runs on the backend a search (or {@link #extend}) is given: the caller opens one engine step for the
 * whole walk (a walk scores a few dozen rows at a time, thousands of times: one step per score would cost more
 * than the scores) and passes the backend the engine chose for it.
 *
 * <p>Thread-safety: methods are {@code synchronized}; Lucene's on-heap graph keeps a neighbour cursor inside the
 * graph, so even two searches must not walk it at once.
 */
public final class HnswIndex {
    /** Accepted share (percent) below which Lucene's filtered searcher is used; Lucene's own default for queries. */
    public static final int FILTERED_SEARCH_THRESHOLD = 60;

    /** Best first: score descending, then the lower row (the order of the contract's {@code topK}). */
    private static final Comparator<ScoreDoc> BEST_FIRST =
            Comparator.comparingDouble((ScoreDoc d) -> -d.score).thenComparingInt(d -> d.doc);

    private final HnswVectors vectors;
    private final int dimension;
    private final HnswSettings settings;
    private HnswGraphBuilder builder;
    private Backend scoring; // the backend of the walk or build in progress (under the lock)
    private int nodes;    // rows in the graph
    private int indexing; // rows the graph is being extended to (the scorers' maxOrd)
    private long graphSearches;
    private long exactFallbacks;

    /** Searches answered through the graph, and searches that returned null for an exact scan instead. */
    public record Counts(long graphSearches, long exactFallbacks) {
    }

    public HnswIndex(HnswVectors vectors, HnswSettings settings) {
        this.vectors = Objects.requireNonNull(vectors, "vectors");
        this.dimension = vectors.dimension();
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    /** {@link #search(Backend, float[], int, Bits, int)} over every row. */
    public Hits search(Backend backend, float[] query, int k) {
        return search(backend, query, k, null, 0);
    }

    /**
     * The best {@code min(k, accepted)} accepted rows by cosine with {@code query}, found through the graph (extended
     * first to {@link HnswVectors#rows()}), best first with exact cosines, ties by lower row; or null when the
     * caller should scan the accepted rows exactly (see the class comment).
     *
     * @param backend   scores the rows (the engine's choice for the step that runs this search)
     * @param query     {@code d} floats, any length (normalized here with the backend's {@code l2Normalize})
     * @param k         {@code >= 1}
     * @param accept    rows that may be returned (covering every row), or null for every row
     * @param accepted  how many rows {@code accept} lets through; ignored when it is null
     */
    public synchronized Hits search(Backend backend, float[] query, int k, Bits accept, int accepted) {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(query, "query");
        if (query.length != dimension) {
            throw new IllegalArgumentException("query has " + query.length + " elements, the vectors " + dimension);
        }
        MemoryArgs.k(k);
        if (accept != null && accepted < 0) {
            throw new IllegalArgumentException("accepted must be >= 0, got " + accepted);
        }
        scoring = backend;
        try {
            float[] unitQuery = unit(backend, query);
            extendTo(vectors.rows());
            if (accept != null && accept.length() < nodes) {
                throw new IllegalArgumentException("accept covers " + accept.length() + " rows, the graph " + nodes);
            }
            int acceptedNodes = accept == null ? nodes : Math.min(accepted, nodes);
            if (acceptedNodes == 0) {
                return Hits.empty();
            }
            int visitLimit = accept == null ? Integer.MAX_VALUE : accepted;
            int wanted = Math.min(k, acceptedNodes); // the collector sizes its queue by k: never beyond what exists
            TopKnnCollector collector = new TopKnnCollector(Math.max(wanted, settings.searchBeamWidth()), visitLimit,
                    new KnnSearchStrategy.Hnsw(FILTERED_SEARCH_THRESHOLD));
            HnswGraphSearcher.search(new QueryScorer(unitQuery), collector, builder.getGraph(), accept, acceptedNodes);
            ScoreDoc[] found = collector.topDocs().scoreDocs;
            if (collector.earlyTerminated() || found.length < wanted) {
                // too costly, or the walk got stuck among rejected nodes (a restrictive filter can leave the
                // accepted rows in pieces the walk cannot reach): fewer hits than exist is never an answer
                exactFallbacks++;
                return null;
            }
            graphSearches++;
            return best(found, unitQuery, k);
        } catch (IOException e) {
            throw new UncheckedIOException("HNSW search over the on-heap graph failed", e); // never: no disk
        } finally {
            scoring = null;
        }
    }

    /** Adds the rows appended since the last search or extension to the graph, scoring them on {@code backend}. */
    public synchronized void extend(Backend backend) {
        scoring = Objects.requireNonNull(backend, "backend");
        try {
            extendTo(vectors.rows());
        } catch (IOException e) {
            throw new UncheckedIOException("HNSW insertion into the on-heap graph failed", e); // never: no disk
        } finally {
            scoring = null;
        }
    }

    /**
     * An estimate of the work of {@code walks} graph walks (searches or insertions) over n rows of {@code storage}:
     * a walk visits on the order of {@code beam * 2M} nodes, each a d-dimensional dot product. A model of the
     * algorithm, not a count of what it did.
     *
     * @param beam the walk's beam (the search beam, or the construction beam for insertions)
     * @param hits results written per walk
     */
    public OpCost walkCost(long walks, long n, ElementType storage, int beam, int hits) {
        long visited = Math.min(n, (long) beam * 2 * settings.maxConn());
        long perWalk = OpCosts.tensorBytes(storage, visited, dimension);
        return new OpCost(Math.multiplyExact(walks, perWalk), Math.multiplyExact(walks, 8L * hits),
                Math.multiplyExact(walks, 2 * visited * dimension));
    }

    public HnswSettings settings() {
        return settings;
    }

    /** Forgets the graph (rows were renumbered); the next search rebuilds it. */
    public synchronized void reset() {
        builder = null;
        nodes = 0;
        indexing = 0;
    }

    /** Rows in the graph (0 until the first search). */
    public synchronized int nodes() {
        return nodes;
    }

    public synchronized Counts counts() {
        return new Counts(graphSearches, exactFallbacks);
    }

    private void extendTo(int rows) throws IOException {
        if (rows <= nodes) {
            return;
        }
        indexing = rows;
        if (builder == null) {
            builder = HnswGraphBuilder.create(new RowScorers(), settings.maxConn(), settings.beamWidth(),
                    settings.seed());
        }
        while (nodes < rows) {
            builder.addGraphNode(nodes);
            nodes++; // per node: should an add fail, the graph and the count still agree
        }
    }

    /**
     * Rescores the graph's best candidates as exact cosines and keeps the best {@code k}. The collector holds the
     * search beam's worth of candidates, best first by the graph's similarity, a monotone function of the cosine:
     * the first {@code k}, plus any tied with the k-th, are the ones to rescore (the rest could only come in on a
     * rounding of {@code (1 + cos) / 2}, which the tie rule covers).
     */
    private Hits best(ScoreDoc[] found, float[] unitQuery, int k) {
        float[] scratch = new float[dimension];
        int candidates = Math.min(k, found.length);
        while (candidates < found.length && found[candidates].score == found[candidates - 1].score) {
            candidates++;
        }
        ScoreDoc[] scored = new ScoreDoc[candidates];
        for (int i = 0; i < candidates; i++) {
            int row = found[i].doc;
            scored[i] = new ScoreDoc(row, vectors.cosine(scoring, unitQuery, row, scratch) + 0.0f); // -0.0 ties +0.0
        }
        Arrays.sort(scored, BEST_FIRST);
        int count = Math.min(k, scored.length);
        int[] ids = new int[count];
        float[] scores = new float[count];
        for (int i = 0; i < count; i++) {
            ids[i] = scored[i].doc;
            scores[i] = scored[i].score;
        }
        return new Hits(ids, scores);
    }

    /** {@code query} divided by its norm (a zero query stays zero), by the backend's {@code l2Normalize}. */
    private static float[] unit(Backend backend, float[] query) {
        float[] unit = new float[query.length];
        backend.prepare().l2Normalize(Tensor.wrap(MemorySegment.ofArray(query), ElementType.F32, 1, query.length),
                Tensor.wrap(MemorySegment.ofArray(unit), ElementType.F32, 1, unit.length));
        return unit;
    }

    /** Lucene's DOT_PRODUCT similarity of unit vectors, {@code (1 + cos) / 2}, never negative. */
    private static float similarity(float cosine) {
        return Math.max((1 + cosine) / 2, 0);
    }

    /**
     * Lucene's {@code bulkScore}: the similarities of {@code query} with {@code nodes[0, count)} into
     * {@code scores}, scored together by {@link HnswVectors#graphCosines}; returns the largest.
     */
    private float bulkSimilarities(float[] query, int[] nodes, float[] scores, int count, float[] scratch) {
        vectors.graphCosines(scoring, query, nodes, count, scores, scratch);
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < count; i++) {
            scores[i] = similarity(scores[i]);
            max = Math.max(max, scores[i]);
        }
        return max;
    }

    /** Scores of a query against the graph's rows. */
    private final class QueryScorer implements RandomVectorScorer {
        private final float[] query;
        private final float[] scratch = new float[dimension];

        QueryScorer(float[] query) {
            this.query = query;
        }

        @Override
        public float score(int node) {
            return similarity(vectors.graphCosine(scoring, query, node, scratch));
        }

        @Override
        public float bulkScore(int[] nodes, float[] scores, int count) {
            return bulkSimilarities(query, nodes, scores, count, scratch);
        }

        @Override
        public int maxOrd() {
            return nodes;
        }
    }

    /** Scores between rows, for the builder. */
    private final class RowScorers implements RandomVectorScorerSupplier {
        @Override
        public UpdateableRandomVectorScorer scorer() {
            return new RowScorer();
        }

        @Override
        public RandomVectorScorerSupplier copy() {
            return new RowScorers();
        }
    }

    private final class RowScorer implements UpdateableRandomVectorScorer {
        private final float[] from = new float[dimension];
        private final float[] scratch = new float[dimension];

        @Override
        public void setScoringOrdinal(int node) {
            vectors.readUnit(node, from);
        }

        @Override
        public float score(int node) {
            return similarity(vectors.graphCosine(scoring, from, node, scratch));
        }

        @Override
        public float bulkScore(int[] nodes, float[] scores, int count) {
            return bulkSimilarities(from, nodes, scores, count, scratch);
        }

        @Override
        public int maxOrd() {
            return indexing;
        }
    }
}
