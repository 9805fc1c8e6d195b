package dev.mempipe.core.whatif;

import dev.mempipe.core.model.DecoderConfig;
import dev.mempipe.core.placement.OpWork;
import dev.mempipe.core.placement.StepShape;
import dev.mempipe.core.placement.WorkloadShape;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Step;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

import static dev.mempipe.spi.ElementType.BF16;
import static dev.mempipe.spi.ElementType.F32;
import static dev.mempipe.spi.ElementType.I8;

/**
 * The decode steps the what-if comparison plans, on a Llama-3-8B-shaped model (32 layers of
 * {@link DecoderConfig#medium()}: hidden 4096, 32 query and 8 KV heads of 128, BF16 weights and KV). Each
 * layer's ops are listed one by one (each pays its launch), and the weights' read and multiply for the token is
 * the host-only work. Sizes are those of the published workloads; they are a model, not a measurement.
 */
public final class DecodeWorkloads {
    /** The workloads {@link #of} knows. */
    public static final List<String> NAMES = List.of("quest", "dsa", "bm25");

    static final DecoderConfig MODEL = DecoderConfig.medium().withLayers(32);
    /** Quest: tokens per page and pages kept per KV head (a 2048-token budget). */
    static final int QUEST_PAGE = 16, QUEST_PAGES_KEPT = 128;
    /** DSA's lightning indexer: heads, width, tokens kept. */
    static final int DSA_HEADS = 64, DSA_DIM = 128, DSA_KEPT = 2048;
    /** BM25 RAG: tokens per document, distinct query terms, share of documents each term occurs in, top documents. */
    static final int BM25_DOC_TOKENS = 256, BM25_QUERY_TERMS = 8, BM25_TOP = 64;
    static final double BM25_TERM_DOC_SHARE = 0.05;

    private DecodeWorkloads() {
    }

    /** The decode step of {@code workload} at {@code context} tokens. */
    public static DecodeStep of(String workload, long context) {
        return switch (workload.toLowerCase(Locale.ROOT)) {
            case "quest" -> quest(context);
            case "dsa" -> dsa(context);
            case "bm25" -> bm25(context);
            default -> throw new IllegalArgumentException("unknown workload '" + workload + "'; workloads: " + NAMES);
        };
    }

    /** Quest page selection: page min/max append, questBound per KV head, top-k pages, sparse attention. */
    static DecodeStep quest(long context) {
        int layers = MODEL.layers();
        int hkv = MODEL.kvHeads();
        int d = MODEL.headDim();
        long pages = ceilDiv(context, QUEST_PAGE);
        long kept = Math.min(QUEST_PAGES_KEPT, pages);
        StepShape prepare = new StepShape(Step.PREPARE, perLayer(layers, OpWork.of(Op.PAGE_MIN_MAX,
                OpCosts.pageMinMaxAppend(context, context - 1, MODEL.kvWidth(), QUEST_PAGE, BF16, BF16), BF16)),
                layers * 2L * MODEL.kvWidth(), layers * 2L * 2 * MODEL.kvWidth());
        StepShape relevancy = new StepShape(Step.RELEVANCY, perLayer(layers, OpWork.of(Op.QUEST_BOUND,
                OpCosts.questBound(pages, d, F32, BF16, F32).times(hkv), F32, BF16)),
                layers * 4L * hkv * d, layers * 4L * hkv * pages, layers * 2L * 2 * pages * MODEL.kvWidth());
        StepShape retrieval = new StepShape(Step.RETRIEVAL, perLayer(layers, new OpWork(Op.TOP_K,
                OpCosts.topK(pages, kept).times(hkv), java.util.Set.of(F32)).withSizes(pages, 1, kept, 0)),
                0, layers * 4L * hkv * kept);
        StepShape apply = new StepShape(Step.APPLY, perLayer(layers, OpWork.of(Op.ATTENTION,
                OpCosts.attention(MODEL.queryHeads(), hkv, d, kept * QUEST_PAGE, BF16, BF16, BF16, true), BF16)),
                0, layers * 2L * MODEL.queryWidth());
        return new DecodeStep("quest", context, WorkloadShape.of(prepare, relevancy, retrieval, apply), weights(),
                "Quest: " + pages + " pages of " + QUEST_PAGE + " per KV head, top " + kept + " pages, sparse attention"
                        + " over " + kept * QUEST_PAGE + " tokens; " + layers + " layers");
    }

