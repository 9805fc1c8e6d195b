package dev.mempipe.goldentests;

import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.MlpLoss;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rung of the kit for the parametric-memory ops ({@code TrainOps}): each op against the oracle at awkward
 * sizes, within a relative Frobenius error that grows with the products' lengths, and the shared argument checks.
 * Extend it with one factory method, as the other contracts.
 */
public abstract class TrainContract extends BackendContract {
    /** (n, d, h): single elements, odd widths, a lane and a half, more rows than columns. */
    private static final int[][] SIZES = {{1, 1, 1}, {3, 7, 9}, {17, 16, 33}, {8, 31, 15}, {40, 24, 64}};

    @Test
    void mlp_forward_should_match_the_oracle() {
        requireOp(Op.MLP_FORWARD);
        for (int[] s : SIZES) {
            long seed = PropertyHarness.caseSeed("mlpForward", s[0] * 10_000 + s[1] * 100 + s[2]);
            try (Arena arena = Arena.ofShared()) {
                SplittableRandom r = new SplittableRandom(seed);
                Tensor x = random(arena, r, s[0], s[1]);
                Tensor w1 = random(arena, r, s[2], s[1]);
                Tensor w3 = random(arena, r, s[2], s[1]);
                Tensor w2 = random(arena, r, s[1], s[2]);
                Tensor got = f32(arena, s[0], s[1]);
                Tensor ref = f32(arena, s[0], s[1]);
                subject().train().mlpForward(x, w1, w3, w2, got);
                oracle().train().mlpForward(x, w1, w3, w2, ref);
                close("mlpForward", s, seed, got, ref, bound(s));
            }
        }
    }

    @Test
    void mlp_gradient_should_match_the_oracle_for_both_losses() {
        requireOp(Op.MLP_GRADIENT);
        for (MlpLoss loss : MlpLoss.values()) {
            for (int[] s : SIZES) {
                long seed = PropertyHarness.caseSeed("mlpGradient" + loss, s[0] * 10_000 + s[1] * 100 + s[2]);
                try (Arena arena = Arena.ofShared()) {
                    SplittableRandom r = new SplittableRandom(seed);
                    Tensor x = random(arena, r, s[0], s[1]);
                    Tensor t = random(arena, r, s[0], s[1]);
                    Tensor w1 = random(arena, r, s[2], s[1]);
                    Tensor w3 = random(arena, r, s[2], s[1]);
                    Tensor w2 = random(arena, r, s[1], s[2]);
                    Tensor[] got = {f32(arena, s[2], s[1]), f32(arena, s[2], s[1]), f32(arena, s[1], s[2])};
                    Tensor[] ref = {f32(arena, s[2], s[1]), f32(arena, s[2], s[1]), f32(arena, s[1], s[2])};
                    subject().train().mlpGradient(x, t, w1, w3, w2, loss, got[0], got[1], got[2]);
                    oracle().train().mlpGradient(x, t, w1, w3, w2, loss, ref[0], ref[1], ref[2]);
                    String[] names = {"dW1", "dW3", "dW2"};
                    for (int i = 0; i < 3; i++) {
                        close("mlpGradient " + loss + " " + names[i], s, seed, got[i], ref[i], 2 * bound(s));
                    }
                }
            }
        }
    }

    @Test
    void momentum_update_should_match_the_oracle_in_place() {
        requireOp(Op.MOMENTUM_UPDATE);
        for (int[] s : SIZES) {
            long seed = PropertyHarness.caseSeed("momentumUpdate", s[1] * 100 + s[2]);
            try (Arena arena = Arena.ofShared()) {
                SplittableRandom r = new SplittableRandom(seed);
                Tensor w = random(arena, r, s[2], s[1]);
                Tensor g = random(arena, r, s[2], s[1]);
                Tensor m = random(arena, r, s[2], s[1]);
                Tensor w2 = copy(arena, w);
                Tensor m2 = copy(arena, m);
                subject().train().momentumUpdate(w, g, m, 0.9f, 0.05f, 0.01f);
                oracle().train().momentumUpdate(w2, g, m2, 0.9f, 0.05f, 0.01f);
                close("momentumUpdate S", s, seed, m, m2, 4 * Tolerances.U32);
                close("momentumUpdate W", s, seed, w, w2, 4 * Tolerances.U32);
            }
        }
    }

