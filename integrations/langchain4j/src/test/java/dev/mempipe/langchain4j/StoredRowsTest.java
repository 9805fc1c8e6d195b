package dev.mempipe.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mempipe.spi.Backends;
import dev.mempipe.spi.ElementType;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link StoredRows}' graph scoring: the batched {@code graphCosines} (four F32 rows per pass) gives what one
 * {@code graphCosine} call per row gives, up to the last bits of the final lane sum ({@code reduceLanes} may add the
 * 16 lanes in another order while a method is not yet compiled).
 */
class StoredRowsTest {
    private final long seed = Long.getLong("mempipe.test.seed", System.nanoTime());
    private final Random random = new Random(seed);

    @Test
    void should_score_rows_in_bulk_as_one_by_one_for_every_storage_type() {
        for (ElementType type : new ElementType[] {ElementType.F32, ElementType.BF16, ElementType.I8}) {
            for (int d : new int[] {1, 15, 16, 17, 384, 391}) {
                try (StoredRows rows = new StoredRows(Backends.defaultBackend(), type, d, dev.mempipe.core.memory.MemoryBudget.unlimited())) {
                    float[][] raw = new float[50][d];
                    for (float[] row : raw) {
                        for (int i = 0; i < d; i++) {
                            row[i] = (float) random.nextGaussian() * (1 + random.nextInt(4));
                        }
                    }
                    rows.append(raw);
                    float[] query = new float[d];
                    rows.readUnit(7, query);
                    float[] scratch = new float[d];
                    for (int count = 0; count <= 11; count++) {
                        int[] picked = new int[count];
                        for (int i = 0; i < count; i++) {
                            picked[i] = random.nextInt(raw.length);
                        }
                        float[] bulk = new float[count];
                        rows.graphCosines(query, picked, count, bulk, scratch);
                        for (int i = 0; i < count; i++) {
                            float alone = rows.graphCosine(query, picked[i], scratch);
                            // cosines lie in [-1, 1]: 4e-6 covers a 16-lane sum's reordering, not a wrong row
                            assertEquals(alone, bulk[i], 4e-6f, type + " d=" + d + " count=" + count + " row "
                                    + picked[i] + ": bulk " + bulk[i] + " alone " + alone + " (seed " + seed + ")");
                        }
                    }
                }
            }
        }
    }
}
