package dev.mempipe.langchain4j;

import dev.mempipe.core.memory.HnswSettings;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopKnnCollector;
import org.apache.lucene.search.knn.KnnSearchStrategy;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.VectorUtil;
import org.apache.lucene.util.hnsw.HnswGraphBuilder;
import org.apache.lucene.util.hnsw.HnswGraphSearcher;
import org.apache.lucene.util.hnsw.RandomVectorScorer;
import org.apache.lucene.util.hnsw.RandomVectorScorerSupplier;
import org.apache.lucene.util.hnsw.UpdateableRandomVectorScorer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A Lucene HNSW graph over the store's rows, for approximate search. Scores are read from the off-heap rows
 * (decoded per comparison), the similarity is Lucene's {@code (1 + cos) / 2}.
 *
 * <p>The graph is built lazily: the first approximate search builds it, later searches first add the rows appended
 * since. Removed rows stay in the graph as routing nodes and are kept out of results by the search's accept bits;
 * a compaction renumbers rows, so the store then {@link #reset() resets} the graph and the next search rebuilds it.
 *
 * <p>Filters are applied <em>during</em> the graph search: the accept bits (live and matching the filter) go to
 * Lucene's searcher, which collects only accepted nodes (and, below {@link #FILTERED_SEARCH_THRESHOLD}% accepted,
 * switches to its ACORN-style filtered searcher that explores through accepted neighbours). As in Lucene's own
 * {@code KnnFloatVectorQuery}, a filtered search may visit at most as many nodes as the filter accepts, which is
 * what an exact scan of the accepted rows would cost; when it would visit more it stops and {@link #search} returns
 * null, and the store answers exactly instead. The same happens when the walk returns fewer hits than
 * {@code min(k, accepted)}: it got stuck among rejected nodes. A restrictive filter therefore costs at most about one
 * scan and never returns fewer matches than exist.
 *
 * <p>Thread-safety: methods are {@code synchronized}; Lucene's on-heap graph keeps a neighbour cursor inside the
 * graph, so two searches must not walk it at once. The store calls it under its read lock (rows cannot change).
 */
final class GraphIndex {
    /** Accepted share (percent) below which Lucene's filtered searcher is used; Lucene's own default for queries. */
    static final int FILTERED_SEARCH_THRESHOLD = 60;

    private final StoredRows rows;
    private final HnswSettings settings;
    private HnswGraphBuilder builder;
    private int nodes;    // rows in the graph
    private int indexing; // rows the graph is being extended to (the scorers' maxOrd)
    private long graphSearches;
    private long exactFallbacks;

    GraphIndex(StoredRows rows, HnswSettings settings) {
        this.rows = rows;
        this.settings = settings;
    }

    /**
     * The best {@code k} accepted rows for a unit-length query, found through the graph, best first with exact
     * cosines; or null when a filtered search would cost more than scanning the accepted rows.
     *
     * @param accept   rows that may be returned, or null for every row
     * @param accepted how many rows {@code accept} lets through (the rows' count when it is null)
     */
    synchronized List<RowHit> search(float[] unitQuery, int k, Bits accept, int accepted) {
        try {
            extendTo(rows.rows());
            if (nodes == 0 || accepted == 0) {
                return List.of();
            }
            int visitLimit = accept == null ? Integer.MAX_VALUE : accepted;
            int wanted = Math.min(k, accepted); // the collector sizes its queue by k: never beyond what exists
            TopKnnCollector collector = new TopKnnCollector(Math.max(wanted, settings.searchBeamWidth()), visitLimit,
                    new KnnSearchStrategy.Hnsw(FILTERED_SEARCH_THRESHOLD));
            HnswGraphSearcher.search(new QueryScorer(unitQuery), collector, builder.getGraph(), accept,
                    accept == null ? nodes : Math.min(accepted, nodes));
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
        }
    }

    /** Forgets the graph (rows were renumbered); the next search rebuilds it. */
    synchronized void reset() {
        builder = null;
        nodes = 0;
        indexing = 0;
    }

    /** Rows in the graph (0 until the first approximate search). */
    synchronized int nodes() {
        return nodes;
    }

    /** Searches answered through the graph, and searches that fell back to an exact scan. */
    synchronized long[] counters() {
        return new long[] {graphSearches, exactFallbacks};
    }

    private void extendTo(int published) throws IOException {
        if (published <= nodes) {
            return;
        }
        indexing = published;
        if (builder == null) {
            builder = HnswGraphBuilder.create(new RowScorers(), settings.maxConn(), settings.beamWidth(),
                    settings.seed());
        }
        while (nodes < published) {
            builder.addGraphNode(nodes);
            nodes++; // per node: should an add fail, the graph and the count still agree
        }
    }

    private List<RowHit> best(ScoreDoc[] found, float[] unitQuery, int k) {
        float[] row = new float[rows.dimension()];
        List<RowHit> hits = new ArrayList<>(found.length);
        for (ScoreDoc doc : found) {
            hits.add(new RowHit(doc.doc, cosine(unitQuery, doc.doc, row)));
        }
        hits.sort(RowHit.BEST_FIRST);
        return hits.size() > k ? new ArrayList<>(hits.subList(0, k)) : hits;
    }

    /** The cosine of a unit vector with stored row {@code row}, decoded into {@code scratch}. */
    private float cosine(float[] unit, int row, float[] scratch) {
        rows.read(row, scratch);
        return Math.clamp(VectorUtil.dotProduct(unit, scratch) * rows.inverseNorm(row), -1f, 1f);
    }

    /** Lucene's DOT_PRODUCT similarity of unit vectors, {@code (1 + cos) / 2}, never negative. */
    private static float similarity(float cosine) {
        return Math.max((1 + cosine) / 2, 0);
    }

    /** Scores of a query against the graph's rows. */
    private final class QueryScorer implements RandomVectorScorer {
        private final float[] query;
        private final float[] row = new float[rows.dimension()];

        QueryScorer(float[] query) {
            this.query = query;
        }

        @Override
        public float score(int node) {
            return similarity(cosine(query, node, row));
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
        private final float[] from = new float[rows.dimension()];
        private final float[] other = new float[rows.dimension()];

        @Override
        public void setScoringOrdinal(int node) {
            rows.read(node, from);
            float inverseNorm = rows.inverseNorm(node);
            for (int i = 0; i < from.length; i++) {
                from[i] *= inverseNorm; // unit length, so that cosine() applies
            }
        }

        @Override
        public float score(int node) {
            return similarity(cosine(from, node, other));
        }

        @Override
        public int maxOrd() {
            return indexing;
        }
    }
}
