package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.IndexerKeyMemory;
import dev.mempipe.core.memory.PagedKvMemory;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * DeepSeek Sparse Attention's lightning indexer (DeepSeek-V3.2-Exp, 2025).
 *
 * <ol>
 *   <li><b>Prepare</b>: every token gets one small indexer key, {@code K_I = project(k, W_k)} {@code (dI)},
 *       stored as I8 with a row scale (the paper stores FP8) in an {@link IndexerKeyMemory}.</li>
 *   <li><b>Relevancy</b>: H indexer query heads {@code q_I = project(q, W_q)} {@code (H, dI)} and the indexer
 *       score {@code s_t = sum_h w_h * ReLU(<q_I,h, K_I,t>)} ({@code indexerScore}).</li>
 *   <li><b>Retrieval</b>: the top 2048 tokens ({@code topK}), plus sink and recent-window tokens, sorted and
 *       without duplicates ({@code expandBlocks} with blocks of one token).</li>
 *   <li><b>Apply</b>: attention over the chosen tokens; DSA shares one selection across all heads.</li>
 * </ol>
 *
 * <p>Deviation, for models without an indexer: the paper projects indexer queries and keys from the hidden
 * state. Here they are projected from the attention query (all heads flattened, {@code [1, Hq*d]}) and the
 * token's keys ({@code [Hkv*d]}), which lets {@link IndexerWeights#tracking} build an indexer that follows the
 * model's attention without training. The work per step has the paper's shape: one projection of
 * {@code H*dI} outputs and one scan of {@code n} keys of {@code dI}.
 */
public final class DsaPipeline implements KvPipeline<Tensor> {
    /** Key rows projected per op call in Prepare: bounds the scratch, keeps {@code project} batched. */
    private static final int PROJECT_CHUNK_ROWS = 4096;

    /**
     * @param indexerHeads H; DeepSeek-V3.2 uses 64
     * @param indexerDim   dI; DeepSeek-V3.2 uses 128
     * @param topTokens    tokens chosen; DeepSeek-V3.2 uses 2048
     * @param sinkTokens   first tokens always attended
     * @param windowTokens last tokens always attended
     * @param keyStorage   element type of the stored indexer keys (I8 or F16 are the compact choices)
     */
    public record Settings(int indexerHeads, int indexerDim, int topTokens, int sinkTokens, int windowTokens,
                           ElementType keyStorage) {
        /** 64 heads of 128, the top 2048 tokens, a 16-token sink, a 64-token window, I8 keys. */
        public static final Settings DEFAULT = new Settings(64, 128, 2048, 16, 64, ElementType.I8);

        public Settings {
            KvPipelines.positive("indexerHeads", indexerHeads);
            KvPipelines.positive("indexerDim", indexerDim);
            KvPipelines.positive("topTokens", topTokens);
            KvPipelines.nonNegative("sinkTokens", sinkTokens);
            KvPipelines.nonNegative("windowTokens", windowTokens);
            Objects.requireNonNull(keyStorage, "keyStorage");
        }

        /** The same settings choosing the top {@code tokens} tokens. */
        public Settings withTopTokens(int tokens) {
            return new Settings(indexerHeads, indexerDim, tokens, sinkTokens, windowTokens, keyStorage);
        }

        /** The same settings with an indexer of H heads of dI. */
        public Settings withIndexer(int heads, int dim) {
            return new Settings(heads, dim, topTokens, sinkTokens, windowTokens, keyStorage);
        }
    }

    /**
     * The indexer's weights: {@code query [H*dI, Hq*d]}, {@code key [dI, Hkv*d]}, head weights {@code heads [1, H]}.
     */
    public record IndexerWeights(Tensor query, Tensor key, Tensor heads) {
        public IndexerWeights {
            Objects.requireNonNull(query, "query");
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(heads, "heads");
            if (heads.rows() != 1 || query.rows() != (long) heads.cols() * key.rows()) {
                throw new IllegalArgumentException("indexer weights must be query [H*dI, Hq*d], key [dI, Hkv*d] and "
                        + "heads [1, H], got " + query.shapeString() + ", " + key.shapeString() + ", "
                        + heads.shapeString());
            }
        }

