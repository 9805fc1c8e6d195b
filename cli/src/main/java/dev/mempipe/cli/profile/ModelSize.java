package dev.mempipe.cli.profile;

import java.util.Arrays;
import java.util.Locale;

/**
 * The decode model {@code mempipe profile} runs around the memory pipeline ({@code --model}): the shape of one
 * transformer layer, whose projections and MLP are the non-memory part of a decode step. The shapes follow
 * common grouped-query-attention models; they are workloads for the profiler, not models with weights.
 *
 * <p>{@link #TINY} is the default: it is sized so that the default run (every workload at 4k, 16k and 64k
 * tokens) finishes in under two minutes on two cores, which the measurement loop must keep true.
 *
 * @see ProfileCommand#measure
 */
public enum ModelSize {
    /** Default; a small-model layer (hidden 512, 8 query and 2 KV heads of 64, MLP 1536). */
    TINY("tiny", 512, 8, 2, 64, 1536),
    /** A 1-3B-class layer (hidden 2048, 16 query and 4 KV heads of 128, MLP 5632). */
    SMALL("small", 2048, 16, 4, 128, 5632),
    /** A Llama-3-8B-class layer (hidden 4096, 32 query and 8 KV heads of 128, MLP 14336). */
    MEDIUM("medium", 4096, 32, 8, 128, 14336);

    private final String cliName;
    private final int hidden;
    private final int queryHeads;
    private final int kvHeads;
    private final int headDim;
    private final int mlpHidden;

    ModelSize(String cliName, int hidden, int queryHeads, int kvHeads, int headDim, int mlpHidden) {
        this.cliName = cliName;
        this.hidden = hidden;
        this.queryHeads = queryHeads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.mlpHidden = mlpHidden;
    }

    public String cliName() {
        return cliName;
    }

    /** Model width (residual stream). */
    public int hidden() {
        return hidden;
    }

    /** Query heads Hq. */
    public int queryHeads() {
        return queryHeads;
    }

    /** Key/value heads Hkv (GQA: query head h reads KV head h / (Hq/Hkv)). */
    public int kvHeads() {
        return kvHeads;
    }

    public int headDim() {
        return headDim;
    }

    /** Inner width of the gated MLP. */
    public int mlpHidden() {
        return mlpHidden;
    }

    /** The model in words, for reports: {@code tiny (hidden 512, 8 query / 2 KV heads x 64, MLP 1536)}. */
    public String description() {
        return cliName + " (hidden " + hidden + ", " + queryHeads + " query / " + kvHeads + " KV heads x " + headDim
                + ", MLP " + mlpHidden + ")";
    }

    /** Looks a size up by its command-line name, ignoring case; null when unknown. */
    public static ModelSize byName(String name) {
        String n = name.strip().toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(m -> m.cliName.equals(n)).findFirst().orElse(null);
    }
}
