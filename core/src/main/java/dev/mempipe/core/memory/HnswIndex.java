package dev.mempipe.core.memory;

import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import org.apache.lucene.search.KnnCollector;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopKnnCollector;
import org.apache.lucene.util.VectorUtil;
import org.apache.lucene.util.hnsw.HnswGraphBuilder;
import org.apache.lucene.util.hnsw.HnswGraphSearcher;
import org.apache.lucene.util.hnsw.RandomVectorScorer;
import org.apache.lucene.util.hnsw.RandomVectorScorerSupplier;
import org.apache.lucene.util.hnsw.UpdateableRandomVectorScorer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Comparator;

/**
 * A Lucene HNSW graph over the rows of an {@link EmbeddingMemory}, scored straight from the off-heap
 * vectors (decoded row by row into a scratch array). Built on first use and extended with the rows appended
 * since at every search, so a memory that is never searched approximately pays nothing.
 *
 * <p>Thread-safety: all methods are {@code synchronized}. Lucene's {@code OnHeapHnswGraph} keeps a neighbour
 * cursor inside the graph, so even two searches must not run on it at once.
 */
final class HnswIndex {
    private final Tensor vectors; // the memory's whole buffer [capacity, d]
    private final int dimension;
    private final HnswSettings settings;
    private HnswGraphBuilder builder;
    private int nodes;             // rows in the graph
    private int indexing;          // rows the graph is being extended to (the scorers' maxOrd)

    HnswIndex(Tensor vectors, HnswSettings settings) {
        this.vectors = vectors;
        this.dimension = vectors.cols();
        this.settings = settings;
    }

    /**
     * The best {@code k} rows of {@code [0, published)} for a unit-length query, found through the graph.
     * Scores are cosines: the dot product with the query divided by the stored row's norm.
     */
    synchronized Hits search(float[] unitQuery, int k, int published) {
        try {
            extendTo(published);
            if (nodes == 0) {
                return Hits.empty();
            }
            KnnCollector collector = new TopKnnCollector(Math.max(k, settings.searchBeamWidth()), Integer.MAX_VALUE);
            HnswGraphSearcher.search(new QueryScorer(unitQuery), collector, builder.getGraph(), null);
            return best(collector.topDocs().scoreDocs, unitQuery, k);
        } catch (IOException e) {
            throw new UncheckedIOException("HNSW search over on-heap graph failed", e); // never: nothing is read from disk
        }
    }

    /** Rows in the graph. */
    synchronized int nodes() {
        return nodes;
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
        for (int row = nodes; row < published; row++) {
            builder.addGraphNode(row);
        }
        nodes = published;
    }

    private Hits best(ScoreDoc[] found, float[] unitQuery, int k) {
        float[] row = new float[dimension];
        int count = Math.min(k, found.length);
        // rescore exactly as cosines, then order as the contract's topK does: score descending, id ascending
        ScoreDoc[] scored = new ScoreDoc[found.length];
        for (int i = 0; i < found.length; i++) {
            int id = found[i].doc;
            read(id, row);
            float norm = (float) Math.sqrt(VectorUtil.dotProduct(row, row));
            float dot = VectorUtil.dotProduct(unitQuery, row);
            scored[i] = new ScoreDoc(id, norm == 0 ? 0 : dot / norm);
        }
        Arrays.sort(scored, Comparator.comparingDouble((ScoreDoc d) -> -d.score).thenComparingInt(d -> d.doc));
        int[] ids = new int[count];
        float[] scores = new float[count];
        for (int i = 0; i < count; i++) {
            ids[i] = scored[i].doc;
            scores[i] = scored[i].score;
        }
        return new Hits(ids, scores);
    }

    /** Decodes row {@code row} into {@code into}. */
    private void read(int row, float[] into) {
        if (vectors.type() == ElementType.F32) {
            MemorySegment.copy(vectors.data(), ValueLayout.JAVA_FLOAT_UNALIGNED,
                    vectors.offset(row, 0), into, 0, dimension);
        } else {
            for (int c = 0; c < dimension; c++) {
                into[c] = vectors.get(row, c);
            }
        }
    }

    /** Lucene's DOT_PRODUCT similarity for unit vectors: {@code (1 + dot) / 2}, never negative. */
    private static float similarity(float[] a, float[] b) {
        return Math.max((1 + VectorUtil.dotProduct(a, b)) / 2, 0);
    }

    /** Scores of a query against the graph's rows. */
    private final class QueryScorer implements RandomVectorScorer {
        private final float[] query;
        private final float[] row = new float[dimension];

        QueryScorer(float[] query) {
            this.query = query;
        }

        @Override
        public float score(int node) {
            read(node, row);
            return similarity(query, row);
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
        private final float[] other = new float[dimension];

        @Override
        public void setScoringOrdinal(int node) {
            read(node, from);
        }

        @Override
        public float score(int node) {
            read(node, other);
            return similarity(from, other);
        }

        @Override
        public int maxOrd() {
            return indexing;
        }
    }
}
