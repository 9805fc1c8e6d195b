package dev.mempipe.core.memory;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.mempipe.core.memory.MemoryTesting.reproduce;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link EmbeddingRows}' graph scoring: the cosine of the stored row (decoded, in double) for every storage type, and
 * a graph scorer's batched {@code cosines} giving what one {@code cosine} call per row gives, up to the last bits of
 * the final lane sum, over reused and swapped arrays, sets larger than the scorer's buffers and a query rewritten in
 * place; F32 rows come back bit for bit.
 */
class EmbeddingRowsTest {
    /** Small sets, a node's 32 neighbours, and sets beyond the scorer's first 64-row buffers (which then grow). */
    private static final int[] COUNTS = {0, 1, 2, 3, 4, 5, 7, 8, 9, 11, 32, 65, 100, 64, 3};

    private final long seed = MemoryTesting.seed();
    private final Random random = new Random(seed);

    @Test
    void should_score_rows_in_bulk_as_one_by_one_and_as_the_exact_cosine_for_every_storage_type() {
        Backend cpu = MemoryTesting.cpu();
        Engine engine = MemoryTesting.engine(cpu);
        for (ElementType type : new ElementType[] {ElementType.F32, ElementType.BF16, ElementType.I8}) {
            for (int d : new int[] {1, 15, 16, 17, 384, 391}) {
                String where = type + " d=" + d + " " + reproduce(seed, getClass());
                try (EmbeddingRows rows = EmbeddingRows.growable(engine, type, d)) {
                    float[][] raw = new float[50][d];
                    for (float[] row : raw) {
                        for (int i = 0; i < d; i++) {
                            row[i] = (float) random.nextGaussian() * (1 + random.nextInt(4));
                        }
                    }
                    rows.append(raw);
                    if (type == ElementType.F32) {
                        for (int r = 0; r < raw.length; r++) {
                            assertArrayEquals(raw[r], rows.read(r), "row " + r + " bit for bit " + where);
                        }
                    }
                    float[] query = new float[d];
                    HnswVectors.GraphScorer cosines = rows.graphScorer(cpu, query); // one scorer for every call
                    // the ids and scores arrays are reused across counts (as Lucene's searcher reuses its own), and
                    // a second pair is swapped in now and then: a scorer's cached views must follow both
                    int[][] ids = {new int[100], new int[120]};
                    float[][] scores = {new float[100], new float[120]};
                    for (int queryRow : new int[] {7, 23}) {
                        rows.readUnit(queryRow, query); // rewritten in place, as the builder does for each node
                        for (int count : COUNTS) {
                            int pair = (count + queryRow) % 3 == 0 ? 1 : 0;
                            int[] picked = ids[pair];
                            for (int i = 0; i < count; i++) {
                                picked[i] = random.nextInt(raw.length);
                            }
                            float[] bulk = scores[pair];
                            cosines.cosines(picked, count, bulk);
                            for (int i = 0; i < count; i++) {
                                float alone = cosines.cosine(picked[i]);
                                String what = "query row " + queryRow + " count=" + count + " row " + picked[i] + " "
                                        + where;
                                // cosines lie in [-1, 1]: 4e-6 covers a 16-lane sum's reordering, not a wrong row
                                assertEquals(alone, bulk[i], 4e-6f, what);
                                assertEquals(exactCosine(query, rows.read(picked[i])), alone, 2e-5,
                                        "cosine of " + what);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void should_read_a_row_as_the_tensor_decodes_it_for_every_storage_type() {
        Engine engine = MemoryTesting.engine(MemoryTesting.cpu());
        for (ElementType type : ElementType.values()) {
            for (int d : new int[] {1, 7, 17, 384}) {
                String where = type + " d=" + d + " " + reproduce(seed, getClass());
                try (EmbeddingRows rows = EmbeddingRows.growable(engine, type, d)) {
                    float[][] raw = new float[9][d];
                    for (float[] row : raw) {
                        double magnitude = Math.pow(10, random.nextInt(7) - 3);
                        for (int i = 0; i < d; i++) {
                            row[i] = (float) (random.nextGaussian() * magnitude);
                        }
                    }
                    rows.append(raw);
                    dev.mempipe.spi.Tensor stored = rows.vectors(0, raw.length);
                    for (int r = 0; r < raw.length; r++) {
                        float[] read = rows.read(r);
                        for (int c = 0; c < d; c++) {
                            assertEquals(Float.floatToRawIntBits(stored.get(r, c)), Float.floatToRawIntBits(read[c]),
                                    "row " + r + " element " + c + " " + where);
                        }
                    }
                }
            }
        }
    }

    private static double exactCosine(float[] unitQuery, float[] row) {
        double dot = 0;
        double norm = 0;
        for (int i = 0; i < row.length; i++) {
            dot += (double) unitQuery[i] * row[i];
            norm += (double) row[i] * row[i];
        }
        return norm == 0 ? 0 : dot / Math.sqrt(norm);
    }
}
