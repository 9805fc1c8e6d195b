package dev.mempipe.core.model;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The workloads the profiler measures: the op contract's table plus the dense-attention baseline. An attention
 * workload's context is tokens in the KV cache; a retrieval workload's is entries in its memory (documents,
 * chunks, segment summaries); FLARE's and DRAGIN's the documents they retrieve from, MemAgent's the length of the
 * input it reads; Titans' and LaCT's the tokens written into their weights (a retrieval-kind workload: a memory
 * beside the decoder, written and read at each decode step).
 */
public enum Workload {
    DENSE("dense", Kind.ATTENTION, "tokens"),
    QUEST("quest", Kind.ATTENTION, "tokens"),
    SEER_ATTENTION("seer-attention", Kind.ATTENTION, "tokens"),
    DSA("dsa", Kind.ATTENTION, "tokens"),
    BM25("bm25", Kind.RETRIEVAL, "documents"),
    DENSE_RAG("dense-rag", Kind.RETRIEVAL, "chunks"),
    HMT("hmt", Kind.RETRIEVAL, "segments"),
    FLARE("flare", Kind.GENERATION, "documents"),
    DRAGIN("dragin", Kind.GENERATION, "documents"),
    MEMAGENT("memagent", Kind.GENERATION, "input tokens"),
    TITANS("titans", Kind.RETRIEVAL, "tokens written"),
    LACT("lact", Kind.RETRIEVAL, "tokens written");

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

    Workload(String id, Kind kind, String contextUnit) {
        this.id = id;
        this.kind = kind;
        this.contextUnit = contextUnit;
    }

    /** The name the profile and the command line use, e.g. {@code seer-attention}. */
    public String id() {
        return id;
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

    /** A workload by {@link #id()} (also accepts {@code seer} and the enum name); fails listing the known ones. */
    public static Workload byName(String name) {
        String n = name.toLowerCase(Locale.ROOT).replace('_', '-');
        if (n.equals("seer") || n.equals("seerattention")) {
            return SEER_ATTENTION;
        }
        if (n.equals("rag")) {
            return DENSE_RAG;
        }
        for (Workload w : values()) {
            if (w.id.equals(n)) {
                return w;
            }
        }
        throw new IllegalArgumentException("unknown workload '" + name + "'; workloads: "
                + Arrays.stream(values()).map(Workload::id).toList());
    }

    @Override
    public String toString() {
        return id;
    }
}
