package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.FastWeightMlp;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.MlpLoss;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Objects;

/**
 * LaCT's large-chunk test-time training (Zhang et al. 2025, "Test-Time Training Done Right"): a SwiGLU fast-weight
 * MLP {@code f(x) = W2 (silu(W1 x) * (W3 x))} ({@link FastWeightMlp}) updated once per large chunk.
 *
 * <ol>
 *   <li><b>Prepare</b>: new (k, v) rows are copied into a chunk buffer ({@code convert}); when it holds
 *       {@code chunk} rows (or on {@link #flush()}), one update: the gradient {@code G} of {@code -sum_i <f(k_i),
 *       v_i>} over the chunk ({@code mlpGradient}, NEGATIVE_DOT), then for each weight matrix
 *       {@code W = W - lr * NS(G)} with {@code NS} Muon's Newton-Schulz orthogonalization ({@code newtonSchulz},
 *       {@code nsSteps} iterations), the subtraction run as {@code momentumUpdate} with no momentum and no
 *       decay.</li>
 *   <li><b>Relevancy</b> and <b>Retrieval</b>: nothing runs; every weight takes part in every read.</li>
 *   <li><b>Apply</b>: the read {@code f(q)} for each query row ({@code mlpForward}), with the weights of the
 *       chunks completed so far (rows still buffered are not yet in the memory).</li>
 * </ol>
 * The paper's per-token learning rates and the weight renormalization after each update are not modelled.
 *
 * <p>Capacity (measured by {@code ParametricMemoryLearningTest}, seed fixed): with the default settings,
 * d = 64, h = 256 and unit-norm random keys and values written as one chunk, the mean cosine of {@code f(k_i)}
 * with {@code v_i} stays {@code >= 0.9} for N up to 16 pairs (0.96 at 16, 0.80 at 64).
 *
 * <p>Results are views of scratch, valid until the next Apply. Not thread-safe: one thread drives a pipeline.
 */
public final class LactPipeline implements Pipeline<KvRows, Tensor, Tensor, Tensor, Tensor> {

    /**
     * @param hidden  h, the MLP's hidden width
     * @param chunk   rows per update (LaCT's 2048)
     * @param lr      the step size of the orthogonalized update, finite, {@code >= 0}
     * @param nsSteps Newton-Schulz iterations ({@code >= 1}; LaCT's 5)
     * @param seed    the seed of the MLP's initial weights
     */
    public record Settings(int hidden, int chunk, float lr, int nsSteps, long seed) {
        /** h = 256, chunks of 2048 rows, lr = 1, 5 Newton-Schulz steps. */
        public static final Settings DEFAULT = new Settings(256, 2048, 1f, 5, 42);

        public Settings {
            if (hidden < 1) {
                throw new IllegalArgumentException("hidden must be >= 1, got " + hidden);
            }
            if (chunk < 1) {
                throw new IllegalArgumentException("chunk must be >= 1, got " + chunk);
            }
            if (!(lr >= 0) || Float.isInfinite(lr)) {
                throw new IllegalArgumentException("lr must be finite and >= 0, got " + lr);
            }
            if (nsSteps < 1) {
                throw new IllegalArgumentException("nsSteps must be >= 1, got " + nsSteps);
            }
        }
    }

    private final Engine engine;
    private final Settings settings;
    private final FastWeightMlp mlp;
    private final Tensor keys;      // (chunk, d): the rows of the chunk being filled
    private final Tensor values;    // (chunk, d)
    private final Tensor[] ortho;   // NS(G) per weight
    private final Tensor[] unused;  // momentumUpdate's S, zero-weighted (eta = 0)
    private final ParametricRead read;
    private int buffered;
    private long updates;

