package dev.mempipe.goldentests;

import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.MlpLoss;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The oracle's gradients against central finite differences of the losses, and its Newton-Schulz output. */
class ScalarTrainGradientTest {
    private final ScalarBackend oracle = new ScalarBackend();

    @Test
    void gradients_should_agree_with_finite_differences_for_both_losses() {
        long seed = 20261207;
        int n = 5;
        int d = 6;
        int h = 7;
        for (MlpLoss loss : MlpLoss.values()) {
            try (Arena arena = Arena.ofShared()) {
                SplittableRandom r = new SplittableRandom(seed);
                Tensor x = random(arena, r, n, d);
                Tensor t = random(arena, r, n, d);
                Tensor[] w = {random(arena, r, h, d), random(arena, r, h, d), random(arena, r, d, h)}; // W1, W3, W2
                Tensor[] g = {f32(arena, h, d), f32(arena, h, d), f32(arena, d, h)};
                oracle.train().mlpGradient(x, t, w[0], w[1], w[2], loss, g[0], g[1], g[2]);
                float step = 1e-2f;
                for (int m = 0; m < 3; m++) {
                    for (long i = 0; i < w[m].rows(); i++) {
                        for (int c = 0; c < w[m].cols(); c++) {
                            float keep = w[m].get(i, c);
                            w[m].set(i, c, keep + step);
                            double up = loss(arena, x, t, w, loss);
                            w[m].set(i, c, keep - step);
                            double down = loss(arena, x, t, w, loss);
                            w[m].set(i, c, keep);
                            double numeric = (up - down) / (2 * step);
                            assertEquals(numeric, g[m].get(i, c), 2e-3 * (1 + Math.abs(numeric)),
                                    loss + " matrix " + m + " [" + i + ", " + c + "] (seed " + seed + ")");
                        }
                    }
                }
            }
        }
    }

    @Test
    void newton_schulz_should_give_nearly_orthogonal_rows() {
        try (Arena arena = Arena.ofShared()) {
            SplittableRandom r = new SplittableRandom(7);
            Tensor g = random(arena, r, 8, 20);
            Tensor o = f32(arena, 8, 20);
            oracle.train().newtonSchulz(g, 5, o);
            for (int i = 0; i < 8; i++) {
                for (int j = 0; j < 8; j++) {
                    double dot = 0;
                    for (int c = 0; c < 20; c++) {
                        dot += (double) o.get(i, c) * o.get(j, c);
                    }
                    // Muon's iteration leaves the singular values in about [0.7, 1.2]
                    assertTrue(i == j ? dot > 0.45 && dot < 1.5 : Math.abs(dot) < 0.35, "O O^T [" + i + ", " + j
                            + "] = " + dot);
                }
            }
        }
    }

    /** The loss (in double, via the oracle's forward pass). */
    private double loss(Arena arena, Tensor x, Tensor t, Tensor[] w, MlpLoss loss) {
        Tensor y = f32(arena, x.rows(), x.cols());
        oracle.train().mlpForward(x, w[0], w[1], w[2], y);
        double sum = 0;
        for (long i = 0; i < x.rows(); i++) {
            for (int c = 0; c < x.cols(); c++) {
                double diff = (double) y.get(i, c) - t.get(i, c);
                sum += loss == MlpLoss.SQUARED ? diff * diff : -(double) y.get(i, c) * t.get(i, c);
            }
        }
        return sum;
    }

    private static Tensor random(Arena arena, SplittableRandom r, int rows, int cols) {
        Tensor t = f32(arena, rows, cols);
        for (int i = 0; i < rows; i++) {
            for (int c = 0; c < cols; c++) {
                t.set(i, c, (float) r.nextDouble(-1, 1));
            }
        }
        return t;
    }

    private static Tensor f32(Arena arena, long rows, int cols) {
        return Tensor.allocate(arena, ElementType.F32, rows, cols);
    }
}