        /**
         * An indexer that follows attention without training: a random projection {@code P [dI, Hkv*d]} with
         * {@code E[P^T P] = I} (so {@code <P a, P b>} estimates {@code <a, b>}, as in Johnson-Lindenstrauss)
         * maps keys, and indexer head h projects one query head, placed in its KV head's band, by the same P.
         * With {@code H <= Hq} the heads are spread evenly ({@code h * Hq / H}, so every GQA group is
         * represented when H allows); with more, head h takes query head {@code h mod Hq}. Then {@code <q_I,h, K_I,t>} estimates {@code <q_h, k_t>} and the indexer ranks tokens by
         * their attention logits, up to the projection's noise. Head weights are {@code 1/H}.
         */
        public static IndexerWeights tracking(Arena arena, long seed, AttentionShape shape, int heads, int dim) {
            int width = shape.kvWidth();
            int d = shape.headDim();
            SplittableRandom random = new SplittableRandom(seed);
            float bound = (float) Math.sqrt(3.0 / dim); // uniform with variance 1/dI
            Tensor key = Tensor.allocate(arena, ElementType.F32, dim, width);
            for (int r = 0; r < dim; r++) {
                for (int c = 0; c < width; c++) {
                    key.set(r, c, (float) random.nextDouble(-bound, bound));
                }
            }
            Tensor query = Tensor.allocate(arena, ElementType.F32, (long) heads * dim, shape.queryHeads() * d);
            for (int h = 0; h < heads; h++) {
                int head = heads <= shape.queryHeads() ? h * shape.queryHeads() / heads : h % shape.queryHeads();
                int band = head / shape.groupSize() * d;
                for (int r = 0; r < dim; r++) {
                    for (int c = 0; c < d; c++) {
                        query.set((long) h * dim + r, head * d + c, key.get(r, band + c));
                    }
                }
            }
            Tensor weights = Tensor.allocate(arena, ElementType.F32, 1, heads);
            for (int h = 0; h < heads; h++) {
                weights.set(0, h, 1f / heads);
            }
            return new IndexerWeights(query, key, weights);
        }

        public int indexerHeads() {
            return heads.cols();
        }

        public int indexerDim() {
            return (int) key.rows();
        }
    }

    private final Engine engine;
    private final PagedKvMemory kv;
    private final IndexerKeyMemory indexerKeys;
    private final IndexerWeights weights;
    private final AttentionShape shape;
    private final Settings settings;
    private final Tensor projectedKeys; // (PROJECT_CHUNK_ROWS, dI): Prepare's scratch
    private final Tensor indexerQuery;  // (1, H*dI), viewed as (H, dI)
    private final Tensor tokenScores;   // (1, capacity)
    private final Indices topTokens;    // (topTokens)
    private final Indices tokens;       // (topTokens + sink + window) at most
    private final SparseAttention attention;

