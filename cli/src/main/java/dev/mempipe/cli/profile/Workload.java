package dev.mempipe.cli.profile;

import java.util.Arrays;
import java.util.Locale;

/**
 * The workloads of SPEC.md's table ("Workloads"), by the name {@code --workload} uses. Each runs the four
 * pipeline steps with the ops that the published optimization uses.
 */
public enum Workload {
    QUEST("quest", "Quest / LServe page selection: pageMinMax, questBound, topK pages + expandBlocks, sparse attention"),
    SEER("seer", "SeerAttention-R block gate: pooled block keys + project, dot + softmax, topK blocks, sparse attention"),
    DSA("dsa", "DeepSeek lightning indexer: indexer keys, indexerScore, topK tokens, sparse attention"),
    BM25("bm25", "RAG, lexical: bm25Index, bm25Score, topK documents, prompt assembly"),
    DENSE("dense", "RAG, dense: embed + l2Normalize, cosine, topK chunks, prompt assembly"),
    HMT("hmt", "HMT compressed memory: segment summaries, dot + softmax, soft weights, softRetrieve"),
    FLARE("flare", "FLARE dynamic RAG: bm25Index, token confidence + bm25Score, topK 3 documents, re-prefill"),
    DRAGIN("dragin", "DRAGIN dynamic RAG: bm25Index, entropy x attention + bm25Score, topK 3 documents, re-prefill"),
    MEMAGENT("memagent", "MemAgent: memory rewrite by generation, none, none, memory prefill (context = input length)"),
    TITANS("titans", "Titans neural memory: gradient step with momentum + decay per token, none, none, M(q)"),
    LACT("lact", "LaCT fast weights: Newton-Schulz gradient step per 2048-token chunk, none, none, f(q)");

    private final String cliName;
    private final String description;

    Workload(String cliName, String description) {
        this.cliName = cliName;
        this.description = description;
    }

    /** The name on the command line and in reports, e.g. {@code quest}. */
    public String cliName() {
        return cliName;
    }

    /** The workload's four steps in one line. */
    public String description() {
        return description;
    }

    /** Looks a workload up by its command-line name, ignoring case; null when unknown. */
    public static Workload byName(String name) {
        String n = name.strip().toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(w -> w.cliName.equals(n)).findFirst().orElse(null);
    }
}
