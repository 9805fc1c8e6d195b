package dev.mempipe.core.memory;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.MlpLoss;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A parametric memory's weights: the SwiGLU MLP {@code f(x) = W2 (silu(W1 x) * (W3 x))} with {@code W1, W3 [h, d]}
 * and {@code W2 [d, h]}, its gradient scratch, and the two ops every parametric memory runs through the
 * {@link Engine}: the read {@code f(X)} ({@code mlpForward}, Apply) and the gradient of a loss over a batch
 * ({@code mlpGradient}, Prepare). How the gradient becomes a weight change (Titans' momentum and decay, LaCT's
 * orthogonalized step) is the pipeline's.
 *
 * <p>Initialization (seeded): W1 and W3 entries are normal with standard deviation 1 (so for unit-norm keys the
 * gate and up pre-activations are about unit scale), W2 is zero (the empty memory reads zero).
 *
 * <p>Not thread-safe: one thread writes and reads a memory.
 */
public final class FastWeightMlp {
    private final Engine engine;
    private final int dimension;
    private final int hidden;
    private final Tensor w1;
    private final Tensor w3;
    private final Tensor w2;
    private final Tensor g1;
    private final Tensor g3;
    private final Tensor g2;

    /**
     * @param dimension d, the width of keys, values and queries ({@code >= 1})
     * @param hidden    h, the hidden width ({@code >= 1})
     * @param seed      the seed of W1's and W3's initial values
     * @param arena     where the weights and scratch are allocated (6 h d floats)
     */
    public FastWeightMlp(Engine engine, int dimension, int hidden, long seed, Arena arena) {
        this.engine = Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(arena, "arena");
        if (dimension < 1) {
            throw new IllegalArgumentException("dimension must be >= 1, got " + dimension);
        }
        if (hidden < 1) {
            throw new IllegalArgumentException("hidden must be >= 1, got " + hidden);
        }
        this.dimension = dimension;
        this.hidden = hidden;
        this.w1 = Tensor.allocate(arena, ElementType.F32, hidden, dimension);
        this.w3 = Tensor.allocate(arena, ElementType.F32, hidden, dimension);
        this.w2 = Tensor.allocate(arena, ElementType.F32, dimension, hidden);
        this.g1 = Tensor.allocate(arena, ElementType.F32, hidden, dimension);
        this.g3 = Tensor.allocate(arena, ElementType.F32, hidden, dimension);
        this.g2 = Tensor.allocate(arena, ElementType.F32, dimension, hidden);
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < hidden; i++) {
            for (int j = 0; j < dimension; j++) {
                w1.set(i, j, (float) random.nextGaussian());
                w3.set(i, j, (float) random.nextGaussian());
            }
        }
    }

    public int dimension() {
        return dimension;
    }

    public int hidden() {
        return hidden;
    }

    /** W1 {@code [h, d]}, W3 {@code [h, d]}, W2 {@code [d, h]}, in that order; live views, written by updates. */
    public Tensor[] weights() {
        return new Tensor[] {w1, w3, w2};
    }

    /** The gradients of the last {@link #gradient} call, in the order of {@link #weights()}; live views. */
    public Tensor[] gradients() {
        return new Tensor[] {g1, g3, g2};
    }

    /** Reads the memory: {@code y_i = f(x_i)} for every row of {@code x [n, d]} into {@code y [n, d]}. */
    public void read(Tensor x, Tensor y) {
        engine.runVoid(Op.MLP_FORWARD, OpCosts.of(Op.MLP_FORWARD.descriptor().sizes().size("n", x.rows())
                .size("d", dimension).size("h", hidden).type("X", ElementType.F32).type("W1", ElementType.F32)
                .type("W3", ElementType.F32).type("W2", ElementType.F32).type("Y", ElementType.F32)),
                b -> b.train().mlpForward(x, w1, w3, w2, y));
    }

    /** The gradients of {@code loss} over the rows of {@code x} with targets {@code t} into {@link #gradients()}. */
    public void gradient(Tensor x, Tensor t, MlpLoss loss) {
        engine.runVoid(Op.MLP_GRADIENT, OpCosts.of(Op.MLP_GRADIENT.descriptor().sizes().size("n", x.rows())
                .size("d", dimension).size("h", hidden).param("loss", loss.name()).type("X", ElementType.F32)
                .type("T", ElementType.F32).type("W1", ElementType.F32).type("W3", ElementType.F32)
                .type("W2", ElementType.F32).type("dW1", ElementType.F32).type("dW3", ElementType.F32)
                .type("dW2", ElementType.F32)),
                b -> b.train().mlpGradient(x, t, w1, w3, w2, loss, g1, g3, g2));
    }

    /** Checks that {@code rows} is F32 {@code [n, d]} with this memory's d, naming {@code name}. */
    public void requireRows(String name, Tensor rows) {
        Objects.requireNonNull(rows, name);
        if (rows.type() != ElementType.F32 || rows.cols() != dimension) {
            throw new IllegalArgumentException(name + " must be F32 [n, " + dimension + "], got " + rows.type() + " "
                    + rows.shapeString());
        }
    }
}
