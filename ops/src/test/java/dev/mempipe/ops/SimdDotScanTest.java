package dev.mempipe.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link SimdDotScan}, the one-query scan's kernel, gives every row the bits of {@link SimdDotTiles#rows4} (the kernel
 * the blocked plan uses for a batch's last queries, with the tiles' lane-sum tree): F32, BF16 and I8 keys, awkward
 * widths (tails past the vector loop), rows at odd byte offsets, extreme scales, repeated while the JIT warms up.
 *
 * <p>Reproduce a failure with the seed in its message: {@code -Dmempipe.test.seed=<seed>}.
 */
class SimdDotScanTest {
    private static final ElementType[] TYPES = {ElementType.F32, ElementType.BF16, ElementType.I8};

    private final long seed = Long.getLong("mempipe.test.seed", System.nanoTime());
    private final Random random = new Random(seed);

    @Test
    void should_score_four_rows_as_the_tiles_rows4_does_bit_for_bit() {
        int[] widths = {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 384, 385};
        SimdBackend backend = new SimdBackend();
        float[] sums = new float[SimdDotScan.scratchLength()];
        for (ElementType type : TYPES) {
            for (int d : widths) {
                int n = 4 * (1 + random.nextInt(8)) + 3; // an odd first row: the rows start at odd offsets
                try (Arena arena = Arena.ofConfined()) {
                    Tensor f32 = Tensor.allocate(arena, ElementType.F32, n, d);
                    for (int r = 0; r < n; r++) {
                        double magnitude = Math.pow(10, random.nextInt(9) - 4); // 1e-4 .. 1e4: scales far apart
                        for (int c = 0; c < d; c++) {
                            f32.set(r, c, (float) (random.nextGaussian() * magnitude));
                        }
                    }
                    Tensor keys = Tensor.allocate(arena, type, n, d);
                    backend.prepare().convert(f32, keys);
                    float[] q0 = new float[d];
                    for (int c = 0; c < d; c++) {
                        q0[c] = (float) random.nextGaussian();
                    }
                    float[] q = SimdDotKernels.layout(q0, d, type);
                    int h = (n - 1) / 4;
                    long stride = keys.rowStride();
                    long gap = h * stride;
                    for (int rep = 0; rep < 200; rep++) { // through the JIT tiers
                        float[] expected = new float[4 * h];
                        float[] actual = new float[4 * h];
                        for (int r = 0; r < h; r++) {
                            int row = 1 + r;
                            float c0 = scale(keys, row);
                            float c1 = scale(keys, row + h);
                            float c2 = scale(keys, row + 2 * h);
                            float c3 = scale(keys, row + 3 * h);
                            SimdDotTiles.rows4(type, q, d, keys.data(), row * stride, gap, c0, c1, c2, c3, expected, r,
                                    h);
                            SimdDotScan.rows4(type, q, d, keys.data(), row * stride, gap, c0, c1, c2, c3, actual, r, h,
                                    sums);
                        }
                        for (int i = 0; i < expected.length; i++) {
                            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                                    type + " d=" + d + " n=" + n + " score " + i + " repeat " + rep + ": "
                                            + expected[i] + " vs " + actual[i] + " (seed " + seed + ")");
                        }
                    }
                }
            }
        }
    }

    private static float scale(Tensor keys, int row) {
        return keys.type().isQuantized() ? keys.scale(row) : 1f;
    }
}
