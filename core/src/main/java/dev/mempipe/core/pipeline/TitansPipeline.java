package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.FastWeightMlp;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.MlpLoss;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Objects;

/**
 * Titans' neural long-term memory (Behrouz et al. 2025, "Titans: Learning to Memorize at Test Time"): an MLP
 * {@code M} (here the SwiGLU MLP of {@link FastWeightMlp}) written at test time by gradient steps on the
 * associative loss {@code ||M(k) - v||^2}, with momentum (the paper's "surprise") and weight decay (forgetting).
 *
 * <ol>
 *   <li><b>Prepare</b>: for each chunk of {@code chunk} new (k, v) rows, in order: the gradient {@code G} of the
 *       loss summed over the chunk ({@code mlpGradient}, SQUARED), then for each weight matrix
 *       {@code S = eta S - theta G; W = (1 - alpha) W + S} ({@code momentumUpdate}). A chunk of 1 is the
 *       paper's per-token update; larger chunks are its mini-batch form.</li>
 *   <li><b>Relevancy</b> and <b>Retrieval</b>: nothing runs; every weight takes part in every read.</li>
 *   <li><b>Apply</b>: the read {@code M(q)} for each query row ({@code mlpForward}).</li>
 * </ol>
 * The paper's data-dependent eta, theta and alpha (produced per token by the model) are constants here, and keys
 * are used as given (Titans l2-normalizes them; so should the caller).
 *
 * <p>Capacity (measured by {@code ParametricMemoryLearningTest}, seed fixed): with the default settings, d = 64,
 * h = 256 and unit-norm random keys and values written once each, one token per step, the mean cosine of
 * {@code M(k_i)} with {@code v_i} stays {@code >= 0.9} for N up to 48 pairs (0.93 at 48, 0.82 at 128).
 *
 * <p>Results are views of scratch, valid until the next Apply. Not thread-safe: one thread drives a pipeline.
 */
public final class TitansPipeline implements Pipeline<KvRows, Tensor, Tensor, Tensor, Tensor> {

    /**
     * @param hidden h, the MLP's hidden width
     * @param chunk  rows per gradient step (1: per token)
     * @param eta    momentum decay, in [0, 1]
     * @param theta  learning rate, finite, {@code >= 0}
     * @param alpha  weight decay, in [0, 1]
     * @param seed   the seed of the MLP's initial weights
     */
    public record Settings(int hidden, int chunk, float eta, float theta, float alpha, long seed) {
        /** h = 256, per-token steps, eta = 0.5, theta = 0.003, alpha = 0.001. */
        public static final Settings DEFAULT = new Settings(256, 1, 0.5f, 0.003f, 0.001f, 42);

        public Settings {
            if (hidden < 1) {
                throw new IllegalArgumentException("hidden must be >= 1, got " + hidden);
            }
            if (chunk < 1) {
                throw new IllegalArgumentException("chunk must be >= 1, got " + chunk);
            }
            if (!(eta >= 0 && eta <= 1)) {
                throw new IllegalArgumentException("eta must be in [0, 1], got " + eta);
            }
            if (!(theta >= 0) || Float.isInfinite(theta)) {
                throw new IllegalArgumentException("theta must be finite and >= 0, got " + theta);
            }
            if (!(alpha >= 0 && alpha <= 1)) {
                throw new IllegalArgumentException("alpha must be in [0, 1], got " + alpha);
            }
        }
    }

    private final Engine engine;
    private final Settings settings;
    private final FastWeightMlp mlp;
    private final Tensor[] momentum;
    private final ParametricRead read;

    /**
     * @param dimension d, the width of keys, values and queries
     * @param arena     where the weights, momentum and scratch are allocated once (shared)
     */
    public TitansPipeline(Engine engine, int dimension, Settings settings, Arena arena) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.mlp = new FastWeightMlp(engine, dimension, settings.hidden(), settings.seed(), arena);
        Tensor[] w = mlp.weights();
        this.momentum = new Tensor[w.length];
        for (int i = 0; i < w.length; i++) {
            momentum[i] = Views.f32(arena, w[i].rows(), w[i].cols());
        }
        this.read = new ParametricRead(mlp, arena);
    }

    // ---- Prepare: a gradient step with momentum and decay per chunk ----

    /** Writes the (k, v) rows {@code [n, d]} each, in order, {@code chunk} rows per step. */
    @Override
    public void prepare(KvRows rows) {
        Objects.requireNonNull(rows, "rows");
        mlp.requireRows("keys", rows.keys());
        mlp.requireRows("values", rows.values());
        for (long from = 0; from < rows.tokens(); from += settings.chunk()) {
            long to = Math.min(rows.tokens(), from + settings.chunk());
            mlp.gradient(rows.keys().rowSlice(from, to), rows.values().rowSlice(from, to), MlpLoss.SQUARED);
            Tensor[] w = mlp.weights();
            Tensor[] g = mlp.gradients();
            for (int i = 0; i < w.length; i++) {
                update(w[i], g[i], momentum[i]);
            }
        }
    }

    private void update(Tensor w, Tensor g, Tensor s) {
        // W and S are updated in place: the engine restores them should a device fail part way (no double update)
        engine.runInPlace(Op.MOMENTUM_UPDATE, OpCosts.of(Op.MOMENTUM_UPDATE.descriptor().sizes().size("r", w.rows())
                .size("c", w.cols()).type("W", ElementType.F32).type("G", ElementType.F32).type("S", ElementType.F32)
                .type("Wprime", ElementType.F32).type("Sprime", ElementType.F32)), List.of(w, s),
                b -> b.train().momentumUpdate(w, g, s, settings.eta(), settings.theta(), settings.alpha()));
    }

    // ---- Relevancy and Retrieval: every weight takes part; nothing runs ----

    @Override
    public Tensor relevancy(Tensor query) {
        return query;
    }

    @Override
    public Tensor retrieve(Tensor query) {
        return query;
    }

    // ---- Apply: M(q) ----

    /** @return {@code M(q)} for each row of {@code query [m, d]}, a view {@code [m, d]} of scratch */
    @Override
    public Tensor apply(Tensor query, Tensor selection) {
        return read.apply(query);
    }

    public Settings settings() {
        return settings;
    }

    /** The memory's weights (live). */
    public FastWeightMlp memory() {
        return mlp;
    }
}
