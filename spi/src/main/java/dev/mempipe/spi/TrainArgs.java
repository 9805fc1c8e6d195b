package dev.mempipe.spi;

import java.util.Objects;

/** The argument checks of {@link TrainOps} every backend shares: they fail before anything is written. */
public final class TrainArgs {
    private TrainArgs() {
    }

    public static void mlpForward(Tensor x, Tensor w1, Tensor w3, Tensor w2, Tensor y) {
        weights(Op.MLP_FORWARD, x, w1, w3, w2);
        shape(Op.MLP_FORWARD, "Y", y, x.rows(), x.cols());
    }

    public static void mlpGradient(Tensor x, Tensor t, Tensor w1, Tensor w3, Tensor w2, MlpLoss loss, Tensor g1,
                                   Tensor g3, Tensor g2) {
        weights(Op.MLP_GRADIENT, x, w1, w3, w2);
        Objects.requireNonNull(loss, "loss");
        shape(Op.MLP_GRADIENT, "T", t, x.rows(), x.cols());
        shape(Op.MLP_GRADIENT, "dW1", g1, w1.rows(), w1.cols());
        shape(Op.MLP_GRADIENT, "dW3", g3, w3.rows(), w3.cols());
        shape(Op.MLP_GRADIENT, "dW2", g2, w2.rows(), w2.cols());
    }

    public static void momentumUpdate(Tensor w, Tensor g, Tensor s, float eta, float theta, float alpha) {
        f32(Op.MOMENTUM_UPDATE, "W", w);
        shape(Op.MOMENTUM_UPDATE, "G", g, w.rows(), w.cols());
        shape(Op.MOMENTUM_UPDATE, "S", s, w.rows(), w.cols());
        unit(Op.MOMENTUM_UPDATE, "eta", eta);
        unit(Op.MOMENTUM_UPDATE, "alpha", alpha);
        if (!(theta >= 0) || Float.isInfinite(theta)) {
            throw new IllegalArgumentException("momentumUpdate: theta must be finite and >= 0, got " + theta);
        }
    }

    public static void newtonSchulz(Tensor g, int steps, Tensor o) {
        f32(Op.NEWTON_SCHULZ, "G", g);
        shape(Op.NEWTON_SCHULZ, "O", o, g.rows(), g.cols());
        if (steps < 1) {
            throw new IllegalArgumentException("newtonSchulz: steps must be >= 1, got " + steps);
        }
        if (g.rows() > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException("newtonSchulz: G has " + g.rows() + " rows; at most "
                    + Integer.MAX_VALUE / 2);
        }
    }

    private static void weights(Op op, Tensor x, Tensor w1, Tensor w3, Tensor w2) {
        f32(op, "X", x);
        f32(op, "W1", w1);
        int d = x.cols();
        if (w1.cols() != d) {
            throw new IllegalArgumentException(op + ": W1 must be [h, d] with d = " + d + " (X's width), got "
                    + w1.shapeString());
        }
        shape(op, "W3", w3, w1.rows(), d);
        shape(op, "W2", w2, d, Math.toIntExact(w1.rows()));
    }

    private static void shape(Op op, String name, Tensor t, long rows, int cols) {
        f32(op, name, t);
        if (t.rows() != rows || t.cols() != cols) {
            throw new IllegalArgumentException(op + ": " + name + " must be [" + rows + ", " + cols + "], got "
                    + t.shapeString());
        }
    }

    private static void f32(Op op, String name, Tensor t) {
        Objects.requireNonNull(t, name);
        if (!t.isAlive()) {
            throw new IllegalStateException(op + ": " + name + "'s memory is closed");
        }
        if (t.type() != ElementType.F32) {
            throw new UnsupportedElementTypeException(op, name, t.type(), java.util.Set.of(ElementType.F32));
        }
    }

    private static void unit(Op op, String name, float v) {
        if (!(v >= 0 && v <= 1)) {
            throw new IllegalArgumentException(op + ": " + name + " must be in [0, 1], got " + v);
        }
    }
}
