package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.BlockGateMemory;
import dev.mempipe.core.memory.PagedKvMemory;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.PoolMode;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.Objects;

/**
 * SeerAttention-R's learned block gate for decoding (Gao et al., 2025).
 *
 * <ol>
 *   <li><b>Prepare</b>: per KV head, the keys of each full block of B tokens are pooled with MAX, MIN and MEAN,
 *       concatenated and projected by the gate's key weight into one gate key ({@link BlockGateMemory}).</li>
 *   <li><b>Relevancy</b>: the GQA group's query heads are pooled ({@code pagePool MEAN} over the group, the
 *       paper's shared sparsity per group), projected by the gate's query weight, scored against the gate
 *       keys ({@code dot}) and turned into block probabilities ({@code softmax}, scale {@code 1/sqrt(dg)}).</li>
 *   <li><b>Retrieval</b>: per KV head, the top blocks ({@code topK}) or every block whose probability is above
 *       a threshold ({@code threshold}, {@code bitmapToIndices}); expanded to tokens ({@code expandBlocks})
 *       together with the sink, the recent window and the tokens of the partial last block, which the gate has
 *       not pooled yet.</li>
 *   <li><b>Apply</b>: attention over the chosen tokens.</li>
 * </ol>
 * At least the newest token is always attended, so a threshold that no block clears still leaves a row.
 */
public final class SeerAttentionPipeline implements KvPipeline<Tensor> {

    /**
     * @param blockSize    B, tokens per gate block; SeerAttention-R uses 64
     * @param topBlocks    blocks chosen per KV head when {@code threshold} is NaN
     * @param threshold    when not NaN, choose every block whose gate probability is {@code > threshold} instead
     * @param sinkTokens   first tokens always attended
     * @param windowTokens last tokens always attended (at least the unpooled partial block is)
     */
    public record Settings(int blockSize, int topBlocks, float threshold, int sinkTokens, int windowTokens) {
        /** Blocks of 64, the top 64 blocks (a 4096-token budget), no extra sink or window. */
        public static final Settings DEFAULT = new Settings(64, 64, Float.NaN, 0, 0);

        public Settings {
            KvPipelines.positive("blockSize", blockSize);
            KvPipelines.positive("topBlocks", topBlocks);
            if (Float.isInfinite(threshold)) {
                throw new IllegalArgumentException("threshold must be finite or NaN (off), got " + threshold);
            }
            KvPipelines.nonNegative("sinkTokens", sinkTokens);
            KvPipelines.nonNegative("windowTokens", windowTokens);
        }

        public boolean usesThreshold() {
            return !Float.isNaN(threshold);
        }

        /** The same settings choosing the top {@code blocks} blocks. */
        public Settings withTopBlocks(int blocks) {
            return new Settings(blockSize, blocks, Float.NaN, sinkTokens, windowTokens);
        }

        /** The same settings choosing blocks by gate probability {@code > threshold}. */
        public Settings withThreshold(float threshold) {
            return new Settings(blockSize, topBlocks, threshold, sinkTokens, windowTokens);
        }
    }

    /**
     * The gate's weights: {@code query [dg, d]} projects a pooled query head, {@code key [dg, 3d]} projects a
     * block's pooled keys {@code [max | min | mean]}.
     */
    public record GateWeights(Tensor query, Tensor key) {
        public GateWeights {
            Objects.requireNonNull(query, "query");
            Objects.requireNonNull(key, "key");
            if (query.rows() != key.rows() || key.cols() != 3 * query.cols()) {
                throw new IllegalArgumentException("gate weights must be query [dg, d] and key [dg, 3d], got query "
                        + query.shapeString() + " and key " + key.shapeString());
            }
        }

        /**
         * A gate that tracks attention without training, for models with random weights: the query passes
         * unchanged ({@code I [d, d]}) and a block's key is the midrange of its keys, {@code (max + min) / 2}
         * ({@code [I/2 | I/2 | 0]}). A key far out along the query's direction moves its block's max (or min)
         * with it, where the mean would dilute it by B. A trained gate learns its own mapping.
         */
        public static GateWeights tracking(Arena arena, int headDim) {
            Tensor query = Tensor.allocate(arena, ElementType.F32, headDim, headDim);
            Tensor key = Tensor.allocate(arena, ElementType.F32, headDim, 3 * headDim);
            for (int i = 0; i < headDim; i++) {
                query.set(i, i, 1f);
                key.set(i, i, 0.5f);
                key.set(i, headDim + i, 0.5f);
            }
            return new GateWeights(query, key);
        }

        /** dg, the gate dimension. */
        public int gateDim() {
            return (int) query.rows();
        }
    }

