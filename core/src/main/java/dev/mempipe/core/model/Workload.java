package dev.mempipe.core.model;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The workloads: the op contract's table (SPEC.md, "Workloads") plus the dense-attention baseline, each by the name
 * the profile, its reports and the {@code mempipe profile --workload} option use. An attention workload's context is
 * tokens in the KV cache; a retrieval workload's is entries in its memory (documents, chunks, segment summaries);
 * FLARE's and DRAGIN's the documents they retrieve from, MemAgent's the length of the input it reads; Titans' and
 * LaCT's the tokens written into their weights (a retrieval-kind workload: a memory beside the decoder, written and
 * read at each decode step).
 */
public enum Workload {
    DENSE("dense-attention", Kind.ATTENTION, "tokens",
            "dense attention over every KV row: the baseline the sparse workloads are compared with"),
    QUEST("quest", Kind.ATTENTION, "tokens",
            "Quest / LServe page selection: pageMinMax, questBound, topK pages + expandBlocks, sparse attention"),
    SEER_ATTENTION("seer", Kind.ATTENTION, "tokens",
            "SeerAttention-R block gate: pooled block keys + project, dot + softmax, topK blocks, sparse attention"),
    DSA("dsa", Kind.ATTENTION, "tokens",
            "DeepSeek lightning indexer: indexer keys, indexerScore, topK tokens, sparse attention"),
    BM25("bm25", Kind.RETRIEVAL, "documents", "RAG, lexical: bm25Index, bm25Score, topK documents, prompt assembly"),
    DENSE_RAG("dense", Kind.RETRIEVAL, "chunks",
            "RAG, dense: embeddings + inverse norms, cosine, topK chunks, prompt assembly"),
    HMT("hmt", Kind.RETRIEVAL, "segments",
            "HMT compressed memory: segment summaries, dot + softmax, soft weights, softRetrieve"),
    FLARE("flare", Kind.GENERATION, "documents",
            "FLARE dynamic RAG: bm25Index, token confidence + bm25Score, topK 3 documents, re-prefill"),
    DRAGIN("dragin", Kind.GENERATION, "documents",
            "DRAGIN dynamic RAG: bm25Index, entropy x attention + bm25Score, topK 3 documents, re-prefill"),
    MEMAGENT("memagent", Kind.GENERATION, "input tokens",
            "MemAgent: memory rewrite by generation, none, none, memory prefill (context = input length)"),
    TITANS("titans", Kind.RETRIEVAL, "tokens written",
            "Titans neural memory: gradient step with momentum + decay per token, none, none, M(q)"),
    LACT("lact", Kind.RETRIEVAL, "tokens written",
            "LaCT fast weights: Newton-Schulz gradient step per 2048-token chunk, none, none, f(q)");

    /**
     * Whether the workload is a decoder's attention, a retrieval beside the decoder, or a generation loop that
     * drives the decoder itself (dynamic RAG, MemAgent).
     */
    public enum Kind {
        ATTENTION,
        RETRIEVAL,
        GENERATION
    }

    private final String id;
    private final Kind kind;
    private final String contextUnit;
    private final String description;

    Workload(String id, Kind kind, String contextUnit, String description) {
        this.id = id;
        this.kind = kind;
        this.contextUnit = contextUnit;
        this.description = description;
    }

    /** The name the profile, its reports and the command line use, e.g. {@code seer}. */
    public String id() {
        return id;
    }

    /** The workload's four steps in one line. */
    public String description() {
        return description;
    }

    public Kind kind() {
        return kind;
    }

    /** What a unit of context is: tokens, documents, chunks or segments. */
    public String contextUnit() {
        return contextUnit;
    }

    /** Whether the workload selects KV rows, so its accuracy against dense attention is measured. */
    public boolean isSparseAttention() {
        return kind == Kind.ATTENTION && this != DENSE;
    }

    /** The workloads of the op contract's table, in its order (the profile's default). */
    public static List<Workload> paperWorkloads() {
        return List.of(QUEST, SEER_ATTENTION, DSA, BM25, DENSE_RAG, HMT, FLARE, DRAGIN, MEMAGENT, TITANS,
                LACT);
    }

    /**
     * A workload by {@link #id()}, ignoring case and surrounding blanks; also by its enum name ({@code seer-attention},
     * {@code dense-rag}), except that {@code dense} is always dense RAG.
     *
     * @throws IllegalArgumentException naming the unknown name and listing the known ones
     */
    public static Workload byName(String name) {
        String n = name.strip().toLowerCase(Locale.ROOT).replace('_', '-');
        for (Workload w : values()) {
            if (w.id.equals(n)) {
                return w;
            }
        }
        for (Workload w : values()) { // after the ids: "dense" is DENSE_RAG's id, not the enum name DENSE
            if (w.name().toLowerCase(Locale.ROOT).replace('_', '-').equals(n)) {
                return w;
            }
        }
        throw new IllegalArgumentException("unknown workload '" + name.strip() + "'; workloads: "
                + Arrays.stream(values()).map(Workload::id).toList());
    }

    @Override
    public String toString() {
        return id;
    }
}
