package dev.mempipe.spi;

/**
 * Parametric memories (Titans, LaCT): the memory is the weights of a small SwiGLU MLP
 * {@code f(x) = W2 (silu(W1 x) * (W3 x))}, written by gradient steps at test time and read by a forward pass.
 * These ops are compute-bound (matrix products of the batch with the weights). Their steps: the forward pass is
 * the read (Apply); the gradient, the update and the orthogonalization write the memory (Prepare).
 *
 * <p>Shapes: {@code x, t, y [n, d]}; {@code W1, W3 [h, d]}; {@code W2 [d, h]}. Every tensor is F32 (the weights
 * of a memory written every step stay in full precision); the common rules of {@link PrepareOps} hold otherwise.
 * {@code silu(a) = a / (1 + e^-a)}.
 */
public interface TrainOps {

    /**
     * The SwiGLU forward pass of every row: {@code y_i = W2 (silu(W1 x_i) * (W3 x_i))}.
     *
     * @param x  X {@code [n, d]}
     * @param w1 W1 {@code [h, d]}
     * @param w3 W3 {@code [h, d]}
     * @param w2 W2 {@code [d, h]}
     * @param y  Y {@code [n, d]}
     */
    void mlpForward(Tensor x, Tensor w1, Tensor w3, Tensor w2, Tensor y);

    /**
     * The gradients of {@code loss} summed over the rows with respect to the three weight matrices. With
     * {@code a = W1 x}, {@code b = W3 x}, {@code g = silu(a) * b}, {@code e = dL/dy} (per {@link MlpLoss}):
     * {@code dW2 = sum_i e_i g_i^T}, {@code dg = W2^T e}, {@code dW3 = sum_i (dg * silu(a))_i x_i^T},
     * {@code dW1 = sum_i (dg * b * silu'(a))_i x_i^T} with {@code silu'(a) = s (1 + a (1 - s))}, {@code s} the
     * logistic sigmoid of a.
     *
     * @param t  the targets {@code [n, d]}
     * @param g1 out dW1 {@code [h, d]}
     * @param g3 out dW3 {@code [h, d]}
     * @param g2 out dW2 {@code [d, h]}
     */
    void mlpGradient(Tensor x, Tensor t, Tensor w1, Tensor w3, Tensor w2, MlpLoss loss, Tensor g1, Tensor g3,
                     Tensor g2);

    /**
     * Titans' update with momentum ("surprise") and weight decay, fused, in place:
     * {@code s = eta * s - theta * g}, then {@code w = (1 - alpha) * w + s}, element by element.
     *
     * @param w     the weights, updated
     * @param g     their gradient, same shape
     * @param s     the momentum, same shape, updated
     * @param eta   momentum decay, in {@code [0, 1]}
     * @param theta learning rate, finite, {@code >= 0}
     * @param alpha weight decay (forgetting), in {@code [0, 1]}
     */
    void momentumUpdate(Tensor w, Tensor g, Tensor s, float eta, float theta, float alpha);

    /**
     * Newton-Schulz orthogonalization (Muon's quintic iteration): {@code X = G / ||G||_F}, then {@code steps} times
     * {@code A = X X^T}, {@code X = a X + (b A + c A A) X} with {@code (a, b, c) = (3.4445, -4.7750, 2.0315)}; for a
     * tall G the iteration runs on {@code G^T} and the result is transposed back. The result approximates the
     * orthogonal polar factor {@code U V^T} of {@code G = U S V^T}, its singular values within about [0.7, 1.2]
     * after 5 steps. A zero G gives zeros.
     *
     * @param g     G {@code [r, c]}
     * @param steps iterations, {@code >= 1} (Muon's and LaCT's 5)
     * @param o     out {@code [r, c]}; may not overlap g
     */
    void newtonSchulz(Tensor g, int steps, Tensor o);

    /** Muon's coefficients of the quintic Newton-Schulz iteration. */
    float NS_A = 3.4445f;
    float NS_B = -4.7750f;
    float NS_C = 2.0315f;

    /** A family whose every op throws {@link UnsupportedOperationException} naming the backend. */
    static TrainOps unsupported(String backend) {
        return new TrainOps() {
            private UnsupportedOperationException no(Op op) {
                return new UnsupportedOperationException("backend '" + backend + "' does not run " + op);
            }

            @Override
            public void mlpForward(Tensor x, Tensor w1, Tensor w3, Tensor w2, Tensor y) {
                throw no(Op.MLP_FORWARD);
            }

            @Override
            public void mlpGradient(Tensor x, Tensor t, Tensor w1, Tensor w3, Tensor w2, MlpLoss loss, Tensor g1,
                                    Tensor g3, Tensor g2) {
                throw no(Op.MLP_GRADIENT);
            }

            @Override
            public void momentumUpdate(Tensor w, Tensor g, Tensor s, float eta, float theta, float alpha) {
                throw no(Op.MOMENTUM_UPDATE);
            }

            @Override
            public void newtonSchulz(Tensor g, int steps, Tensor o) {
                throw no(Op.NEWTON_SCHULZ);
            }
        };
    }
}
