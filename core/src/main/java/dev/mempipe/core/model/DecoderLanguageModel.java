package dev.mempipe.core.model;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.pipeline.AttentionProvider;
import dev.mempipe.core.pipeline.AttentionShape;
import dev.mempipe.core.pipeline.KvRows;
import dev.mempipe.core.pipeline.LanguageModel;
import dev.mempipe.core.pipeline.Views;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * A {@link DecoderModel} as the {@link LanguageModel} the generating workloads drive: its own F32 KV cache per
 * layer that can be cut back ({@link #truncate}), dense attention on the model's backend, and, when asked, the
 * last layer's attention weights read out for DRAGIN: per query head {@code softmax(scale * dot(q_h, K))} over the
 * context, averaged over the heads, run through the engine as one RELEVANCY step ({@value #ATTENTION_WEIGHTS}).
 *
 * <p>The decoder's own work (projections, attention, MLP) is not put through the engine: it is the rest of the
 * decode step, as for the retrieval workloads. Not thread-safe.
 */
public final class DecoderLanguageModel implements LanguageModel {
    /** The profile label of the attention read-out. */
    public static final String ATTENTION_WEIGHTS = "attentionWeights";

    private final DecoderModel model;
    private final Backend backend;
    private final Engine engine;
    private final AttentionShape shape;
    private final int capacity;
    private final Tensor[] keys;      // per layer (capacity, Hkv*d)
    private final Tensor[] values;    // per layer (capacity, Hkv*d)
    private final long[] layerLength; // rows held per layer (equal between calls)
    private final Tensor out;         // (Hq, d)
    private final Tensor headScores;  // (1, capacity)
    private final Tensor weights;     // (1, capacity): the head-averaged read-out
    private final Cache cache = new Cache();
    private boolean recording;
    private boolean recorded;
    private int length;

    /**
     * @param model    the decoder (its weights are shared, its scratch is used by this model only)
     * @param arena    where the cache and scratch live (shared)
     * @param backend  runs the attention
     * @param engine   records the attention read-out
     * @param capacity positions the context can hold, {@code >= 1}
     */
    public DecoderLanguageModel(DecoderModel model, Arena arena, Backend backend, Engine engine, int capacity) {
        this.model = Objects.requireNonNull(model, "model");
        this.backend = Objects.requireNonNull(backend, "backend");
        this.engine = Objects.requireNonNull(engine, "engine");
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        }
        this.capacity = capacity;
        DecoderConfig config = model.config();
        this.shape = config.attentionShape();
        int layers = config.layers();
        this.keys = new Tensor[layers];
        this.values = new Tensor[layers];
        for (int l = 0; l < layers; l++) {
            keys[l] = Tensor.allocate(arena, ElementType.F32, capacity, config.kvWidth());
            values[l] = Tensor.allocate(arena, ElementType.F32, capacity, config.kvWidth());
        }
        this.layerLength = new long[layers];
        this.out = Tensor.allocate(arena, ElementType.F32, config.queryHeads(), config.headDim());
        this.headScores = Tensor.allocate(arena, ElementType.F32, 1, capacity);
        this.weights = Tensor.allocate(arena, ElementType.F32, 1, capacity);
    }

    @Override
    public int vocab() {
        return model.config().vocab();
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public Tensor next(int token) {
        room(1);
        recorded = false;
        Tensor logits = model.decodeStep(token, length, cache);
        length++;
        recorded = recording;
        return logits;
    }

    @Override
    public Tensor prefill(int[] tokens) {
        if (tokens.length == 0) {
            return null;
        }
        room(tokens.length);
        boolean was = recording;
        recording = false; // a prefill's tokens are not judged: no read-out
        recorded = false;
        try {
            Tensor logits = model.prefill(tokens, length, cache);
            length += tokens.length;
            return logits;
        } finally {
            recording = was;
        }
    }

    @Override
    public OpCost prefillCost(int tokens) {
        return model.prefillCost(tokens, length);
    }

    @Override
    public OpCost decodeCost(int tokens) {
        return model.decodeCost(tokens, length);
    }

    @Override
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("length must be in [0, " + length + "], got " + newLength);
        }
        length = newLength;
        java.util.Arrays.fill(layerLength, newLength);
        recorded = false;
    }

    @Override
    public void recordAttention(boolean on) {
        recording = on;
        if (!on) {
            recorded = false;
        }
    }

    @Override
    public Tensor lastAttention() {
        if (!recorded) {
            throw new IllegalStateException(recording ? "no token was decoded since recording was turned on"
                    : "attention recording is off: call recordAttention(true) first");
        }
        return Views.firstColumns(weights, length);
    }

    /**
     * Appends context rows to one layer's cache directly (synthetic KV for a profile's prompt); fill every layer
     * with the same rows count, then {@link #markFilled} the tokens.
     */
    public void appendContext(int layer, KvRows rows) {
        cache.append(layer, rows.keys(), rows.values());
    }

    /** After {@link #appendContext}: the context now holds {@code tokens} positions in every layer. */
    public void markFilled(int tokens) {
        for (long l : layerLength) {
            if (l != tokens) {
                throw new IllegalStateException("every layer must hold " + tokens + " rows, one holds " + l);
            }
        }
        length = tokens;
    }

    public DecoderModel decoder() {
        return model;
    }

    private void room(int tokens) {
        if (length + (long) tokens > capacity) {
            throw new IllegalStateException(tokens + " more tokens do not fit the context: " + length + " of "
                    + capacity + " positions are used");
        }
    }

    /** The attention of every layer over this model's own cache. */
    private final class Cache implements AttentionProvider {
        @Override
        public String name() {
            return "dense";
        }

        @Override
        public int layers() {
            return keys.length;
        }

        @Override
        public void append(int layer, Tensor k, Tensor v) {
            long from = layerLength[layer];
            long to = from + k.rows();
            if (to > capacity) {
                throw new IllegalStateException(k.rows() + " rows do not fit layer " + layer + "'s cache of " + capacity);
            }
            backend.prepare().convert(k, keys[layer].rowSlice(from, to));
            backend.prepare().convert(v, values[layer].rowSlice(from, to));
            layerLength[layer] = to;
        }

        @Override
        public Tensor attend(int layer, Tensor query) {
            long rows = layerLength[layer];
            Tensor k = keys[layer].rowSlice(0, rows);
            Tensor v = values[layer].rowSlice(0, rows);
            backend.apply().attention(query, k, v, shape.kvHeads(), null, shape.scale(), out);
            if (recording && layer == keys.length - 1) {
                readOut(query, k, (int) rows);
            }
            return out;
        }

        /** The head-averaged softmax of the query heads' scores over the rows, into {@code weights}. */
        private void readOut(Tensor query, Tensor k, int rows) {
            int d = shape.headDim();
            int hq = shape.queryHeads();
            OpCost cost = OpCosts.dot(1, rows, d, ElementType.F32, ElementType.F32)
                    .plus(OpCosts.softmax(rows, ElementType.F32, ElementType.F32))
                    .plus(new OpCost(8L * rows, 4L * rows, rows)).times(hq);
            Tensor scores = Views.firstColumns(headScores, rows);
            Tensor mean = Views.firstColumns(weights, rows);
            engine.runVoid(Step.RELEVANCY, ATTENTION_WEIGHTS, cost, b -> {
                float[] sum = new float[rows];
                MemorySegment s = scores.data();
                for (int h = 0; h < hq; h++) {
                    Tensor band = Views.kvHead(k, h / shape.groupSize(), d);      // (rows, d)
                    b.relevancy().dot(Views.row(query, h), band, scores);
                    b.relevancy().softmax(scores, shape.scale(), scores);
                    for (int i = 0; i < rows; i++) {
                        sum[i] += s.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
                    }
                }
                MemorySegment m = mean.data();
                for (int i = 0; i < rows; i++) {
                    m.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, sum[i] / hq);
                }
            });
        }
    }
}