    private final Engine engine;
    private final PagedKvMemory kv;
    private final BlockGateMemory gate;
    private final Tensor gateQueryWeight; // (dg, d)
    private final AttentionShape shape;
    private final Settings settings;
    private final Tensor groupQuery;      // (Hkv, d): the mean query of each GQA group
    private final Tensor gateQuery;       // (Hkv, dg)
    private final Tensor blockScores;     // (Hkv, maxBlocks): gate probabilities
    private final Bitmap passed;          // (Hkv * maxBlocks) bits: threshold mode, row g at bit g*blocks
    private final Indices passedFlat;     // (Hkv * maxBlocks): the set bits of `passed`, ascending
    private final Indices[] blocks;       // per KV head, chosen blocks (threshold mode)
    private final Indices topBlocks;      // (Hkv * k): row g's top blocks at [g*k, (g+1)*k) (top-k mode)
    private final Indices[] tokens;       // per KV head, chosen tokens
    private final SparseAttention attention;

    /**
     * @param kv    the layer's KV cache
     * @param gate  the layer's gate keys, built with {@code weights.key()} and blocks of {@code settings.blockSize()}
     * @param arena where the scratch is allocated once (shared)
     */
    public SeerAttentionPipeline(Engine engine, PagedKvMemory kv, BlockGateMemory gate, GateWeights weights,
                                 AttentionShape shape, Settings settings, Arena arena) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.kv = Objects.requireNonNull(kv, "kv");
        this.gate = Objects.requireNonNull(gate, "gate");
        this.shape = KvPipelines.checkShape(shape, kv);
        this.settings = Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(weights, "weights");
        if (gate.blockSize() != settings.blockSize() || gate.gateDim() != weights.gateDim()
                || gate.kvHeads() != shape.kvHeads() || weights.query().cols() != shape.headDim()) {
            throw new IllegalArgumentException("gate memory (B " + gate.blockSize() + ", dg " + gate.gateDim()
                    + ", Hkv " + gate.kvHeads() + ") does not match the settings (B " + settings.blockSize()
                    + "), the weights (dg " + weights.gateDim() + ", d " + weights.query().cols() + ") or the shape "
                    + shape);
        }
        if (gate.capacity() < kv.capacity()) {
            throw new IllegalArgumentException("gate capacity " + gate.capacity() + " is below the KV cache's "
                    + kv.capacity());
        }
        this.gateQueryWeight = weights.query();
        int maxBlocks = (int) Math.max(1, kv.capacity() / settings.blockSize());
        int chosenBlocks = settings.usesThreshold() ? maxBlocks : Math.min(settings.topBlocks(), maxBlocks);
        int maxTokens = (int) Math.min(kv.capacity(), (long) chosenBlocks * settings.blockSize()
                + settings.sinkTokens() + Math.max(settings.windowTokens(), settings.blockSize()));
        this.groupQuery = Views.f32(arena, shape.kvHeads(), shape.headDim());
        this.gateQuery = Views.f32(arena, shape.kvHeads(), weights.gateDim());
        this.blockScores = Views.f32(arena, shape.kvHeads(), maxBlocks);
        this.topBlocks = Indices.allocate(arena, shape.kvHeads() * chosenBlocks);
        this.passed = settings.usesThreshold() ? Bitmap.allocate(arena, (long) shape.kvHeads() * maxBlocks) : null;
        this.passedFlat = settings.usesThreshold() ? Indices.allocate(arena, shape.kvHeads() * maxBlocks) : null;
        this.blocks = new Indices[shape.kvHeads()];
        this.tokens = new Indices[shape.kvHeads()];
        for (int g = 0; g < shape.kvHeads(); g++) {
            blocks[g] = Indices.allocate(arena, chosenBlocks);
            tokens[g] = Indices.allocate(arena, maxTokens);
        }
        this.attention = new SparseAttention(engine, shape, arena);
    }

    @Override
    public String name() {
        return "seer-attention";
    }

    // ---- Prepare: KV append, then MAX | MIN | MEAN pooling and the gate projection of every full block ----

    @Override
    public void prepare(KvRows rows) {
        kv.append(rows.keys(), rows.values());  // one Prepare step: convert, pageMinMaxAppend
        gate.append(rows.keys());               // one Prepare step: pagePool x3, project per full block
    }

    // ---- Relevancy: p = softmax(dot(W_q * mean(q_group), gateKeys)) per KV head ----

    /** @return block probabilities {@code (Hkv, blocks)}, zero columns before the first full block */
    @Override
    public Tensor relevancy(Tensor q) {                                   // q (Hq, d)
        shape.checkQuery("query", q);
        gate.placeOn(engine.backendFor(Step.RELEVANCY));
        kv.placeOn(engine.backendFor(Step.RELEVANCY), engine.backendFor(Step.APPLY));
        BlockGateMemory.Snapshot keys = gate.snapshot();
        int blockCount = Math.toIntExact(keys.blocks());
        Tensor scores = Views.firstColumns(blockScores, blockCount);       // (Hkv, blocks)
        if (blockCount == 0) {
            return scores; // no full block yet: the window holds every token
        }
        int d = shape.headDim();
        int dg = gateQuery.cols();
        engine.runVoid(Step.RELEVANCY, "pagePool", OpCosts.pagePool(shape.queryHeads(), d, shape.groupSize(),
                PoolMode.MEAN, q.type(), ElementType.F32),
                b -> b.prepare().pagePool(q, shape.groupSize(), PoolMode.MEAN, groupQuery));   // (Hkv, d)
        engine.runVoid(Step.RELEVANCY, "project", OpCosts.project(shape.kvHeads(), d, dg, ElementType.F32,
                gateQueryWeight.type(), ElementType.F32),
                b -> b.prepare().project(groupQuery, gateQueryWeight, gateQuery));              // (Hkv, dg)
        engine.runVoid(Op.DOT, OpCosts.dot(1, blockCount, dg, ElementType.F32, ElementType.F32).times(shape.kvHeads()),
                b -> {
                    for (int g = 0; g < shape.kvHeads(); g++) {
                        b.relevancy().dot(Views.row(gateQuery, g), keys.gateKeys(g), Views.row(scores, g));
                    }
                });
        float scale = (float) (1 / Math.sqrt(dg));
        // in place: the scores are the softmax's input and output, so a device failure must not leave them half done
        engine.runInPlace(Op.SOFTMAX, OpCosts.softmax(blockCount, ElementType.F32, ElementType.F32).times(shape.kvHeads()),
                java.util.List.of(scores), b -> {
                    for (int g = 0; g < shape.kvHeads(); g++) {
                        b.relevancy().softmax(Views.row(scores, g), scale, Views.row(scores, g));
                    }
                });
        return scores;
    }

    // ---- Retrieval: top blocks (or blocks above the threshold) per KV head, expanded to tokens ----

    @Override
    public TokenSelection retrieve(Tensor probabilities) {                // (Hkv, blocks)
        long length = kv.length();
        int blockCount = probabilities.cols();
        int heads = shape.kvHeads();
        int[] chosen = new int[heads];
        Indices[] chosenBlocksOf = blocks.clone();
        if (blockCount > 0 && settings.usesThreshold()) {
            // one call each for every KV head: bit g*blocks + b says whether head g keeps block b
            Bitmap bits = Bitmap.wrap(passed.words(), (long) heads * blockCount);   // (Hkv * blocks) bits
            engine.runVoid(Op.THRESHOLD, OpCosts.threshold(blockCount, ElementType.F32).times(heads),
                    b -> b.retrieval().threshold(probabilities, settings.threshold(), bits));
            int[] total = new int[1];
            engine.runVoid(Op.BITMAP_TO_INDICES, OpCosts.bitmapToIndices((long) heads * blockCount,
                    (long) heads * blockCount), b -> total[0] = b.retrieval().bitmapToIndices(bits, passedFlat));
            for (int i = 0; i < total[0]; i++) {           // ascending: head by head, blocks ascending within
                int flat = passedFlat.get(i);
                int g = flat / blockCount;
                blocks[g].set(chosen[g]++, flat - g * blockCount);
            }
        } else if (blockCount > 0) {
            int k = Math.min(settings.topBlocks(), blockCount);
            // one call for every KV head: row g's blocks land at topBlocks[g*k, (g+1)*k)
            engine.runVoid(Op.TOP_K, OpCosts.topK(blockCount, k, ElementType.F32, false).times(heads),
                    b -> b.retrieval().topK(probabilities, k, topBlocks, null));
            for (int g = 0; g < heads; g++) {
                chosen[g] = k;
                chosenBlocksOf[g] = topBlocks.slice(g * k, (g + 1) * k);
            }
        }
        // the partial last block is not pooled yet: attend it whole, and always at least the newest token
        int window = (int) Math.max(Math.max(settings.windowTokens(), length - gate.blocks() * gate.blockSize()), 1);
        int[] counts = new int[heads];
        long chosenBlocks = 0;
        for (int c : chosen) {
            chosenBlocks += c;
        }
        engine.runVoid(Op.EXPAND_BLOCKS, OpCosts.expandBlocks(chosenBlocks,
                Math.min(length, tokens[0].length()) * heads), b -> {
            for (int g = 0; g < heads; g++) {
                counts[g] = b.retrieval().expandBlocks(chosenBlocksOf[g].prefix(chosen[g]), settings.blockSize(),
                        length,
                        settings.sinkTokens(), window, tokens[g]);
            }
        });
        Indices[] rows = new Indices[heads];
        for (int g = 0; g < heads; g++) {
            rows[g] = tokens[g].prefix(counts[g]);
        }
        return TokenSelection.perKvHead(length, rows);
    }

    // ---- Apply: attention over the chosen tokens ----

    @Override
    public Tensor apply(Tensor q, TokenSelection selection) {
        return attention.apply(q, kv.snapshot(), selection);              // (Hq, d)
    }

    @Override
    public PagedKvMemory kv() {
        return kv;
    }

    public BlockGateMemory gate() {
        return gate;
    }

    @Override
    public AttentionShape shape() {
        return shape;
    }

    public Settings settings() {
        return settings;
    }
}