    /**
     * @param dimension d, the width of keys, values and queries
     * @param arena     where the weights, the chunk buffer and scratch are allocated once (shared)
     */
    public LactPipeline(Engine engine, int dimension, Settings settings, Arena arena) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.mlp = new FastWeightMlp(engine, dimension, settings.hidden(), settings.seed(), arena);
        this.keys = Views.f32(arena, settings.chunk(), dimension);
        this.values = Views.f32(arena, settings.chunk(), dimension);
        Tensor[] w = mlp.weights();
        this.ortho = new Tensor[w.length];
        this.unused = new Tensor[w.length];
        for (int i = 0; i < w.length; i++) {
            ortho[i] = Views.f32(arena, w[i].rows(), w[i].cols());
            unused[i] = Views.f32(arena, w[i].rows(), w[i].cols());
        }
        this.read = new ParametricRead(mlp, arena);
    }

    // ---- Prepare: buffer the chunk; one orthogonalized gradient step per full chunk ----

    /** Appends the (k, v) rows {@code [n, d]} each; every completed chunk updates the weights. */
    @Override
    public void prepare(KvRows rows) {
        Objects.requireNonNull(rows, "rows");
        mlp.requireRows("keys", rows.keys());
        mlp.requireRows("values", rows.values());
        long from = 0;
        while (from < rows.tokens()) {
            long take = Math.min(rows.tokens() - from, settings.chunk() - buffered);
            Tensor k = rows.keys().rowSlice(from, from + take);
            Tensor v = rows.values().rowSlice(from, from + take);
            Tensor kTo = keys.rowSlice(buffered, buffered + take);
            Tensor vTo = values.rowSlice(buffered, buffered + take);
            engine.runVoid(Step.PREPARE, "convert", OpCosts.convert(take, mlp.dimension(), ElementType.F32,
                    ElementType.F32).times(2), b -> {
                b.prepare().convert(k, kTo);
                b.prepare().convert(v, vTo);
            });
            buffered += (int) take;
            from += take;
            if (buffered == settings.chunk()) {
                flush();
            }
        }
    }

    /** Updates the weights with the rows buffered so far (a partial chunk; nothing when none is buffered). */
    public void flush() {
        if (buffered == 0) {
            return;
        }
        mlp.gradient(keys.rowSlice(0, buffered), values.rowSlice(0, buffered), MlpLoss.NEGATIVE_DOT);
        Tensor[] w = mlp.weights();
        Tensor[] g = mlp.gradients();
        for (int i = 0; i < w.length; i++) {
            Tensor gi = g[i];
            Tensor oi = ortho[i];
            Tensor wi = w[i];
            Tensor si = unused[i];
            engine.runVoid(Op.NEWTON_SCHULZ, OpCosts.of(Op.NEWTON_SCHULZ.descriptor().sizes().size("r", gi.rows())
                    .size("c", gi.cols()).param("steps", Integer.toString(settings.nsSteps()))
                    .type("G", ElementType.F32).type("O", ElementType.F32)),
                    b -> b.train().newtonSchulz(gi, settings.nsSteps(), oi));
            // W = (1 - 0) W + (0 * S - lr * NS(G))
            // W (and the zero-weighted S) are updated in place: the engine restores them should a device fail part way
            engine.runInPlace(Op.MOMENTUM_UPDATE, OpCosts.of(Op.MOMENTUM_UPDATE.descriptor().sizes()
                    .size("r", wi.rows()).size("c", wi.cols()).type("W", ElementType.F32).type("G", ElementType.F32)
                    .type("S", ElementType.F32).type("Wprime", ElementType.F32).type("Sprime", ElementType.F32)),
                    List.of(wi, si), b -> b.train().momentumUpdate(wi, oi, si, 0f, settings.lr(), 0f));
        }
        buffered = 0;
        updates++;
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

    // ---- Apply: f(q) ----

    /** @return {@code f(q)} for each row of {@code query [m, d]}, a view {@code [m, d]} of scratch */
    @Override
    public Tensor apply(Tensor query, Tensor selection) {
        return read.apply(query);
    }

    /** Rows buffered for the next update. */
    public int buffered() {
        return buffered;
    }

    /** Updates applied so far. */
    public long updates() {
        return updates;
    }

    public Settings settings() {
        return settings;
    }

    /** The memory's weights (live). */
    public FastWeightMlp memory() {
        return mlp;
    }
}
