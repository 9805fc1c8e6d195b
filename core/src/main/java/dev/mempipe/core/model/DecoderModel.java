package dev.mempipe.core.model;

import dev.mempipe.core.pipeline.AttentionProvider;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.PrepareOps;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.Objects;

/**
 * A Llama-style decoder with seeded random weights, to profile the memory pipeline against: one
 * {@link #decodeStep} is one token through every layer, with the attention of each layer delegated to an
 * {@link AttentionProvider} (dense, or any sparse workload).
 *
 * <pre>
 * x = embedding[token]                                         (1, hidden)
 * for each layer:
 *     h = rmsNorm(x)
 *     q, k, v = project(h, Wq), project(h, Wk), project(h, Wv)  (Hq, d), (Hkv, d), (Hkv, d)
 *     q, k = rope(q, position), rope(k, position)
 *     attention.append(layer, k, v)                            Prepare
 *     o = attention.attend(layer, q)                           Relevancy, Retrieval, Apply   (Hq, d)
 *     x = x + project(o, Wo)
 *     h = rmsNorm(x)
 *     x = x + project(silu(project(h, Wgate)) * project(h, Wup), Wdown)
 * logits = project(rmsNorm(x), embedding)                      (1, vocab), the LM head tied to the embedding
 * </pre>
 * The pipeline's ops run through the provider's engine and appear in its profile; everything else is timed
 * into {@link #work()}. Weights are uniform with variance {@code 1/fanIn} (unit variance for the embedding);
 * norm gains are 1.
 *
 * <p>Not thread-safe: the scratch of a step is allocated once and reused.
 */
public final class DecoderModel {
    private final DecoderConfig config;
    private final PrepareOps ops;
    private final Tensor embedding; // (vocab, hidden), also the LM head
    private final Layer[] layers;
    private final Tensor finalNorm;  // (1, hidden)
    private final ModelWork work = new ModelWork();

    // scratch, one decode step's activations
    private final Tensor x;          // (1, hidden): the residual stream
    private final Tensor normed;     // (1, hidden)
    private final Tensor q;          // (1, Hq*d), viewed as (Hq, d)
    private final Tensor k;          // (1, Hkv*d), viewed as (Hkv, d)
    private final Tensor v;          // (1, Hkv*d)
    private final Tensor projected;  // (1, hidden)
    private final Tensor gate;       // (1, mlpHidden)
    private final Tensor up;         // (1, mlpHidden)
    private final Tensor logits;     // (1, vocab)
    private final Indices queryPositions; // (Hq)
    private final Indices keyPositions;   // (Hkv)

    /** One block's weights; projections are {@code [out, in]} as {@code project} takes them. */
    private record Layer(Tensor attentionNorm, Tensor wq, Tensor wk, Tensor wv, Tensor wo, Tensor mlpNorm,
                         Tensor wGate, Tensor wUp, Tensor wDown) {
    }

    /**
     * Generates the weights from {@code config.seed()} and allocates the scratch.
     *
     * @param arena   where weights and scratch live (shared: the CPU backend uses a thread pool)
     * @param backend runs the model's own ops (projections, RoPE); the CPU backend in practice
     */
    public DecoderModel(DecoderConfig config, Arena arena, Backend backend) {
        this.config = Objects.requireNonNull(config, "config");
        Objects.requireNonNull(arena, "arena");
        this.ops = Objects.requireNonNull(backend, "backend").prepare();
        long seed = config.seed();
        int h = config.hidden();
        ElementType w = config.weightType();
        this.embedding = weight(arena, w, config.vocab(), h, SeededFill.derive(seed, -1), (float) Math.sqrt(3));
        this.layers = new Layer[config.layers()];
        for (int l = 0; l < layers.length; l++) {
            long s = SeededFill.derive(seed, l);
            layers[l] = new Layer(ones(arena, h),
                    projection(arena, w, config.queryWidth(), h, SeededFill.derive(s, 0)),
                    projection(arena, w, config.kvWidth(), h, SeededFill.derive(s, 1)),
                    projection(arena, w, config.kvWidth(), h, SeededFill.derive(s, 2)),
                    projection(arena, w, h, config.queryWidth(), SeededFill.derive(s, 3)),
                    ones(arena, h),
                    projection(arena, w, config.mlpHidden(), h, SeededFill.derive(s, 4)),
                    projection(arena, w, config.mlpHidden(), h, SeededFill.derive(s, 5)),
                    projection(arena, w, h, config.mlpHidden(), SeededFill.derive(s, 6)));
        }
        this.finalNorm = ones(arena, h);
        this.x = f32(arena, h);
        this.normed = f32(arena, h);
        this.q = f32(arena, config.queryWidth());
        this.k = f32(arena, config.kvWidth());
        this.v = f32(arena, config.kvWidth());
        this.projected = f32(arena, h);
        this.gate = f32(arena, config.mlpHidden());
        this.up = f32(arena, config.mlpHidden());
        this.logits = f32(arena, config.vocab());
        this.queryPositions = Indices.allocate(arena, config.queryHeads());
        this.keyPositions = Indices.allocate(arena, config.kvHeads());
    }

    public DecoderConfig config() {
        return config;
    }

    /** The work outside the memory pipeline recorded so far. */
    public ModelWork work() {
        return work;
    }

