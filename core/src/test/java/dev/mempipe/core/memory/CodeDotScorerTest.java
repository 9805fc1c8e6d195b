package dev.mempipe.core.memory;

import dev.mempipe.goldentests.ScalarBackend;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Limits;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.PartialBackend;
import org.apache.lucene.util.hnsw.RandomVectorScorer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.util.EnumSet;
import java.util.Random;

import static dev.mempipe.core.memory.MemoryTesting.reproduce;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link CodeDotScorer} (what {@link QuantizedRows#walkScorer} gives for 8-bit and 4-bit codes: Lucene's corrective
 * formula over the backend's {@code codeDotRows}) against its oracle, Lucene's {@code Lucene104ScalarQuantizedVectorScorer}
 * over the same codes: the same score to the bit, one row at a time and in bulk, at awkward dimensions (lane tails, odd
 * dimensions that 4-bit codes pad) and with codes at both ends of their range; on the CPU backend's kernels and on the
 * scalar oracle's plain loop. A backend that does not declare the op walks with Lucene's scorer.
 */
class CodeDotScorerTest {
    private static final int[] DIMENSIONS = {1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 65, 127, 384, 1023};

    @ParameterizedTest
    @EnumSource(value = HnswQuantization.class, names = {"INT8", "INT4"})
    void scores_equal_lucenes_to_the_bit_on_the_cpu_backend(HnswQuantization codes) throws IOException {
        scoresEqualLucenes(codes, MemoryTesting.cpu());
    }

    @ParameterizedTest
    @EnumSource(value = HnswQuantization.class, names = {"INT8", "INT4"})
    void scores_equal_lucenes_to_the_bit_on_the_scalar_oracle(HnswQuantization codes) throws IOException {
        scoresEqualLucenes(codes, new ScalarBackend());
    }

    @ParameterizedTest
    @EnumSource(value = HnswQuantization.class, names = {"INT8", "INT4", "BINARY"})
    void a_backend_without_the_op_and_binary_codes_walk_with_lucenes_scorer(HnswQuantization codes)
            throws IOException {
        int d = 33;
        Vectors rows = new Vectors(d);
        Random random = new Random(7);
        for (int r = 0; r < 5; r++) {
            rows.rows[r] = MemoryTesting.gaussian(random, d);
        }
        rows.count = 5;
        QuantizedRows quantized = new QuantizedRows(codes.encoding(), d);
        quantized.extendTo(rows, 5);
        Backend withoutOp = new PartialBackend("no-code-dots", Capabilities.builder()
                .op(Op.DOT_ROWS, EnumSet.allOf(ElementType.class), Capabilities.FLOAT_TYPES, Limits.NONE).build()) {
        };
        RandomVectorScorer scorer = quantized.walkScorer(withoutOp, unit(rows.rows[1]));
        assertFalse(scorer instanceof CodeDotScorer, codes + " without codeDotRows: Lucene's scorer");
        RandomVectorScorer withOp = quantized.walkScorer(MemoryTesting.cpu(), unit(rows.rows[1]));
        assertEquals(codes != HnswQuantization.BINARY, withOp instanceof CodeDotScorer,
                codes + " with codeDotRows: the op for 8-bit and 4-bit codes only");
    }

    private void scoresEqualLucenes(HnswQuantization codes, Backend backend) throws IOException {
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
                RandomVectorScorer fast = quantized.walkScorer(backend, query);
                RandomVectorScorer lucene = quantized.luceneScorer(query);
                assertTrue(fast instanceof CodeDotScorer, codes + " takes the op's path on " + backend.name());
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
