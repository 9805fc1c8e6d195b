package dev.mempipe.goldentests;

import dev.mempipe.goldentests.Gen.Profile;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.MlpLoss;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Tensor;
import dev.mempipe.spi.UnsupportedElementTypeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.SplittableRandom;

/**
 * The rung of the kit for the parametric-memory ops ({@code TrainOps}), run like every other op through
 * {@link PropertyHarness}: each op against the oracle on seeded random cases at awkward sizes (inputs and outputs
 * at odd byte offsets, padded rows, guard bytes around the outputs, inputs that must come back unchanged), within
 * SPEC.md's relative Frobenius bounds ({@link Tolerances#mlpForward} and friends); metamorphic properties (rows are
 * independent, Newton-Schulz is invariant under scaling and commutes with transposition, a zero G gives zeros); and
 * the bad-input contract ({@link BadInput}: the exception names the argument, nothing is written). Extend it with one
 * factory method, as the other contracts.
 */
public abstract class TrainContract extends BackendContract {
    private static final ElementType F32 = ElementType.F32;

    // ---- mlpForward ----

    @Test
    void mlpForward_should_match_the_oracle_within_the_error_bound() {
        requireOp(Op.MLP_FORWARD);
        property(Op.MLP_FORWARD, 6, t -> {
            SplittableRandom r = t.random();
            int n = t.rows(Gen.size(r, size(17)));
            int d = t.cols(Gen.size(r, size(33)));
            int h = t.cols(Gen.size(r, size(65)));
            Weights w = weights(t, d, h);
            Tensor x = t.input("X", unit(t, n, d));
            Tensor y = t.output("Y", F32, n, d);
            Tensor ref = t.reference(F32, n, d);
            subject().train().mlpForward(x, w.w1, w.w3, w.w2, y);
            oracle().train().mlpForward(x, w.w1, w.w3, w.w2, ref);
            Compare.withinFrobenius("Y", y, ref, Tolerances.mlpForward(d, h), "8 (d + h + 4) u with d=" + d
                    + ", h=" + h);
        });
    }

    @Test
    void mlpForward_should_read_each_row_independently() {
        requireOp(Op.MLP_FORWARD);
        property(Op.MLP_FORWARD, 3, t -> {
            // a batch of queries is read as each query alone: no row may leak into another (Titans reads M(q) per token)
            SplittableRandom r = t.random();
            int n = t.rows(Gen.size(r, size(17)), 2);
            int d = t.cols(Gen.size(r, size(33)));
            int h = t.cols(Gen.size(r, size(33)));
            Weights w = weights(t, d, h);
            Tensor x = t.input("X", unit(t, n, d));
            Tensor y = t.output("Y", F32, n, d);
            subject().train().mlpForward(x, w.w1, w.w3, w.w2, y);
            int row = t.param("row", r.nextInt(n));
            Tensor alone = t.reference(F32, 1, d);
            subject().train().mlpForward(x.rowSlice(row, row + 1), w.w1, w.w3, w.w2, alone);
            Compare.withinFrobenius("Y[" + row + "] of the batch against the row alone", y.rowSlice(row, row + 1),
                    alone, 2 * Tolerances.mlpForward(d, h), "twice 8 (d + h + 4) u with d=" + d + ", h=" + h);
        });
    }

    // ---- mlpGradient ----

    @ParameterizedTest(name = "loss {0}")
    @EnumSource(MlpLoss.class)
    void mlpGradient_should_match_the_oracle_within_the_error_bound(MlpLoss loss) {
        requireOp(Op.MLP_GRADIENT);
        property(Op.MLP_GRADIENT, 4, t -> {
            SplittableRandom r = t.random();
            int n = t.rows(Gen.size(r, size(17)));
            int d = t.cols(Gen.size(r, size(33)));
            int h = t.cols(Gen.size(r, size(65)));
            Weights w = weights(t, d, h);
            Tensor x = t.input("X", unit(t, n, d));
            Tensor target = t.input("T", unit(t, n, d));
            t.param("loss", loss);
            Tensor g1 = t.output("dW1", F32, h, d);
            Tensor g3 = t.output("dW3", F32, h, d);
            Tensor g2 = t.output("dW2", F32, d, h);
            Tensor[] ref = {t.reference(F32, h, d), t.reference(F32, h, d), t.reference(F32, d, h)};
            subject().train().mlpGradient(x, target, w.w1, w.w3, w.w2, loss, g1, g3, g2);
            oracle().train().mlpGradient(x, target, w.w1, w.w3, w.w2, loss, ref[0], ref[1], ref[2]);
            String formula = "2 * 8 (d + h + 4) u with d=" + d + ", h=" + h;
            double bound = Tolerances.mlpGradient(d, h);
            Compare.withinFrobenius("dW1", g1, ref[0], bound, formula);
            Compare.withinFrobenius("dW3", g3, ref[1], bound, formula);
            Compare.withinFrobenius("dW2", g2, ref[2], bound, formula);
        });
    }