    /**
     * @param kv          the layer's KV cache
     * @param indexerKeys the layer's indexer keys, of dimension {@code weights.indexerDim()}
     * @param arena       where the scratch is allocated once (shared)
     */
    public DsaPipeline(Engine engine, PagedKvMemory kv, IndexerKeyMemory indexerKeys, IndexerWeights weights,
                       AttentionShape shape, Settings settings, Arena arena) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.kv = Objects.requireNonNull(kv, "kv");
        this.indexerKeys = Objects.requireNonNull(indexerKeys, "indexerKeys");
        this.weights = Objects.requireNonNull(weights, "weights");
        this.shape = KvPipelines.checkShape(shape, kv);
        this.settings = Objects.requireNonNull(settings, "settings");
        if (weights.key().cols() != shape.kvWidth() || weights.query().cols() != shape.queryHeads() * shape.headDim()
                || indexerKeys.indexDim() != weights.indexerDim()) {
            throw new IllegalArgumentException("indexer weights (query " + weights.query().shapeString() + ", key "
                    + weights.key().shapeString() + ") do not fit the shape " + shape + " or the indexer keys of dI "
                    + indexerKeys.indexDim());
        }
        if (indexerKeys.capacity() < kv.capacity()) {
            throw new IllegalArgumentException("indexer key capacity " + indexerKeys.capacity()
                    + " is below the KV cache's " + kv.capacity());
        }
        int top = (int) Math.min(settings.topTokens(), kv.capacity());
        this.projectedKeys = Views.f32(arena, Math.min(PROJECT_CHUNK_ROWS, kv.capacity()), weights.indexerDim());
        this.indexerQuery = Views.f32(arena, 1, (long) weights.indexerHeads() * weights.indexerDim());
        this.tokenScores = Views.f32(arena, 1, kv.capacity());
        this.topTokens = Indices.allocate(arena, top);
        this.tokens = Indices.allocate(arena, (int) Math.min(kv.capacity(),
                (long) top + settings.sinkTokens() + settings.windowTokens()));
        this.attention = new SparseAttention(engine, shape, arena);
    }

    @Override
    public String name() {
        return "dsa";
    }

    // ---- Prepare: KV append; K_I = project(k, W_k), stored compact ----

    @Override
    public void prepare(KvRows rows) {
        kv.append(rows.keys(), rows.values());  // one Prepare step: convert, pageMinMaxAppend
        Tensor keys = rows.keys();                                         // (n, Hkv*d)
        int dI = weights.indexerDim();
        for (long from = 0; from < keys.rows(); from += projectedKeys.rows()) {
            long to = Math.min(keys.rows(), from + projectedKeys.rows());
            Tensor chunk = keys.rowSlice(from, to);
            Tensor projected = projectedKeys.rowSlice(0, to - from);       // (n, dI)
            engine.runVoid(Op.PROJECT, OpCosts.project(to - from, shape.kvWidth(), dI, keys.type(),
                    weights.key().type(), ElementType.F32), b -> b.prepare().project(chunk, weights.key(), projected));
            indexerKeys.append(projected);                                 // one Prepare step: quantize or convert
        }
    }

    // ---- Relevancy: s_t = sum_h w_h * ReLU(<q_I,h, K_I,t>) ----

    /** @return token scores {@code (1, n)} */
    @Override
    public Tensor relevancy(Tensor q) {                                   // q (Hq, d)
        Tensor qI = indexerQuery(q);                                      // (H, dI)
        Tensor keys = indexerKeys.keys();                                 // (n, dI), with row scales when I8
        Tensor scores = Views.firstColumns(tokenScores, Math.toIntExact(keys.rows())); // (1, n)
        engine.runVoid(Op.INDEXER_SCORE, indexerCost(keys), b -> b.relevancy().indexerScore(qI, weights.heads(),
                keys, null, scores));
        return scores;
    }

    /** Pins the memories where the plan reads them (a no-op once there) and projects the indexer query. */
    private Tensor indexerQuery(Tensor q) {
        shape.checkQuery("query", q);
        indexerKeys.placeOn(engine.backendFor(Step.RELEVANCY));
        kv.placeOn(engine.backendFor(Step.RELEVANCY), engine.backendFor(Step.APPLY));
        Tensor flat = q.reshape(1, shape.queryHeads() * shape.headDim());  // (1, Hq*d)
        int heads = weights.indexerHeads();
        int dI = weights.indexerDim();
        engine.runVoid(Step.RELEVANCY, "project", OpCosts.project(1, flat.cols(), (long) heads * dI, flat.type(),
                weights.query().type(), ElementType.F32), b -> b.prepare().project(flat, weights.query(), indexerQuery));
        return indexerQuery.reshape(heads, dI);
    }

    private OpCost indexerCost(Tensor keys) {
        return OpCosts.indexerScore(weights.indexerHeads(), weights.indexerDim(), keys.rows(), ElementType.F32,
                keys.type(), false, ElementType.F32);
    }

    // ---- Retrieval: top 2048 tokens, plus sink and window ----

    @Override
    public TokenSelection retrieve(Tensor scores) {                       // (1, n)
        int n = scores.cols();
        int k = Math.min(topTokens.length(), n);
        engine.runVoid(Op.TOP_K, OpCosts.topK(n, k, ElementType.F32, false),
                b -> b.retrieval().topK(scores, k, topTokens, null));
        return expand(k);
    }

    /**
     * One decode step. When the plan puts Relevancy and Retrieval on one device (not the CPU), the indexer and the top-k run as
     * the fused {@code indexerTopK} (the token scores never leave that device); otherwise step by step.
     */
    @Override
    public Tensor step(Tensor q) {
        if (!engine.fusesOnDevice(Step.RELEVANCY, Step.RETRIEVAL)) {
            return KvPipeline.super.step(q);
        }
        Tensor qI = indexerQuery(q);
        Tensor keys = indexerKeys.keys();
        int n = Math.toIntExact(keys.rows());
        int k = Math.min(topTokens.length(), n);
        engine.runVoid(Step.RELEVANCY, "indexerTopK", indexerCost(keys).plus(OpCosts.topK(n, k, ElementType.F32,
                false)), b -> b.fused().indexerTopK(qI, weights.heads(), keys, null, k, topTokens, null));
        return apply(q, expand(k));
    }

    /** The top tokens with the sink and the window, sorted. */
    private TokenSelection expand(int k) {
        long length = kv.length();
        int[] count = new int[1];
        engine.runVoid(Op.EXPAND_BLOCKS, OpCosts.expandBlocks(k, Math.min(length, tokens.length())),
                b -> count[0] = b.retrieval().expandBlocks(topTokens.prefix(k), 1, length, settings.sinkTokens(),
                        settings.windowTokens(), tokens));
        return TokenSelection.shared(length, tokens.prefix(count[0]));
    }

    // ---- Apply: attention over the chosen tokens, all heads ----

    @Override
    public Tensor apply(Tensor q, TokenSelection selection) {
        return attention.apply(q, kv.snapshot(), selection);              // (Hq, d)
    }

    @Override
    public PagedKvMemory kv() {
        return kv;
    }

    public IndexerKeyMemory indexerKeys() {
        return indexerKeys;
    }

    @Override
    public AttentionShape shape() {
        return shape;
    }

    public Settings settings() {
        return settings;
    }
}
