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

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Comparator;

/**
 * A Lucene HNSW graph over the rows of an {@link EmbeddingMemory}, scored straight from the off-heap
 * vectors (F32 rows in place, other types decoded into a scratch array). Built on first use and extended with the rows appended
 * since at every search, so a memory that is never searched approximately pays nothing.
 *
 * <p>Thread-safety: all methods are {@code synchronized}. Lucene's {@code OnHeapHnswGraph} keeps a neighbour
 * cursor inside the graph, so even two searches must not run on it at once.
 */
final class HnswIndex {
    private static final VectorSpecies<Float> LANES = FloatVector.SPECIES_PREFERRED;

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
        while (nodes < published) {
            builder.addGraphNode(nodes);
            nodes++; // per node: should an add fail, the graph and the count still agree
        }
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
    private static float similarity(float dot) {
        return Math.max((1 + dot) / 2, 0);
    }

    /**
     * {@code <a, row>}. F32 rows are read in place (the graph build scores each row thousands of times, so a
     * copy per score would dominate); other types are decoded into {@code scratch} first.
     */
    private float dot(float[] a, int row, float[] scratch) {
        if (vectors.type() != ElementType.F32) {
            read(row, scratch);
            return VectorUtil.dotProduct(a, scratch);
        }
        MemorySegment data = vectors.data();
        long at = vectors.offset(row, 0);
        int i = 0;
        FloatVector acc = FloatVector.zero(LANES);
        for (int bound = LANES.loopBound(dimension); i < bound; i += LANES.length()) {
            FloatVector x = FloatVector.fromArray(LANES, a, i);
            FloatVector y = FloatVector.fromMemorySegment(LANES, data, at + (long) i * Float.BYTES,
                    ByteOrder.LITTLE_ENDIAN);
            acc = x.fma(y, acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < dimension; i++) {
            sum += a[i] * data.get(ValueLayout.JAVA_FLOAT_UNALIGNED, at + (long) i * Float.BYTES);
        }
        return sum;
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
            return similarity(dot(query, node, row));
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
            return similarity(dot(from, node, other));
        }

        @Override
        public int maxOrd() {
            return indexing;
        }
    }
}