    /**
     * Runs token {@code token} at {@code position} through every layer.
     *
     * @param attention the attention of every layer; its memories already hold the positions before this one
     * @return logits {@code (1, vocab)}, a view of scratch valid until the next step
     */
    public Tensor decodeStep(int token, int position, AttentionProvider attention) {
        if (token < 0 || token >= config.vocab()) {
            throw new IllegalArgumentException("token must be in [0, " + config.vocab() + "), got " + token);
        }
        if (position < 0) {
            throw new IllegalArgumentException("position must be >= 0, got " + position);
        }
        if (attention.layers() != config.layers()) {
            throw new IllegalArgumentException("attention serves " + attention.layers() + " layers, the model has "
                    + config.layers());
        }
        int hidden = config.hidden();
        int d = config.headDim();
        ElementType wt = config.weightType();
        for (int i = 0; i < queryPositions.length(); i++) {
            queryPositions.set(i, position);
        }
        for (int i = 0; i < keyPositions.length(); i++) {
            keyPositions.set(i, position);
        }
        Tensor queryHeads = q.reshape(config.queryHeads(), d);           // (Hq, d)
        Tensor keyHeads = k.reshape(config.kvHeads(), d);                 // (Hkv, d)

        work.run(ModelWork.EMBEDDING, OpCosts.convert(1, hidden, wt, ElementType.F32),
                () -> ops.convert(embedding.rowSlice(token, token + 1), x));
        for (int l = 0; l < layers.length; l++) {
            Layer w = layers[l];
            // attention block
            work.run(ModelWork.NORM, normCost(hidden), () -> Activations.rmsNorm(x, w.attentionNorm(),
                    DecoderConfig.NORM_EPSILON, normed));
            work.run(ModelWork.PROJECTION, project(hidden, config.queryWidth()).plus(project(hidden, config.kvWidth()))
                    .plus(project(hidden, config.kvWidth())), () -> {
                        ops.project(normed, w.wq(), q);
                        ops.project(normed, w.wk(), k);
                        ops.project(normed, w.wv(), v);
                    });
            work.run(ModelWork.ROPE, OpCosts.rope(config.queryHeads(), d, ElementType.F32, ElementType.F32)
                    .plus(OpCosts.rope(config.kvHeads(), d, ElementType.F32, ElementType.F32)), () -> {
                        ops.rope(queryHeads, queryPositions, DecoderConfig.ROPE_THETA, queryHeads);
                        ops.rope(keyHeads, keyPositions, DecoderConfig.ROPE_THETA, keyHeads);
                    });
            attention.append(l, k, v);
            Tensor o = attention.attend(l, queryHeads);                   // (Hq, d)
            work.run(ModelWork.PROJECTION, project(config.queryWidth(), hidden).plus(addCost(hidden)), () -> {
                ops.project(o.reshape(1, config.queryWidth()), w.wo(), projected);
                Activations.addInPlace(x, projected);
            });
            // MLP block
            work.run(ModelWork.NORM, normCost(hidden), () -> Activations.rmsNorm(x, w.mlpNorm(),
                    DecoderConfig.NORM_EPSILON, normed));
            int m = config.mlpHidden();
            work.run(ModelWork.MLP, project(hidden, m).times(2).plus(project(m, hidden))
                    .plus(new OpCost(8L * m, 4L * m, 5L * m)).plus(addCost(hidden)), () -> {
                        ops.project(normed, w.wGate(), gate);
                        ops.project(normed, w.wUp(), up);
                        Activations.swiGlu(gate, up);
                        ops.project(gate, w.wDown(), projected);
                        Activations.addInPlace(x, projected);
                    });
        }
        work.run(ModelWork.NORM, normCost(hidden), () -> Activations.rmsNorm(x, finalNorm, DecoderConfig.NORM_EPSILON,
                normed));
        work.run(ModelWork.LM_HEAD, project(hidden, config.vocab()), () -> ops.project(normed, embedding, logits));
        return logits;
    }

    private OpCost project(long in, long out) {
        return OpCosts.project(1, in, out, ElementType.F32, config.weightType(), ElementType.F32);
    }

    /** Read x and the gain, write the output; square-and-add, then a scale and a gain multiply per element. */
    private static OpCost normCost(long n) {
        return new OpCost(8 * n, 4 * n, 4 * n);
    }

    private static OpCost addCost(long n) {
        return new OpCost(8 * n, 4 * n, n);
    }

    private static Tensor f32(Arena arena, int cols) {
        return Tensor.allocate(arena, ElementType.F32, 1, cols);
    }

    private static Tensor ones(Arena arena, int cols) {
        Tensor t = f32(arena, cols);
        for (int i = 0; i < cols; i++) {
            t.set(0, i, 1f);
        }
        return t;
    }

    /** {@code [out, in]}, uniform with variance {@code 1/in}. */
    private static Tensor projection(Arena arena, ElementType type, int out, int in, long seed) {
        return weight(arena, type, out, in, seed, (float) Math.sqrt(3.0 / in));
    }

    private static Tensor weight(Arena arena, ElementType type, int rows, int cols, long seed, float bound) {
        Tensor t = Tensor.allocate(arena, type, rows, cols);
        SeededFill.uniform(t, seed, bound);
        return t;
    }
}
