package dev.mempipe.ops;

import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SimdProducts} against a double-precision reference at sizes that cross the contraction block (256), the
 * 4-row block and the 2-vector column block with every kind of remainder, on padded rows at odd byte offsets; and
 * the same bits whether the rows run on one thread or are split.
 */
class SimdProductsTest {
    private static final int LANES = SimdRows.LANES;

    @Test
    void products_should_match_a_double_reference_across_every_block_boundary() {
        int[][] shapes = {{1, 1, 1}, {5, 257, 2 * LANES + 3}, {9, 513, LANES - 1}, {4, 256, 2 * LANES},
                {7, 3, 4 * LANES + LANES + 1}, {64, 64, 33}};
        long seed = 0x7E57_12CL;
        for (int[] s : shapes) {
            SplittableRandom r = new SplittableRandom(seed + s[0] * 1_000_003L + s[1] * 1_009L + s[2]);
            try (Arena arena = Arena.ofShared()) {
                int m = s[0];
                int k = s[1];
                int p = s[2];
                Tensor a = padded(arena, r, m, k);      // for C = A B
                Tensor at = padded(arena, r, k, m);     // for C = A^T B
                Tensor b = padded(arena, r, k, p);
                Tensor c = padded(arena, r, m, p);      // junk first: every element must be overwritten
                SimdProducts.times(a, b, c);
                check("A B", s, seed, c, (i, j) -> {
                    double sum = 0;
                    double abs = 0;
                    for (int l = 0; l < k; l++) {
                        double t = (double) a.get(i, l) * b.get(l, j);
                        sum += t;
                        abs += Math.abs(t);
                    }
                    return new double[] {sum, abs};
                });
                SimdProducts.transposedTimes(at, b, c);
                check("A^T B", s, seed, c, (i, j) -> {
                    double sum = 0;
                    double abs = 0;
                    for (int l = 0; l < k; l++) {
                        double t = (double) at.get(l, i) * b.get(l, j);
                        sum += t;
                        abs += Math.abs(t);
                    }
                    return new double[] {sum, abs};
                });
            }
        }
    }

    @Test
    void a_split_over_threads_should_give_the_same_bits_as_one_thread() {
        try (Arena shared = Arena.ofShared(); Arena confined = Arena.ofConfined()) {
            SplittableRandom r = new SplittableRandom(99);
            int m = 301;
            int k = 300;
            int p = 77;
            Tensor a = padded(shared, r, k, m);
            Tensor b = padded(shared, r, k, p);
            Tensor split = Tensor.allocate(shared, ElementType.F32, m, p);
            SimdProducts.transposedTimes(a, b, split);
            // confined memory runs on the calling thread alone
            Tensor ac = copy(confined, a);
            Tensor bc = copy(confined, b);
            Tensor alone = Tensor.allocate(confined, ElementType.F32, m, p);
            SimdProducts.transposedTimes(ac, bc, alone);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < p; j++) {
                    assertEquals(Float.floatToRawIntBits(alone.get(i, j)), Float.floatToRawIntBits(split.get(i, j)),
                            "C[" + i + ", " + j + "]");
                }
            }
        }
    }

    @Test
    void an_empty_contraction_should_give_zeros() {
        try (Arena arena = Arena.ofConfined()) {
            SplittableRandom r = new SplittableRandom(3);
            Tensor c = padded(arena, r, 3, 5);
            SimdProducts.transposedTimes(Tensor.allocate(arena, ElementType.F32, 0, 3),
                    Tensor.allocate(arena, ElementType.F32, 0, 5), c);
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 5; j++) {
                    assertEquals(0f, c.get(i, j), "C[" + i + ", " + j + "]");
                }
            }
        }
    }

    @FunctionalInterface
    private interface Reference {
        double[] at(int i, int j);
    }

    private static void check(String what, int[] s, long seed, Tensor c, Reference ref) {
        for (int i = 0; i < c.rows(); i++) {
            for (int j = 0; j < c.cols(); j++) {
                double[] e = ref.at(i, j);
                // SPEC.md's dot bound: 2 k u sum|a b|
                double bound = 2.0 * s[1] * 0x1p-24 * e[1] + 1e-30;
                double got = c.get(i, j);
                assertTrue(Math.abs(got - e[0]) <= bound, what + " (m, k, p) = (" + s[0] + ", " + s[1] + ", " + s[2]
                        + "), seed " + seed + ": C[" + i + ", " + j + "] = " + got + ", expected " + e[0] + " within "
                        + bound);
            }
        }
    }

    /** An F32 tensor of uniform values with padded rows, starting at an odd byte offset, its padding filled with NaN. */
    private static Tensor padded(Arena arena, SplittableRandom r, int rows, int cols) {
        long stride = (long) cols * Float.BYTES + 12;
        MemorySegment base = arena.allocate(3 + Math.max(1, rows) * stride, 1);
        base.fill((byte) 0xFF);
        Tensor t = Tensor.wrap(base.asSlice(3, rows == 0 ? 0 : (rows - 1) * stride + (long) cols * Float.BYTES),
                ElementType.F32, rows, cols, stride, null);
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                t.set(i, j, (float) r.nextDouble(-1, 1));
            }
        }
        return t;
    }

    private static Tensor copy(Arena arena, Tensor t) {
        Tensor out = Tensor.allocate(arena, ElementType.F32, t.rows(), t.cols());
        for (long i = 0; i < t.rows(); i++) {
            for (int j = 0; j < t.cols(); j++) {
                out.set(i, j, t.get(i, j));
            }
        }
        return out;
    }
}
