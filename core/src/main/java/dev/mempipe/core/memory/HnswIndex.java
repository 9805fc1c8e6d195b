package dev.mempipe.core.memory;

import dev.mempipe.core.profile.OpCost;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TaskExecutor;
import org.apache.lucene.search.TopKnnCollector;
import org.apache.lucene.search.knn.KnnSearchStrategy;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.FixedBitSet;
import org.apache.lucene.util.hnsw.HnswConcurrentMergeBuilder;
import org.apache.lucene.util.hnsw.HnswGraph;
import org.apache.lucene.util.hnsw.HnswGraphBuilder;
import org.apache.lucene.util.hnsw.HnswGraphSearcher;
import org.apache.lucene.util.hnsw.NeighborArray;
import org.apache.lucene.util.hnsw.NeighborQueue;
import org.apache.lucene.util.hnsw.OnHeapHnswGraph;
import org.apache.lucene.util.hnsw.RandomVectorScorer;
import org.apache.lucene.util.hnsw.RandomVectorScorerSupplier;
import org.apache.lucene.util.hnsw.UpdateableRandomVectorScorer;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A Lucene HNSW graph over {@link HnswVectors}, for approximate cosine search: {@link EmbeddingMemory}'s
 * {@code searchApproximate} and the LangChain4j store's approximate mode. The graph is scored straight from where
 * the vectors live (off-heap), with Lucene's DOT_PRODUCT similarity {@code (1 + cos) / 2}; hits carry the exact
 * cosines of {@link HnswVectors#graphScorer}.
 *
 * <p><b>Building.</b> The owner calls {@link #extend} when it adds rows (the store on add, {@link EmbeddingMemory} on
 * append): a search never builds. An extension by at least {@link #PARALLEL_MIN_ROWS} rows runs Lucene's
 * {@code HnswConcurrentMergeBuilder} with {@link HnswSettings#resolvedBuildThreads()} workers over a graph sized
 * for every row; a smaller one inserts its rows one by one on the calling thread (Lucene's {@code HnswGraphBuilder}).
 * Moving between the two copies the graph's links into a graph of the other kind (Lucene's concurrent builder needs a
 * graph of fixed size, its one-by-one builder a growable one). Rows a caller no longer wants (a store's removed
 * entries) stay in the graph as routing nodes and are kept out of results by the search's accept bits; when rows
 * are renumbered (a compaction), {@link #reset()} forgets the graph and the owner extends it again.
 *
 * <p><b>Searching.</b> When the graph does not cover every row of {@link HnswVectors#rows()} (rows appended and not
 * yet extended, or an extension in progress on another thread) {@link #search} returns null and the caller answers
 * exactly: it never waits for a build. Filters are applied <em>during</em> the graph search: the accept bits go to
 * Lucene's searcher, which collects only accepted nodes (and, below {@link #FILTERED_SEARCH_THRESHOLD}% accepted,
 * switches to its ACORN-style filtered searcher that explores through accepted neighbours). As in Lucene's own
 * {@code KnnFloatVectorQuery}, a filtered search may visit at most as many nodes as the filter accepts, which is what
 * an exact scan of the accepted rows would cost; when it would visit more it stops and {@link #search} returns null,
 * and the caller answers exactly instead. The same happens when the walk returns fewer hits than
 * {@code min(k, accepted)}: it got stuck among rejected nodes (or, without a filter, the graph left rows
 * unreachable). A restrictive filter therefore costs at most about one scan and never returns fewer matches than
 * exist.
 *
 * <p><b>Quantized walks.</b> With {@link HnswSettings#quantization()} other than NONE the index also keeps Lucene's
 * quantized codes of the rows ({@code QuantizedRows}, extended with the graph) and a search walks the graph with
 * the scores of Lucene's {@code Lucene104ScalarQuantizedVectorScorer} over them (for 8-bit and 4-bit codes with the
 * codes' integer dot products from the backend's {@code codeDotRows}, read in place: the same scores to the bit); the
 * beam's candidates are then rescored with the rows' exact cosines, in one call. The graph is built from the rows
 * either way.
 *
 * <p>Scoring runs on the backend a search (or {@link #extend}) is given: the caller opens one engine step for the
 * whole walk (a walk scores a few dozen rows at a time, thousands of times: one step per score would cost more
 * than the scores) and passes the backend the engine chose for it.
 *
 * <p>Thread-safety: safe for concurrent use. Searches run in parallel with one another (each walks the graph with a
 * neighbour cursor of its own, under a read lock); {@link #extend} and {@link #reset} take the write lock, and a
 * search that finds it taken returns null (answer exactly) instead of waiting. The rows themselves are the owner's
 * to keep still while a search or an extension reads them ({@link HnswVectors}).
 */
public final class HnswIndex {
    /** Accepted share (percent) below which Lucene's filtered searcher is used; Lucene's own default for queries. */
    public static final int FILTERED_SEARCH_THRESHOLD = 60;

    /**
     * New rows from which an extension runs on several threads: Lucene's concurrent builder hands its workers 2048
     * rows at a time, so a smaller batch would keep one worker busy and the others idle.
     */
    public static final int PARALLEL_MIN_ROWS = 4096;

    /** Best first: score descending, then the lower row (the order of the contract's {@code topK}). */
    private static final Comparator<ScoreDoc> BEST_FIRST =
            Comparator.comparingDouble((ScoreDoc d) -> -d.score).thenComparingInt(d -> d.doc);

    private final HnswVectors vectors;
    private final int dimension;
    private final HnswSettings settings;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final LongAdder graphSearches = new LongAdder();
    private final LongAdder exactFallbacks = new LongAdder();
    // guarded by lock: written under the write lock only
    private final QuantizedRows quantized; // the codes the search walks with, or null (HnswQuantization.NONE)
    private OnHeapHnswGraph graph;   // null until the first extension
    private HnswGraphBuilder serial; // the one-by-one builder of a growable graph, or null when graph is of fixed size
    private Backend scoring;         // the backend of the extension in progress
    private long extensions;         // extensions begun: a builder's scorers set up again for each
    private int nodes;               // rows in the graph
    private int indexing;            // rows the graph is being extended to (the build scorers' maxOrd)

    /** Searches answered through the graph, and searches that returned null for an exact scan instead. */
    public record Counts(long graphSearches, long exactFallbacks) {
    }

    public HnswIndex(HnswVectors vectors, HnswSettings settings) {
        this.vectors = Objects.requireNonNull(vectors, "vectors");
        this.dimension = vectors.dimension();
        this.settings = Objects.requireNonNull(settings, "settings");
        this.quantized = settings.quantization() == HnswQuantization.NONE ? null
                : new QuantizedRows(settings.quantization().encoding(), dimension);
    }

    /** {@link #search(Backend, float[], int, Bits, int)} over every row. */
    public Hits search(Backend backend, float[] query, int k) {
        return search(backend, query, k, null, 0);
    }

    /**
     * The best {@code min(k, accepted)} accepted rows by cosine with {@code query}, found through the graph, best
     * first with exact cosines, ties by lower row; or null when the caller should scan the accepted rows exactly
     * (the graph does not cover every row, an extension is in progress, or see the class comment).
     *
     * @param backend   scores the rows (the engine's choice for the step that runs this search)
     * @param query     {@code d} floats, any length (normalized here with the backend's {@code l2Normalize})
     * @param k         {@code >= 1}
     * @param accept    rows that may be returned (covering every row), or null for every row
     * @param accepted  how many rows {@code accept} lets through; ignored when it is null
     */
    public Hits search(Backend backend, float[] query, int k, Bits accept, int accepted) {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(query, "query");
        if (query.length != dimension) {
            throw new IllegalArgumentException("query has " + query.length + " elements, the vectors " + dimension);
        }
        MemoryArgs.k(k);
        if (accept != null && accepted < 0) {
            throw new IllegalArgumentException("accepted must be >= 0, got " + accepted);
        }
        int rows = vectors.rows();
        if (accept != null && accept.length() < rows) {
            throw new IllegalArgumentException("accept covers " + accept.length() + " rows, the graph " + rows);
        }
        Lock read = lock.readLock();
        if (!read.tryLock()) {
            exactFallbacks.increment(); // an extension is rewriting the graph: the exact scan answers meanwhile
            return null;
        }
        try {
            if (nodes < rows) {
                exactFallbacks.increment(); // rows the graph does not hold yet: only the exact scan sees them
                return null;
            }
            int acceptedNodes = accept == null ? nodes : Math.min(accepted, nodes);
            if (acceptedNodes == 0) {
                return Hits.empty();
            }
            float[] unitQuery = unit(backend, query);
            int visitLimit = accept == null ? Integer.MAX_VALUE : accepted;
            int wanted = Math.min(k, acceptedNodes); // the collector sizes its queue by k: never beyond what exists
            TopKnnCollector collector = new TopKnnCollector(Math.max(wanted, settings.searchBeamWidth()), visitLimit,
                    new KnnSearchStrategy.Hnsw(FILTERED_SEARCH_THRESHOLD));
            HnswVectors.GraphScorer cosines = vectors.graphScorer(backend, unitQuery); // one set-up per search
            RandomVectorScorer scorer = quantized == null ? new QueryScorer(cosines, nodes)
                    : quantized.walkScorer(backend, unitQuery);
            if (accept == null) {
                // Lucene's entry point would track the visited nodes in a SparseFixedBitSet (it expects to visit
                // few of 100k nodes), whose getAndSet was 5-8% of a walk (session 6): a plain bit set of the graph's
                // nodes costs one zeroed allocation of nodes / 8 bytes and a word per visit
                new HnswGraphSearcher(new NeighborQueue(collector.k(), true), new FixedBitSet(nodes))
                        .search(collector, scorer, new GraphView(graph), null);
            } else {
                HnswGraphSearcher.search(scorer, collector, new GraphView(graph), accept, acceptedNodes);
            }
            ScoreDoc[] found = collector.topDocs().scoreDocs;
            if (collector.earlyTerminated() || found.length < wanted) {
                // too costly, or the walk got stuck among rejected nodes (a restrictive filter can leave the
                // accepted rows in pieces the walk cannot reach): fewer hits than exist is never an answer
                exactFallbacks.increment();
                return null;
            }
            graphSearches.increment();
            return best(cosines, found, k);
        } catch (IOException e) {
            throw new UncheckedIOException("HNSW search over the on-heap graph failed", e); // never: no disk
        } finally {
            read.unlock();
        }
    }

    /**
     * Adds the rows appended since the last extension to the graph, scoring them on {@code backend}: on
     * {@link HnswSettings#resolvedBuildThreads()} threads for at least {@link #PARALLEL_MIN_ROWS} new rows, else on
     * the calling thread. Searches meanwhile return null (answer exactly).
     */
    public void extend(Backend backend) {
        Objects.requireNonNull(backend, "backend");
        Lock write = lock.writeLock();
        write.lock();
        scoring = backend;
        extensions++;
        try {
            extendTo(vectors.rows());
        } catch (IOException e) {
            throw new UncheckedIOException("HNSW insertion into the on-heap graph failed", e); // never: no disk
        } finally {
            scoring = null;
            write.unlock();
        }
    }

    /**
     * A second index over the same vectors, holding a copy of this graph (links and all: no graph build) and walked
     * with {@code codes}, which it quantizes now: to compare quantizations on one graph, or to change the walk of an
     * index without building its graph again. The two indexes are independent from then on. Waits for an extension
     * in progress.
     */
    public HnswIndex withQuantization(HnswQuantization codes) {
        HnswIndex copy = new HnswIndex(vectors, settings.withQuantization(Objects.requireNonNull(codes, "codes")));
        Lock read = lock.readLock();
        read.lock();
        try {
            if (graph != null) {
                copy.serial = HnswGraphBuilder.create(copy.new RowScorers(), settings.maxConn(), settings.beamWidth(),
                        settings.seed() + nodes);
                copyLinks(graph, nodes, copy.serial.getGraph());
                copy.graph = copy.serial.getGraph();
                copy.nodes = nodes;
                copy.indexing = nodes;
                if (copy.quantized != null) {
                    copy.quantized.extendTo(vectors, nodes);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("HNSW graph copy failed", e); // never: no disk
        } finally {
            read.unlock();
        }
        return copy;
    }

    /**
     * Heap bytes of the graph (Lucene's estimate of its links) and of the quantized codes, if any: what the index
     * holds beside the rows, which belong to its owner. Waits for an extension in progress.
     */
    public long ramBytesUsed() {
        Lock read = lock.readLock();
        read.lock();
        try {
            return (graph == null ? 0 : graph.ramBytesUsed()) + (quantized == null ? 0 : quantized.bytes());
        } finally {
            read.unlock();
        }
    }

    /**
     * An estimate of the work of {@code walks} graph walks (searches or insertions) over n rows of {@code storage}:
     * a walk visits on the order of {@code beam * 2M} nodes, each a d-dimensional dot product. A model of the
     * algorithm, not a count of what it did.
     *
     * @param beam the walk's beam (the search beam, or the construction beam for insertions); searches take
     *             {@link #searchCost}, which knows the quantized walk
     * @param hits results written per walk
     */
    public OpCost walkCost(long walks, long n, ElementType storage, int beam, int hits) {
        long visited = Math.min(n, (long) beam * 2 * settings.maxConn());
        long perWalk = OpCosts.tensorBytes(storage, visited, dimension);
        return new OpCost(Math.multiplyExact(walks, perWalk), Math.multiplyExact(walks, 8L * hits),
                Math.multiplyExact(walks, 2 * visited * dimension));
    }

    /**
     * {@link #walkCost} of {@code walks} searches: with quantized codes ({@link HnswSettings#quantization}) a visited
     * node reads its record of codes and corrective terms instead of its row, and the beam's candidates are then
     * rescored against their rows. A model of the algorithm, as {@link #walkCost}.
     */
    public OpCost searchCost(long walks, long n, ElementType storage, int beam, int hits) {
        if (quantized == null) {
            return walkCost(walks, n, storage, beam, hits);
        }
        long visited = Math.min(n, (long) beam * 2 * settings.maxConn());
        long rescored = Math.min(n, beam);
        long perWalk = Math.addExact(Math.multiplyExact(visited, quantized.recordBytes()),
                OpCosts.tensorBytes(storage, rescored, dimension));
        return new OpCost(Math.multiplyExact(walks, perWalk), Math.multiplyExact(walks, 8L * hits),
                Math.multiplyExact(walks, 2 * (visited + rescored) * dimension));
    }

    public HnswSettings settings() {
        return settings;
    }

    /** Forgets the graph (rows were renumbered); the owner extends it again. */
    public void reset() {
        Lock write = lock.writeLock();
        write.lock();
        try {
            graph = null;
            serial = null;
            nodes = 0;
            indexing = 0;
            if (quantized != null) {
                quantized.clear();
            }
        } finally {
            write.unlock();
        }
    }

    /** Rows in the graph (0 until the first extension); waits for an extension in progress. */
    public int nodes() {
        Lock read = lock.readLock();
        read.lock();
        try {
            return nodes;
        } finally {
            read.unlock();
        }
    }

    public Counts counts() {
        return new Counts(graphSearches.sum(), exactFallbacks.sum());
    }

    private void extendTo(int rows) throws IOException {
        if (rows <= nodes) {
            return;
        }
        indexing = rows;
        if (quantized != null) {
            quantized.extendTo(vectors, rows); // first: a failure leaves the graph as it was, the codes ahead of it
        }
        int threads = settings.resolvedBuildThreads();
        if (threads > 1 && rows - nodes >= PARALLEL_MIN_ROWS) {
            insertConcurrently(rows, threads);
            return;
        }
        if (serial == null) {
            // a growable graph holding the links built so far (none on the first extension); levels drawn from a
            // seed of its own per starting size, so that a rebuilt builder does not repeat the levels it drew
            serial = HnswGraphBuilder.create(new RowScorers(), settings.maxConn(), settings.beamWidth(),
                    settings.seed() + nodes);
            if (graph != null) {
                copyLinks(graph, nodes, serial.getGraph());
            }
            graph = serial.getGraph();
        }
        while (nodes < rows) {
            serial.addGraphNode(nodes);
            nodes++; // per node: should an add fail, the graph and the count still agree
        }
    }

    /**
     * Lucene's {@code HnswConcurrentMergeBuilder} over a graph of exactly {@code rows} nodes: the links built so far
     * are copied in and marked as initialized, and the workers insert the rest, taking 2048 rows at a time.
     */
    private void insertConcurrently(int rows, int threads) throws IOException {
        OnHeapHnswGraph sized = HnswGraphBuilder.create(new RowScorers(), settings.maxConn(), settings.beamWidth(),
                settings.seed(), rows).getGraph();
        FixedBitSet initialized = new FixedBitSet(rows);
        if (graph != null && nodes > 0) {
            copyLinks(graph, nodes, sized);
            initialized.set(0, nodes);
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads, Thread.ofPlatform().daemon()
                .name("mempipe-hnsw-build-", 0).factory());
        try {
            new HnswConcurrentMergeBuilder(new TaskExecutor(pool), threads, new RowScorers(), settings.maxConn(),
                    settings.beamWidth(), sized, initialized).build(rows);
        } finally {
            pool.shutdown();
        }
        graph = sized;
        serial = null; // a graph of fixed size: the next one-by-one extension copies it into a growable one
        nodes = rows;
    }

    /**
     * Copies nodes {@code [0, count)} of {@code from}, their levels, links and link scores, into the empty graph
     * {@code to}, and its entry node. Each link list is copied in its order: the descending prefix as Lucene's sorted
     * part, the rest as its unsorted tail (what {@code NeighborArray} holds after out-of-order insertions).
     */
    private static void copyLinks(OnHeapHnswGraph from, int count, OnHeapHnswGraph to) {
        int levels = from.numLevels();
        for (int node = 0; node < count; node++) {
            int top = 0;
            while (top + 1 < levels && from.nodeExistAtLevel(top + 1, node)) {
                top++;
            }
            for (int level = top; level >= 0; level--) { // Lucene's rule: a node is added from its top level down
                to.addNode(level, node);
            }
            for (int level = 0; level <= top; level++) {
                NeighborArray source = from.getNeighbors(level, node);
                NeighborArray target = to.getNeighbors(level, node);
                int[] linked = source.nodes();
                boolean inOrder = true;
                for (int i = 0; i < source.size(); i++) {
                    float score = source.getScores(i);
                    inOrder &= i == 0 || score <= source.getScores(i - 1);
                    if (inOrder) {
                        target.addInOrder(linked[i], score);
                    } else {
                        target.addOutOfOrder(linked[i], score);
                    }
                }
            }
        }
        if (count > 0) {
            to.trySetNewEntryNode(from.entryNode(), levels - 1);
        }
    }

    /**
     * Rescores the graph's best candidates as exact cosines and keeps the best {@code k}. The collector holds the
     * search beam's worth of candidates, best first by the walk's similarity. Walked with the rows, that is a monotone
     * function of the cosine: the first {@code k}, plus any tied with the k-th, are the ones to rescore (the rest
     * could only come in on a rounding of {@code (1 + cos) / 2}, which the tie rule covers). Walked with quantized
     * codes, it is an estimate: every candidate is rescored (Lucene's rescoring of an oversampled quantized search).
     */
    private Hits best(HnswVectors.GraphScorer cosines, ScoreDoc[] found, int k) {
        int candidates = quantized != null ? found.length : Math.min(k, found.length);
        while (candidates < found.length && found[candidates].score == found[candidates - 1].score) {
            candidates++;
        }
        int[] rows = new int[candidates];
        for (int i = 0; i < candidates; i++) {
            rows[i] = found[i].doc;
        }
        float[] exact = new float[candidates];
        cosines.cosines(rows, candidates, exact); // one call: the rows' cache misses overlap
        ScoreDoc[] scored = new ScoreDoc[candidates];
        for (int i = 0; i < candidates; i++) {
            scored[i] = new ScoreDoc(rows[i], exact[i] + 0.0f); // -0.0 ties +0.0
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
     * Lucene's {@code bulkScore}: the similarities of the scorer's query with {@code nodes[0, count)} into
     * {@code scores}, scored together by {@link HnswVectors.GraphScorer#cosines}; returns the largest.
     */
    private static float bulkSimilarities(HnswVectors.GraphScorer cosines, int[] nodes, float[] scores, int count) {
        cosines.cosines(nodes, count, scores);
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < count; i++) {
            scores[i] = similarity(scores[i]);
            max = Math.max(max, scores[i]);
        }
        return max;
    }

    /**
     * The graph as one search sees it: Lucene's on-heap graph keeps a single neighbour cursor inside itself, so each
     * search walks it through a view with a cursor of its own. Read-only, and only while no extension runs.
     */
    private static final class GraphView extends HnswGraph {
        private final OnHeapHnswGraph graph;
        private NeighborArray current;
        private int next;

        GraphView(OnHeapHnswGraph graph) {
            this.graph = graph;
        }

        @Override
        public void seek(int level, int target) {
            current = graph.getNeighbors(level, target);
            next = 0;
        }

        @Override
        public int nextNeighbor() {
            return next < current.size() ? current.nodes()[next++] : DocIdSetIterator.NO_MORE_DOCS;
        }

        @Override
        public int neighborCount() {
            return current.size();
        }

        @Override
        public int size() {
            return graph.size();
        }

        @Override
        public int maxNodeId() {
            return graph.maxNodeId();
        }

        @Override
        public int numLevels() {
            return graph.numLevels();
        }

        @Override
        public int maxConn() {
            return graph.maxConn();
        }

        @Override
        public int entryNode() {
            return graph.entryNode();
        }

        @Override
        public NodesIterator getNodesOnLevel(int level) {
            synchronized (graph) { // the graph caches its upper levels' node lists on the first call
                return graph.getNodesOnLevel(level);
            }
        }
    }

    /** Scores of a query against the graph's rows. */
    private static final class QueryScorer implements RandomVectorScorer {
        private final HnswVectors.GraphScorer cosines;
        private final int maxOrd;

        QueryScorer(HnswVectors.GraphScorer cosines, int maxOrd) {
            this.cosines = cosines;
            this.maxOrd = maxOrd;
        }

        @Override
        public float score(int node) {
            return similarity(cosines.cosine(node));
        }

        @Override
        public float bulkScore(int[] nodes, float[] scores, int count) {
            return bulkSimilarities(cosines, nodes, scores, count);
        }

        @Override
        public int maxOrd() {
            return maxOrd;
        }
    }

    /** Scores between rows, for the builders (one copy per worker: each scorer has scratch of its own). */
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

    /**
     * Reads {@link #scoring}, {@link #indexing} and {@link #extensions}, set under the write lock before the builders
     * start. Sets up its graph scorer once per extension (the rows may have moved since the last one, and the
     * backend may differ), not once per score: a build scores millions of times.
     */
    private final class RowScorer implements UpdateableRandomVectorScorer {
        private final float[] from = new float[dimension];
        private HnswVectors.GraphScorer cosines; // of `from`, for the extension numbered preparedFor
        private long preparedFor = -1;

        @Override
        public void setScoringOrdinal(int node) {
            vectors.readUnit(node, from);
        }

        @Override
        public float score(int node) {
            return similarity(cosines().cosine(node));
        }

        @Override
        public float bulkScore(int[] nodes, float[] scores, int count) {
            return bulkSimilarities(cosines(), nodes, scores, count);
        }

        @Override
        public int maxOrd() {
            return indexing;
        }

        private HnswVectors.GraphScorer cosines() {
            if (preparedFor != extensions) {
                cosines = vectors.graphScorer(scoring, from);
                preparedFor = extensions;
            }
            return cosines;
        }
    }
}
