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

    /**
     * Runs {@code tokens} at positions {@code [position, position + n)} through every layer as one batch (a
     * prefill): the projections and the MLP of all n tokens are single {@code project} calls, attention runs token
     * by token so each sees only the positions before it (causal). Only the last token goes through the LM head.
     *
     * @param attention the attention of every layer; its memories hold the positions before {@code position}
     * @return logits of the last token {@code (1, vocab)}, a view of scratch valid until the next step
     */
    public Tensor prefill(int[] tokens, int position, AttentionProvider attention) {
        Objects.requireNonNull(tokens, "tokens");
        if (tokens.length == 0) {
            throw new IllegalArgumentException("tokens must not be empty");
        }
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= config.vocab()) {
                throw new IllegalArgumentException("tokens[" + i + "] must be in [0, " + config.vocab() + "), got "
                        + tokens[i]);
            }
        }
        if (position < 0) {
            throw new IllegalArgumentException("position must be >= 0, got " + position);
        }
        if (attention.layers() != config.layers()) {
            throw new IllegalArgumentException("attention serves " + attention.layers() + " layers, the model has "
                    + config.layers());
        }
        int n = tokens.length;
        int hidden = config.hidden();
        int d = config.headDim();
        int hq = config.queryHeads();
        int hkv = config.kvHeads();
        int m = config.mlpHidden();
        ElementType wt = config.weightType();
        try (Arena batch = Arena.ofShared()) {
            Tensor xs = Tensor.allocate(batch, ElementType.F32, n, hidden);               // (n, hidden)
            Tensor norm = Tensor.allocate(batch, ElementType.F32, n, hidden);             // (n, hidden)
            Tensor qs = Tensor.allocate(batch, ElementType.F32, n, config.queryWidth());  // (n, Hq*d)
            Tensor ks = Tensor.allocate(batch, ElementType.F32, n, config.kvWidth());     // (n, Hkv*d)
            Tensor vs = Tensor.allocate(batch, ElementType.F32, n, config.kvWidth());     // (n, Hkv*d)
            Tensor os = Tensor.allocate(batch, ElementType.F32, n, config.queryWidth());  // (n, Hq*d)
            Tensor proj = Tensor.allocate(batch, ElementType.F32, n, hidden);             // (n, hidden)
            Tensor gates = Tensor.allocate(batch, ElementType.F32, n, m);                 // (n, mlpHidden)
            Tensor ups = Tensor.allocate(batch, ElementType.F32, n, m);                   // (n, mlpHidden)
            Indices qPositions = Indices.allocate(batch, n * hq);
            Indices kPositions = Indices.allocate(batch, n * hkv);
            for (int i = 0; i < n; i++) {
                for (int h = 0; h < hq; h++) {
                    qPositions.set(i * hq + h, position + i);
                }
                for (int h = 0; h < hkv; h++) {
                    kPositions.set(i * hkv + h, position + i);
                }
            }
            work.run(ModelWork.EMBEDDING, OpCosts.convert(n, hidden, wt, ElementType.F32), () -> {
                for (int i = 0; i < n; i++) {
                    ops.convert(embedding.rowSlice(tokens[i], tokens[i] + 1), xs.rowSlice(i, i + 1));
                }
            });
            for (int l = 0; l < layers.length; l++) {
                Layer w = layers[l];
                work.run(ModelWork.NORM, normCost(hidden).times(n), () -> rmsNormRows(xs, w.attentionNorm(), norm));
                work.run(ModelWork.PROJECTION, batchProject(n, hidden, config.queryWidth())
                        .plus(batchProject(n, hidden, config.kvWidth()).times(2)), () -> {
                            ops.project(norm, w.wq(), qs);
                            ops.project(norm, w.wk(), ks);
                            ops.project(norm, w.wv(), vs);
                        });
                work.run(ModelWork.ROPE, OpCosts.rope((long) n * hq, d, ElementType.F32, ElementType.F32)
                        .plus(OpCosts.rope((long) n * hkv, d, ElementType.F32, ElementType.F32)), () -> {
                            Tensor qHeads = qs.reshape((long) n * hq, d);
                            Tensor kHeads = ks.reshape((long) n * hkv, d);
                            ops.rope(qHeads, qPositions, DecoderConfig.ROPE_THETA, qHeads);
                            ops.rope(kHeads, kPositions, DecoderConfig.ROPE_THETA, kHeads);
                        });
                for (int i = 0; i < n; i++) {
                    attention.append(l, ks.rowSlice(i, i + 1), vs.rowSlice(i, i + 1));
                    Tensor o = attention.attend(l, qs.rowSlice(i, i + 1).reshape(hq, d));  // (Hq, d)
                    ops.convert(o.reshape(1, config.queryWidth()), os.rowSlice(i, i + 1));
                }
                work.run(ModelWork.PROJECTION, batchProject(n, config.queryWidth(), hidden).plus(addCost(hidden)
                        .times(n)), () -> {
                            ops.project(os, w.wo(), proj);
                            Activations.addInPlace(xs.reshape(1, n * hidden), proj.reshape(1, n * hidden));
                        });
                work.run(ModelWork.NORM, normCost(hidden).times(n), () -> rmsNormRows(xs, w.mlpNorm(), norm));
                work.run(ModelWork.MLP, batchProject(n, hidden, m).times(2).plus(batchProject(n, m, hidden))
                        .plus(new OpCost(8L * m, 4L * m, 5L * m).times(n)).plus(addCost(hidden).times(n)), () -> {
                            ops.project(norm, w.wGate(), gates);
                            ops.project(norm, w.wUp(), ups);
                            Activations.swiGlu(gates.reshape(1, n * m), ups.reshape(1, n * m));
                            ops.project(gates, w.wDown(), proj);
                            Activations.addInPlace(xs.reshape(1, n * hidden), proj.reshape(1, n * hidden));
                        });
            }
            Tensor last = xs.rowSlice(n - 1, n);
            work.run(ModelWork.NORM, normCost(hidden), () -> Activations.rmsNorm(last, finalNorm,
                    DecoderConfig.NORM_EPSILON, normed));
            work.run(ModelWork.LM_HEAD, project(hidden, config.vocab()), () -> ops.project(normed, embedding, logits));
        }
        return logits;
    }

    /** The analytic work of {@link #prefill} of n tokens after {@code length} cached ones (the LM head once). */
    public OpCost prefillCost(int n, long length) {
        if (n < 0 || length < 0) {
            throw new IllegalArgumentException("n and length must be >= 0, got " + n + ", " + length);
        }
        int h = config.hidden();
        OpCost perLayer = batchProject(n, h, config.queryWidth()).plus(batchProject(n, h, config.kvWidth()).times(2))
                .plus(batchProject(n, config.queryWidth(), h)).plus(batchProject(n, h, config.mlpHidden()).times(2))
                .plus(batchProject(n, config.mlpHidden(), h));
        // causal attention: token i reads length + i + 1 rows
        long rows = (long) n * length + (long) n * (n + 1) / 2;
        OpCost attention = new OpCost(2 * rows * config.kvWidth() * Float.BYTES,
                (long) n * config.queryWidth() * Float.BYTES, 4 * rows * config.queryWidth());
        return perLayer.plus(attention).times(config.layers()).plus(project(h, config.vocab()));
    }

    /**
     * The analytic work of n {@link #decodeStep}s after {@code length} cached tokens: every weight read per step,
     * the attention over a growing cache, the LM head each step.
     */
    public OpCost decodeCost(int n, long length) {
        OpCost one = prefillCost(1, 0);
        long rows = (long) n * length + (long) n * (n + 1) / 2;  // step i attends over length + i + 1 rows
        OpCost attention = new OpCost(2 * rows * config.kvWidth() * Float.BYTES, 0, 4 * rows * config.queryWidth())
                .times(config.layers());
        OpCost oneAttention = new OpCost(2L * config.kvWidth() * Float.BYTES, 0, 4L * config.queryWidth())
                .times(config.layers());
        return new OpCost(one.bytesRead() - oneAttention.bytesRead(), one.bytesWritten(),
                one.flops() - oneAttention.flops()).times(n).plus(attention);
    }

    private void rmsNormRows(Tensor xs, Tensor gain, Tensor out) {
        for (long i = 0; i < xs.rows(); i++) {
            Activations.rmsNorm(xs.rowSlice(i, i + 1), gain, DecoderConfig.NORM_EPSILON, out.rowSlice(i, i + 1));
        }
    }

    private OpCost batchProject(long n, long in, long out) {
        return OpCosts.project(n, in, out, ElementType.F32, config.weightType(), ElementType.F32);
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
