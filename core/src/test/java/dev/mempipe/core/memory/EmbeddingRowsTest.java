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

    @Test
    void should_keep_the_inverse_norm_of_dot_row_row_for_every_storage_type() {
        Backend cpu = MemoryTesting.cpu();
        Engine engine = MemoryTesting.engine(cpu);
        for (ElementType type : ElementType.values()) {
            for (int d : new int[] {1, 15, 17, 384, 391}) {
                String where = type + " d=" + d + " " + reproduce(seed, getClass());
                try (EmbeddingRows rows = EmbeddingRows.growable(engine, type, d)) {
                    float[][] raw = new float[21][d];
                    for (int r = 1; r < raw.length; r++) { // row 0 stays zero: its inverse norm is 0
                        double magnitude = Math.pow(10, random.nextInt(5) - 2);
                        for (int i = 0; i < d; i++) {
                            raw[r][i] = (float) (random.nextGaussian() * magnitude);
                        }
                    }
                    rows.append(raw);
                    // one batch: room for exactly the batch, not the next power of two a chunked growth reaches
                    assertEquals(Math.max(64, raw.length), rows.capacity(), "capacity " + where);
                    float[] square = new float[1];
                    dev.mempipe.spi.Tensor out = dev.mempipe.spi.Tensor.wrap(
                            java.lang.foreign.MemorySegment.ofArray(square), ElementType.F32, 1, 1);
                    for (int r = 0; r < raw.length; r++) {
                        dev.mempipe.spi.Tensor row = rows.vectors(r, r + 1);
                        cpu.relevancy().dot(row, row, out); // the rule of the class comment, as dot computes it
                        float expected = square[0] > 0 ? (float) (1 / Math.sqrt(square[0])) : 0f;
                        String what = "inverse norm of row " + r + " " + where;
                        if (type.isQuantized() || d == 1) { // exact sums: the same bits whatever the order
                            assertEquals(Float.floatToRawIntBits(expected),
                                    Float.floatToRawIntBits(rows.inverseNorm(r)), what);
                        } else { // a 16-lane sum's order may differ between JIT tiers; a wrong row is far off
                            assertEquals(expected, rows.inverseNorm(r), expected * 2e-6f, what);
                        }
                    }
                }
            }
        }
    }

    @Test
    void should_size_a_large_batch_exactly_and_keep_every_row() {
        Engine engine = MemoryTesting.engine(MemoryTesting.cpu());
        int d = 8;
        try (EmbeddingRows rows = EmbeddingRows.growable(engine, ElementType.F32, d)) {
            float[][] first = new float[100][d];
            float[][] batch = new float[10_000][d]; // beyond one 4096-row encoding chunk
            for (int r = 0; r < batch.length; r++) {
                batch[r][r % d] = r + 1;
            }
            rows.append(first);
            rows.append(batch);
            assertEquals(10_100, rows.capacity(), "one growth to the batch's end, no doubling per chunk");
            assertEquals(10_100, rows.rows());
            for (int r = 0; r < batch.length; r += 997) {
                assertArrayEquals(batch[r], rows.read(100 + r), "row " + (100 + r));
                assertEquals(1f / (r + 1), rows.inverseNorm(100 + r), 1e-6f / (r + 1), "inverse norm of row " + (100 + r));
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