    @Test
    void newton_schulz_should_match_the_oracle_wide_and_tall() {
        requireOp(Op.NEWTON_SCHULZ);
        int[][] shapes = {{1, 1}, {3, 7}, {7, 3}, {16, 33}, {40, 24}};
        for (int[] s : shapes) {
            long seed = PropertyHarness.caseSeed("newtonSchulz", s[0] * 100 + s[1]);
            try (Arena arena = Arena.ofShared()) {
                SplittableRandom r = new SplittableRandom(seed);
                Tensor g = random(arena, r, s[0], s[1]);
                Tensor got = f32(arena, s[0], s[1]);
                Tensor ref = f32(arena, s[0], s[1]);
                subject().train().newtonSchulz(g, 5, got);
                oracle().train().newtonSchulz(g, 5, ref);
                // five steps of a cubic-and-quintic map amplify the f32 rounding of the products
                close("newtonSchulz", new int[] {s[0], s[1], Math.min(s[0], s[1])}, seed, got, ref,
                        256.0 * (s[0] + s[1]) * Tolerances.U32);
            }
        }
    }

    @Test
    void should_reject_mismatched_shapes_and_types_before_writing() {
        requireOp(Op.MLP_FORWARD);
        try (Arena arena = Arena.ofShared()) {
            Tensor x = f32(arena, 2, 4);
            Tensor w1 = f32(arena, 3, 4);
            Tensor w2 = f32(arena, 4, 3);
            Tensor y = f32(arena, 2, 4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> subject().train().mlpForward(x, w1, f32(arena, 3, 5), w2, y));
            assertTrue(e.getMessage().contains("W3"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> subject().train().mlpForward(x, w1, w1,
                    Tensor.allocate(arena, ElementType.BF16, 4, 3), y));
            assertThrows(IllegalArgumentException.class, () -> subject().train().newtonSchulz(w1, 0, f32(arena, 3, 4)));
            assertThrows(IllegalArgumentException.class, () -> subject().train().momentumUpdate(w1, w1, w1, 1.5f, 0.1f,
                    0f));
        }
    }

    /** A relative bound for products of length up to {@code d + h} over n rows, per element type rounding. */
    private static double bound(int[] s) {
        return 8.0 * (s[1] + s[2] + 4) * Tolerances.U32;
    }

    private static void close(String op, int[] s, long seed, Tensor got, Tensor ref, double relative) {
        double diff = 0;
        double norm = 0;
        for (long r = 0; r < ref.rows(); r++) {
            for (int c = 0; c < ref.cols(); c++) {
                double e = (double) got.get(r, c) - ref.get(r, c);
                diff += e * e;
                norm += (double) ref.get(r, c) * ref.get(r, c);
            }
        }
        double error = norm == 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
        assertTrue(error <= relative, op + " (n, d, h) = (" + s[0] + ", " + s[1] + ", " + s[2] + "): relative "
                + "Frobenius error " + error + " > " + relative + " (seed " + seed + ")");
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

    private static Tensor copy(Arena arena, Tensor t) {
        Tensor out = f32(arena, t.rows(), t.cols());
        for (long i = 0; i < t.rows(); i++) {
            for (int c = 0; c < t.cols(); c++) {
                out.set(i, c, t.get(i, c));
            }
        }
        return out;
    }

    private static Tensor f32(Arena arena, long rows, int cols) {
        return Tensor.allocate(arena, ElementType.F32, rows, cols);
    }
}
