package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.PagedKvMemory;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.OpArgs;
import dev.mempipe.spi.PoolMode;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.Objects;

/**
 * Quest / LServe query-aware page selection (Tang et al., ICML 2024; LServe, MLSys 2025).
 *
 * <ol>
 *   <li><b>Prepare</b>: the KV cache keeps per-page element-wise min and max of the keys, updated
 *       incrementally on every append ({@code pageMinMaxAppend}).</li>
 *   <li><b>Relevancy</b>: per KV head, Quest's upper bound of each page's attention logits,
 *       {@code questBound(q, min, max)}.</li>
 *   <li><b>Retrieval</b>: the {@code budget / P} best pages per KV head ({@code topK}), expanded to their tokens
 *       plus the sink and recent-window tokens LServe keeps ({@code expandBlocks}).</li>
 *   <li><b>Apply</b>: attention over the chosen tokens.</li>
 * </ol>
 *
 * <p>GQA: the query heads of a group share their KV head's pages (LServe's choice, so that one gather of KV
 * rows serves the group). The group is scored with its mean query ({@code pagePool MEAN} over the group's
 * query heads): one scan of the page summaries per KV head instead of one per query head. The bound of the
 * mean query bounds the group's mean logit, not each head's; a page only one head of the group needs can
 * rank lower than Quest per head would rank it.
 */
public final class QuestPipeline implements KvPipeline<Tensor> {

    /**
     * @param pageSize     P, tokens per page (must be the KV cache's page size); Quest uses 16
     * @param budgetTokens tokens attended besides sink and window; {@code budget / P} pages are chosen
     * @param sinkTokens   first tokens always attended
     * @param windowTokens last tokens always attended
     */
    public record Settings(int pageSize, int budgetTokens, int sinkTokens, int windowTokens) {
        /** Quest's page of 16 and token budget of 4096, with a 16-token sink and a 64-token window. */
        public static final Settings DEFAULT = new Settings(16, 4096, 16, 64);

        public Settings {
            KvPipelines.positive("pageSize", pageSize);
            KvPipelines.positive("budgetTokens", budgetTokens);
            KvPipelines.nonNegative("sinkTokens", sinkTokens);
            KvPipelines.nonNegative("windowTokens", windowTokens);
        }

        /** Pages chosen per KV head, {@code max(1, budget / P)}. */
        public int pages() {
            return Math.max(1, budgetTokens / pageSize);
        }
    }

    private final Engine engine;
    private final PagedKvMemory kv;
    private final AttentionShape shape;
    private final Settings settings;
    private final Tensor groupQuery;  // (Hkv, d): the mean query of each GQA group
    private final Tensor pageScores;  // (Hkv, maxPages): questBound per KV head
    private final Indices topPages;   // (Hkv * pages): row g's chosen pages at [g*k, (g+1)*k)
    private final Indices[] tokens;   // per KV head, (pages*P + sink + window) at most
    private final SparseAttention attention;