    @Test
    void mlpGradient_of_the_negative_dot_should_be_linear_in_the_targets() {
        requireOp(Op.MLP_GRADIENT);
        property(Op.MLP_GRADIENT, 3, t -> {
            // -<f(x), T> is linear in T: the gradient for 2T (exact in f32) is twice the gradient for T
            SplittableRandom r = t.random();
            int n = t.rows(Gen.size(r, size(9)));
            int d = t.cols(Gen.size(r, size(17)));
            int h = t.cols(Gen.size(r, size(33)));
            Weights w = weights(t, d, h);
            Tensor x = t.input("X", unit(t, n, d));
            Tensor target = t.input("T", unit(t, n, d));
            Tensor doubled = t.reference(F32, n, d);
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < d; c++) {
                    doubled.set(i, c, 2 * target.get(i, c));
                }
            }
            Tensor[] once = {t.output("dW1", F32, h, d), t.output("dW3", F32, h, d), t.output("dW2", F32, d, h)};
            Tensor[] twice = {t.reference(F32, h, d), t.reference(F32, h, d), t.reference(F32, d, h)};
            subject().train().mlpGradient(x, target, w.w1, w.w3, w.w2, MlpLoss.NEGATIVE_DOT, once[0], once[1],
                    once[2]);
            subject().train().mlpGradient(x, doubled, w.w1, w.w3, w.w2, MlpLoss.NEGATIVE_DOT, twice[0], twice[1],
                    twice[2]);
            String[] names = {"dW1", "dW3", "dW2"};
            for (int k = 0; k < 3; k++) {
                Tensor scaled = t.reference(F32, once[k].rows(), once[k].cols());
                for (long i = 0; i < scaled.rows(); i++) {
                    for (int c = 0; c < scaled.cols(); c++) {
                        scaled.set(i, c, 2 * once[k].get(i, c));
                    }
                }
                Compare.withinFrobenius(names[k] + " for 2T against 2 x " + names[k] + " for T", twice[k], scaled,
                        2 * Tolerances.mlpGradient(d, h), "twice 2 * 8 (d + h + 4) u with d=" + d + ", h=" + h);
            }
        });
    }

    // ---- momentumUpdate ----

    @Test
    void momentumUpdate_should_match_the_oracle_in_place() {
        requireOp(Op.MOMENTUM_UPDATE);
        property(Op.MOMENTUM_UPDATE, 6, t -> {
            SplittableRandom r = t.random();
            int rows = t.rows(Gen.size(r, size(33)));
            int cols = t.cols(Gen.size(r, size(129)));
            // the interval ends are legal and are where a fused update most easily goes wrong
            float eta = t.param("eta", Gen.pick(r, 0f, 1f, 0.9f, (float) r.nextDouble()));
            float theta = t.param("theta", Gen.pick(r, 0f, 0.01f, 1f, (float) r.nextDouble(0, 4)));
            float alpha = t.param("alpha", Gen.pick(r, 0f, 1f, 0.01f, (float) r.nextDouble()));
            Tensor g = t.input("G", unit(t, rows, cols));
            Tensor w = t.output("W", F32, rows, cols);
            Tensor s = t.output("S", F32, rows, cols);
            Gen.fill(r, w, Profile.UNIT);
            Gen.fill(r, s, Profile.UNIT);
            Tensor w0 = copy(t, w);
            Tensor s0 = copy(t, s);
            Tensor wRef = copy(t, w);
            Tensor sRef = copy(t, s);
            subject().train().momentumUpdate(w, g, s, eta, theta, alpha);
            oracle().train().momentumUpdate(wRef, g, sRef, eta, theta, alpha);
            Compare.within("S'", s, sRef, Compare.Bound.of("4u (|eta S| + |theta G|)",
                    (i, c, ref) -> Tolerances.momentum(eta * s0.get(i, c), theta * g.get(i, c)),
                    (i, c) -> "S=" + Compare.num(s0.get(i, c)) + ", G=" + Compare.num(g.get(i, c))));
            Compare.within("W'", w, wRef, Compare.Bound.of("6u (|(1 - alpha) W| + |eta S| + |theta G|)",
                    (i, c, ref) -> Tolerances.momentumWeights((1 - alpha) * w0.get(i, c), eta * s0.get(i, c),
                            theta * g.get(i, c)),
                    (i, c) -> "W=" + Compare.num(w0.get(i, c)) + ", S=" + Compare.num(s0.get(i, c)) + ", G="
                            + Compare.num(g.get(i, c))));
        });
    }

    // ---- newtonSchulz ----

    @Test
    void newtonSchulz_should_match_the_oracle_wide_and_tall() {
        requireOp(Op.NEWTON_SCHULZ);
        property(Op.NEWTON_SCHULZ, 6, t -> {
            SplittableRandom r = t.random();
            int rows = t.rows(Gen.size(r, size(33)));
            int cols = t.cols(Gen.size(r, size(33)));
            int steps = t.param("steps", Gen.pick(r, 1, 2, 5, 5));
            Tensor g = t.input("G", unit(t, rows, cols));
            Tensor o = t.output("O", F32, rows, cols);
            Tensor ref = t.reference(F32, rows, cols);
            subject().train().newtonSchulz(g, steps, o);
            oracle().train().newtonSchulz(g, steps, ref);
            Compare.withinFrobenius("O", o, ref, Tolerances.newtonSchulz(rows, cols), "256 (r + c) u with r=" + rows
                    + ", c=" + cols);
        });
    }

    @Test
    void newtonSchulz_should_not_depend_on_the_scale_of_G() {
        requireOp(Op.NEWTON_SCHULZ);
        property(Op.NEWTON_SCHULZ, 3, t -> {
            // G is normalized first: k G for a power of two k (exact in f32) must give the same O
            SplittableRandom r = t.random();
            int rows = t.rows(Gen.size(r, size(17)));
            int cols = t.cols(Gen.size(r, size(33)));
            float k = t.param("k", Gen.pick(r, 0x1p-20f, 0.25f, 8f, 0x1p20f));
            Tensor g = t.input("G", unit(t, rows, cols));
            Tensor scaled = t.reference(F32, rows, cols);
            for (int i = 0; i < rows; i++) {
                for (int c = 0; c < cols; c++) {
                    scaled.set(i, c, k * g.get(i, c));
                }
            }
            Tensor o = t.output("O", F32, rows, cols);
            Tensor oScaled = t.reference(F32, rows, cols);
            subject().train().newtonSchulz(g, 5, o);
            subject().train().newtonSchulz(scaled, 5, oScaled);
            Compare.withinFrobenius("O of k G against O of G", oScaled, o, 2 * Tolerances.newtonSchulz(rows, cols),
                    "twice 256 (r + c) u with r=" + rows + ", c=" + cols);
        });
    }

    @Test
    void newtonSchulz_of_the_transpose_should_be_the_transpose() {
        requireOp(Op.NEWTON_SCHULZ);
        property(Op.NEWTON_SCHULZ, 3, t -> {
            // a tall G runs transposed: the wide and the tall path must agree
            SplittableRandom r = t.random();
            int rows = t.rows(Gen.size(r, size(17)));
            int cols = t.cols(Gen.size(r, size(33)));
            Tensor g = t.input("G", unit(t, rows, cols));
            Tensor gT = t.reference(F32, cols, rows);
            for (int i = 0; i < rows; i++) {
                for (int c = 0; c < cols; c++) {
                    gT.set(c, i, g.get(i, c));
                }
            }
            Tensor o = t.output("O", F32, rows, cols);
            Tensor oT = t.reference(F32, cols, rows);
            subject().train().newtonSchulz(g, 5, o);
            subject().train().newtonSchulz(gT, 5, oT);
            Tensor back = t.reference(F32, rows, cols);
            for (int i = 0; i < rows; i++) {
                for (int c = 0; c < cols; c++) {
                    back.set(i, c, oT.get(c, i));
                }
            }
            Compare.withinFrobenius("O of G^T, transposed, against O of G", back, o,
                    2 * Tolerances.newtonSchulz(rows, cols), "twice 256 (r + c) u with r=" + rows + ", c=" + cols);
        });
    }

    @Test
    void newtonSchulz_of_zero_should_be_zero() {
        requireOp(Op.NEWTON_SCHULZ);
        property(Op.NEWTON_SCHULZ, 2, t -> {
            SplittableRandom r = t.random();
            int rows = t.rows(Gen.size(r, size(17)));
            int cols = t.cols(Gen.size(r, size(17)));
            Tensor g = t.input("G", t.reference(F32, rows, cols));
            Tensor o = t.output("O", F32, rows, cols);
            subject().train().newtonSchulz(g, 5, o);
            Compare.sameValues("O of a zero G", o, t.reference(F32, rows, cols));
        });
    }

    // ---- bad input: the exception names the argument, nothing is written ----

    @Test
    void mlpForward_should_reject_weights_of_the_wrong_shape() {
        requireOp(Op.MLP_FORWARD);
        property(Op.MLP_FORWARD, 3, t -> {
            SplittableRandom r = t.random();
            Tensor x = t.input("X", unit(t, 3, 8));
            Tensor w1 = t.input("W1", unit(t, 5, 8));
            String bad = t.param("bad", Gen.pick(r, "W1", "W3", "W2"));
            // one weight off by a column: W1 [5, 9], W3 [5, 9], or W2 [8, 6]
            Tensor gate = bad.equals("W1") ? t.input("W1", unit(t, 5, 9)) : w1;
            Tensor up = t.input("W3", unit(t, 5, bad.equals("W3") ? 9 : 8));
            Tensor down = t.input("W2", unit(t, 8, bad.equals("W2") ? 6 : 5));
            Tensor y = t.output("Y", F32, 3, 8);
            BadInput.expect(t, IllegalArgumentException.class, bad, "mlpForward with " + bad + " off by a column",
                    () -> subject().train().mlpForward(x, gate, up, down, y));
        });
    }

    @Test
    void mlpForward_should_reject_a_non_f32_tensor_and_a_closed_input() {
        requireOp(Op.MLP_FORWARD);
        property(Op.MLP_FORWARD, 2, t -> {
            SplittableRandom r = t.random();
            Tensor w1 = t.input("W1", unit(t, 5, 8));
            Tensor w3 = t.input("W3", unit(t, 5, 8));
            Tensor w2 = t.input("W2", unit(t, 8, 5));
            ElementType type = Gen.pick(r, ElementType.BF16, ElementType.F16, ElementType.I8);
            Tensor xOther = t.input("X", Gen.tensor(t, type, 3, 8, Profile.UNIT));
            Tensor y = t.output("Y", F32, 3, 8);
            BadInput.expect(t, UnsupportedElementTypeException.class, "X", "mlpForward of " + type + " rows",
                    () -> subject().train().mlpForward(xOther, w1, w3, w2, y));
            Tensor closed = Gen.closed(F32, 3, 8);
            BadInput.expect(t, IllegalStateException.class, "X", "mlpForward of X in a closed arena",
                    () -> subject().train().mlpForward(closed, w1, w3, w2, y));
            Tensor yBad = t.output("Y", F32, 3, 7);
            BadInput.expect(t, IllegalArgumentException.class, "Y", "mlpForward into Y [3, 7]",
                    () -> subject().train().mlpForward(t.input("X", unit(t, 3, 8)), w1, w3, w2, yBad));
        });
    }

    @Test
    void mlpGradient_should_reject_targets_and_gradients_of_the_wrong_shape() {
        requireOp(Op.MLP_GRADIENT);
        property(Op.MLP_GRADIENT, 4, t -> {
            SplittableRandom r = t.random();
            Tensor x = t.input("X", unit(t, 3, 8));
            Tensor w1 = t.input("W1", unit(t, 5, 8));
            Tensor w3 = t.input("W3", unit(t, 5, 8));
            Tensor w2 = t.input("W2", unit(t, 8, 5));
            String bad = t.param("bad", Gen.pick(r, "T", "dW1", "dW3", "dW2"));
            Tensor target = t.input("T", unit(t, bad.equals("T") ? 2 : 3, 8));
            Tensor g1 = t.output("dW1", F32, bad.equals("dW1") ? 4 : 5, 8);
            Tensor g3 = t.output("dW3", F32, 5, bad.equals("dW3") ? 7 : 8);
            Tensor g2 = t.output("dW2", F32, bad.equals("dW2") ? 5 : 8, bad.equals("dW2") ? 8 : 5);
            MlpLoss loss = t.param("loss", Gen.pick(r, MlpLoss.values()));
            BadInput.expect(t, IllegalArgumentException.class, bad, "mlpGradient with " + bad + " of the wrong shape",
                    () -> subject().train().mlpGradient(x, target, w1, w3, w2, loss, g1, g3, g2));
        });
    }

    @Test
    void momentumUpdate_should_reject_hyperparameters_out_of_range() {
        requireOp(Op.MOMENTUM_UPDATE);
        property(Op.MOMENTUM_UPDATE, 6, t -> {
            SplittableRandom r = t.random();
            Tensor g = t.input("G", unit(t, 4, 9));
            // W and S are updated in place: as outputs, every byte of them is watched
            Tensor w = t.output("W", F32, 4, 9);
            Tensor s = t.output("S", F32, 4, 9);
            String bad = t.param("bad", Gen.pick(r, "eta", "theta", "alpha"));
            float value = t.param("value", bad.equals("theta")
                    ? Gen.pick(r, -0.5f, Float.NaN, Float.POSITIVE_INFINITY)
                    : Gen.pick(r, -0.01f, 1.5f, Float.NaN));
            float eta = bad.equals("eta") ? value : 0.9f;
            float theta = bad.equals("theta") ? value : 0.01f;
            float alpha = bad.equals("alpha") ? value : 0f;
            BadInput.expect(t, IllegalArgumentException.class, bad, "momentumUpdate with " + bad + "=" + value,
                    () -> subject().train().momentumUpdate(w, g, s, eta, theta, alpha));
        });
    }

    @Test
    void momentumUpdate_should_reject_a_gradient_or_momentum_of_another_shape() {
        requireOp(Op.MOMENTUM_UPDATE);
        property(Op.MOMENTUM_UPDATE, 3, t -> {
            SplittableRandom r = t.random();
            boolean badG = t.param("badG", r.nextBoolean());
            Tensor g = t.input("G", unit(t, 4, badG ? 8 : 9));
            Tensor w = t.output("W", F32, 4, 9);
            Tensor s = t.output("S", F32, badG ? 4 : 3, 9);
            BadInput.expect(t, IllegalArgumentException.class, badG ? "G" : "S", "momentumUpdate with "
                    + (badG ? "G [4, 8]" : "S [3, 9]") + " for W [4, 9]",
                    () -> subject().train().momentumUpdate(w, g, s, 0.9f, 0.01f, 0f));
        });
    }

    @Test
    void newtonSchulz_should_reject_fewer_than_one_step_and_an_output_of_another_shape() {
        requireOp(Op.NEWTON_SCHULZ);
        property(Op.NEWTON_SCHULZ, 3, t -> {
            SplittableRandom r = t.random();
            Tensor g = t.input("G", unit(t, 3, 7));
            Tensor o = t.output("O", F32, 3, 7);
            int steps = t.param("steps", Gen.pick(r, 0, -1, Integer.MIN_VALUE));
            BadInput.expect(t, IllegalArgumentException.class, "steps", "newtonSchulz with steps=" + steps,
                    () -> subject().train().newtonSchulz(g, steps, o));
            Tensor transposed = t.output("O", F32, 7, 3);
            BadInput.expect(t, IllegalArgumentException.class, "O", "newtonSchulz of G [3, 7] into O [7, 3]",
                    () -> subject().train().newtonSchulz(g, 5, transposed));
        });
    }

    // ---- helpers ----

    /** W1, W3 {@code [h, d]} and W2 {@code [d, h]}, registered as inputs, scaled so that activations stay O(1). */
    private static Weights weights(Trial t, int d, int h) {
        Tensor w1 = t.input("W1", unit(t, h, d));
        Tensor w3 = t.input("W3", unit(t, h, d));
        Tensor w2 = t.input("W2", unit(t, d, h));
        return new Weights(w1, w3, w2);
    }

    private record Weights(Tensor w1, Tensor w3, Tensor w2) {
    }

    /** An F32 tensor with a random layout, uniform in [-1, 1] (with some signed zeros). */
    private static Tensor unit(Trial t, int rows, int cols) {
        return Gen.tensor(t, F32, rows, cols, Profile.UNIT);
    }

    private static Tensor copy(Trial t, Tensor x) {
        Tensor out = t.reference(F32, x.rows(), x.cols());
        for (long i = 0; i < x.rows(); i++) {
            for (int c = 0; c < x.cols(); c++) {
                out.set(i, c, x.get(i, c));
            }
        }
        return out;
    }
}
