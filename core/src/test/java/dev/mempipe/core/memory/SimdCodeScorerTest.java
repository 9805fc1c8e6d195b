package dev.mempipe.core.memory;

import dev.mempipe.spi.Backend;
import org.apache.lucene.util.hnsw.RandomVectorScorer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.util.Random;

import static dev.mempipe.core.memory.MemoryTesting.reproduce;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SimdCodeScorer} (what {@link QuantizedRows#walkScorer} gives for 8-bit and 4-bit codes) against its oracle,
 * Lucene's {@code Lucene104ScalarQuantizedVectorScorer} over the same codes: the same score to the bit, one row at a
 * time and in bulk, at awkward dimensions (lane tails, odd dimensions that 4-bit codes pad) and with codes at both
 * ends of their range.
 */
class SimdCodeScorerTest {
    private static final int[] DIMENSIONS = {1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 65, 127, 384, 1023};

    @ParameterizedTest
    @EnumSource(value = HnswQuantization.class, names = {"INT8", "INT4"})
    void scores_equal_lucenes_to_the_bit(HnswQuantization codes) throws IOException {
        long seed = MemoryTesting.seed();
        Random random = new Random(seed);
        for (int d : DIMENSIONS) {
            int n = 1 + random.nextInt(60 * MemoryTesting.SCALE);
            Vectors rows = new Vectors(d);
            for (int r = 0; r < n; r++) {
                // some rows of one repeated value: their codes sit at the ends of the range
                rows.rows[r] = r % 7 == 3 ? constant(d, random.nextBoolean() ? 1 : -1) : MemoryTesting.gaussian(random, d);
            }
            rows.count = n;
            QuantizedRows quantized = new QuantizedRows(codes.encoding(), d);
            quantized.extendTo(rows, n);
            for (int q = 0; q < 5; q++) {
                float[] query = unit(q == 0 ? rows.rows[0] : MemoryTesting.gaussian(random, d));
                RandomVectorScorer fast = quantized.walkScorer(query);
                RandomVectorScorer lucene = quantized.luceneScorer(query);
                assertTrue(fast instanceof SimdCodeScorer, codes + " takes the fast path");
                assertEquals(lucene.maxOrd(), fast.maxOrd());
                int[] nodes = new int[n];
                for (int i = 0; i < n; i++) {
                    nodes[i] = random.nextInt(n);
                }
                float[] bulk = new float[n];
                float max = fast.bulkScore(nodes, bulk, n);
                float expectedMax = Float.NEGATIVE_INFINITY;
                for (int i = 0; i < n; i++) {
                    String where = codes + " d " + d + " query " + q + " row " + nodes[i] + " " + reproduce(seed,
                            getClass());
                    float expected = lucene.score(nodes[i]);
                    assertEquals(expected, fast.score(nodes[i]), 0f, where);
                    assertEquals(expected, bulk[i], 0f, "bulk: " + where);
                    expectedMax = Math.max(expectedMax, expected);
                }
                assertEquals(expectedMax, max, 0f, codes + " d " + d + ": bulkScore returns the largest");
            }
        }
    }

    private static float[] constant(int d, float value) {
        float[] v = new float[d];
        java.util.Arrays.fill(v, value);
        return v;
    }

    private static float[] unit(float[] v) {
        double s = 0;
        for (float x : v) {
            s += (double) x * x;
        }
        float[] out = v.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (out[i] / Math.sqrt(s));
        }
        return out;
    }

    /** Rows as given; {@link #readUnit} scales them to unit length, as the index's vectors do. */
    private static final class Vectors implements HnswVectors {
        final float[][] rows = new float[64 * MemoryTesting.SCALE][];
        final int dimension;
        int count;

        Vectors(int dimension) {
            this.dimension = dimension;
        }

        @Override
        public int rows() {
            return count;
        }

        @Override
        public int dimension() {
            return dimension;
        }

        @Override
        public void readUnit(int row, float[] into) {
            System.arraycopy(unit(rows[row]), 0, into, 0, dimension);
        }

        @Override
        public GraphScorer graphScorer(Backend backend, float[] unitQuery) {
            throw new UnsupportedOperationException("codes only");
        }
    }
}