    /**
     * @param kv    the layer's KV cache, with pages of {@code settings.pageSize()} tokens
     * @param arena where the scratch is allocated once (shared: the CPU backend uses a thread pool)
     */
    public QuestPipeline(Engine engine, PagedKvMemory kv, AttentionShape shape, Settings settings, Arena arena) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.kv = Objects.requireNonNull(kv, "kv");
        this.shape = KvPipelines.checkShape(shape, kv);
        this.settings = Objects.requireNonNull(settings, "settings");
        if (kv.pageSize() != settings.pageSize()) {
            throw new IllegalArgumentException("settings.pageSize " + settings.pageSize()
                    + " differs from the KV cache's page size " + kv.pageSize());
        }
        long maxPages = OpArgs.ceilDiv(kv.capacity(), kv.pageSize());
        int chosen = (int) Math.min(settings.pages(), maxPages);
        int maxTokens = (int) Math.min(kv.capacity(),
                (long) chosen * settings.pageSize() + settings.sinkTokens() + settings.windowTokens());
        this.groupQuery = Views.f32(arena, shape.kvHeads(), shape.headDim());
        this.pageScores = Views.f32(arena, shape.kvHeads(), maxPages);
        this.topPages = Indices.allocate(arena, shape.kvHeads() * chosen);
        this.tokens = new Indices[shape.kvHeads()];
        for (int g = 0; g < shape.kvHeads(); g++) {
            tokens[g] = Indices.allocate(arena, maxTokens);
        }
        this.attention = new SparseAttention(engine, shape, arena);
    }

    @Override
    public String name() {
        return "quest";
    }

    // ---- Prepare: page min/max, kept current by every append ----

    @Override
    public void prepare(KvRows rows) {
        kv.append(rows.keys(), rows.values());  // one Prepare step: convert, pageMinMaxAppend
    }

    // ---- Relevancy: s_p = questBound(q_group, min_p, max_p) per KV head ----

    /** @return page scores {@code (Hkv, pages)}: row g holds KV head g's bounds */
    @Override
    public Tensor relevancy(Tensor q) {                                   // q (Hq, d)
        PagedKvMemory.Snapshot memory = groupQuery(q);
        long pages = memory.pages();
        int d = shape.headDim();
        Tensor scores = Views.firstColumns(pageScores, Math.toIntExact(pages)); // (Hkv, pages)
        engine.runVoid(Op.QUEST_BOUND, OpCosts.questBound(pages, d, ElementType.F32, memory.pageMin().type(),
                ElementType.F32).times(shape.kvHeads()),
                // one call for every KV head: group query g against head g's band of the summaries
                b -> b.relevancy().questBound(groupQuery, memory.pageMin(), memory.pageMax(), scores)); // (Hkv, pages)
        return scores;
    }

    /**
     * Pins the memory where the plan reads it (a no-op once there), then pools the query heads of each GQA group
     * into {@link #groupQuery}; returns the snapshot the scores are computed on.
     */
    private PagedKvMemory.Snapshot groupQuery(Tensor q) {
        shape.checkQuery("query", q);
        kv.placeOn(engine.backendFor(Step.RELEVANCY), engine.backendFor(Step.APPLY));
        PagedKvMemory.Snapshot memory = kv.snapshot();
        engine.runVoid(Step.RELEVANCY, "pagePool", OpCosts.pagePool(shape.queryHeads(), shape.headDim(),
                shape.groupSize(), PoolMode.MEAN, q.type(), ElementType.F32),
                b -> b.prepare().pagePool(q, shape.groupSize(), PoolMode.MEAN, groupQuery)); // (Hkv, d)
        return memory;
    }

    // ---- Retrieval: topK pages per KV head, expanded to tokens with sink and window ----

    @Override
    public TokenSelection retrieve(Tensor scores) {                       // (Hkv, pages)
        int pages = scores.cols();
        int k = Math.min(settings.pages(), pages);
        // one call for every KV head: row g's pages land at topPages[g*k, (g+1)*k)
        engine.runVoid(Op.TOP_K, OpCosts.topK(pages, k, ElementType.F32, false).times(shape.kvHeads()),
                b -> b.retrieval().topK(scores, k, topPages, null));
        return expand(k);
    }

    /**
     * One decode step. When the plan puts Relevancy and Retrieval on one device (not the CPU), the bound and the top-k run as
     * the fused {@code questBoundTopK}, so the page scores never leave that device; otherwise step by step.
     */
    @Override
    public Tensor step(Tensor q) {
        if (!engine.fusesOnDevice(Step.RELEVANCY, Step.RETRIEVAL)) {
            return KvPipeline.super.step(q);
        }
        PagedKvMemory.Snapshot memory = groupQuery(q);
        long pages = memory.pages();
        int d = shape.headDim();
        int k = (int) Math.min(settings.pages(), pages);
        engine.runVoid(Step.RELEVANCY, "questBoundTopK", OpCosts.questBound(pages, d, ElementType.F32,
                memory.pageMin().type(), ElementType.F32).plus(OpCosts.topK(pages, k, ElementType.F32, false))
                .times(shape.kvHeads()),
                b -> b.fused().questBoundTopK(groupQuery, memory.pageMin(), memory.pageMax(), k, topPages, null));
        return apply(q, expand(k));
    }

    /** The chosen pages of every KV head, expanded to token rows with the sink and the window. */
    private TokenSelection expand(int k) {
        long length = kv.length();
        int[] counts = new int[shape.kvHeads()];
        engine.runVoid(Op.EXPAND_BLOCKS, OpCosts.expandBlocks((long) k * shape.kvHeads(),
                Math.min(length, tokens[0].length()) * shape.kvHeads()), b -> {
            for (int g = 0; g < shape.kvHeads(); g++) {
                counts[g] = b.retrieval().expandBlocks(topPages.slice(g * k, (g + 1) * k), settings.pageSize(),
                        length, settings.sinkTokens(), settings.windowTokens(), tokens[g]);
            }
        });
        Indices[] chosen = new Indices[shape.kvHeads()];
        for (int g = 0; g < chosen.length; g++) {
            chosen[g] = tokens[g].prefix(counts[g]);
        }
        return TokenSelection.perKvHead(length, chosen);
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

    @Override
    public AttentionShape shape() {
        return shape;
    }

    public Settings settings() {
        return settings;
    }
}