    /** DSA: indexer key projection, indexerScore, top 2048 tokens, sparse attention. */
    static DecodeStep dsa(long context) {
        int layers = MODEL.layers();
        long kept = Math.min(DSA_KEPT, context);
        StepShape prepare = new StepShape(Step.PREPARE, perLayer(layers, OpWork.of(Op.PROJECT,
                OpCosts.project(1, MODEL.hidden(), DSA_DIM, BF16, BF16, BF16), BF16)),
                layers * 2L * MODEL.hidden(), layers * (DSA_DIM + 4L));
        StepShape relevancy = new StepShape(Step.RELEVANCY, perLayer(layers, OpWork.of(Op.INDEXER_SCORE,
                OpCosts.indexerScore(DSA_HEADS, DSA_DIM, context, F32, I8, true, F32), F32, I8)),
                layers * 4L * DSA_HEADS * (DSA_DIM + 1), layers * 4L * context, layers * context * (DSA_DIM + 4L));
        StepShape retrieval = new StepShape(Step.RETRIEVAL, perLayer(layers, new OpWork(Op.TOP_K,
                OpCosts.topK(context, kept), java.util.Set.of(F32)).withSizes(context, 1, kept, 0)),
                0, layers * 4L * kept);
        StepShape apply = new StepShape(Step.APPLY, perLayer(layers, OpWork.of(Op.ATTENTION,
                OpCosts.attention(MODEL.queryHeads(), MODEL.kvHeads(), MODEL.headDim(), kept, BF16, BF16, BF16, true),
                BF16)), 0, layers * 2L * MODEL.queryWidth());
        return new DecodeStep("dsa", context, WorkloadShape.of(prepare, relevancy, retrieval, apply), weights(),
                "DSA lightning indexer: " + DSA_HEADS + " heads of " + DSA_DIM + " over " + context + " I8 keys, top "
                        + kept + " tokens, sparse attention; " + layers + " layers");
    }

    /**
     * Lexical RAG: bm25Score over a corpus of {@code context} passages of 256 tokens, top 64 passages, then one
     * decode step of the model (the prompt's assembly costs no device work).
     */
    static DecodeStep bm25(long context) {
        long docs = context;
        long postings = Math.max(1, (long) (BM25_QUERY_TERMS * BM25_TERM_DOC_SHARE * docs));
        long top = Math.min(BM25_TOP, docs);
        long indexBytes = 8 * docs * BM25_DOC_TOKENS + 4 * docs; // (term, tf) pairs and document lengths
        StepShape relevancy = new StepShape(Step.RELEVANCY, List.of(new OpWork(Op.BM25_SCORE,
                OpCosts.bm25Score(BM25_QUERY_TERMS, postings, docs, F32), java.util.Set.of())
                .withSizes(docs, docs, 0, 0)), 4L * BM25_QUERY_TERMS, 4L * docs, indexBytes);
        StepShape retrieval = new StepShape(Step.RETRIEVAL, List.of(new OpWork(Op.TOP_K, OpCosts.topK(docs, top),
                java.util.Set.of(F32)).withSizes(docs, 1, top, 0)), 0, 8L * top);
        return new DecodeStep("bm25", context, WorkloadShape.of(relevancy, retrieval), weights(),
                "BM25 RAG: " + docs + " documents of " + BM25_DOC_TOKENS + " tokens, " + BM25_QUERY_TERMS
                        + " query terms, top " + top + "; then one decode step");
    }

    /** The token's weight traffic: every parameter read once (BF16), a multiply-add each. */
    static OpCost weights() {
        long params = MODEL.parameters();
        return new OpCost(2 * params, 0, 2 * params);
    }

    private static List<OpWork> perLayer(int layers, OpWork op) {
        return new ArrayList<>(Collections.nCopies(layers, op));
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
