package dev.mempipe.core.model;

import dev.mempipe.core.pipeline.Bm25Pipeline;
import dev.mempipe.core.pipeline.DenseRagPipeline;
import dev.mempipe.core.pipeline.DsaPipeline;
import dev.mempipe.core.pipeline.HmtPipeline;
import dev.mempipe.core.pipeline.QuestPipeline;
import dev.mempipe.core.pipeline.SeerAttentionPipeline;

import java.util.Objects;

/** The settings of every workload's pipeline, as one value the profiler takes. */
public record WorkloadSettings(QuestPipeline.Settings quest, SeerAttentionPipeline.Settings seerAttention,
                               DsaPipeline.Settings dsa, Bm25Pipeline.Settings bm25,
                               DenseRagPipeline.Settings denseRag, HmtPipeline.Settings hmt) {
    /** Each pipeline's paper defaults (DSA's indexer: 64 heads of 128). */
    public static final WorkloadSettings PAPER = new WorkloadSettings(QuestPipeline.Settings.DEFAULT,
            SeerAttentionPipeline.Settings.DEFAULT, DsaPipeline.Settings.DEFAULT, Bm25Pipeline.Settings.DEFAULT,
            DenseRagPipeline.Settings.DEFAULT, HmtPipeline.Settings.DEFAULT);

    public WorkloadSettings {
        Objects.requireNonNull(quest, "quest");
        Objects.requireNonNull(seerAttention, "seerAttention");
        Objects.requireNonNull(dsa, "dsa");
        Objects.requireNonNull(bm25, "bm25");
        Objects.requireNonNull(denseRag, "denseRag");
        Objects.requireNonNull(hmt, "hmt");
    }

    /**
     * The paper defaults with DSA's indexer scaled to the model: {@code clamp(Hq/4, 1, 64)} heads of
     * {@code min(128, d)}. DeepSeek-V3.2's indexer (64 x 128 per key) does about 1/17 of its attention's
     * multiply-adds per key (128 heads of 576 + 512); this rule gives about 1/8 on GQA models with d = 64, so a
     * small model's indexer stays a minor part of its step, as in the paper, instead of outweighing the
     * attention it selects for.
     */
    public static WorkloadSettings forModel(DecoderConfig config) {
        DsaPipeline.Settings dsa = PAPER.dsa().withIndexer(Math.clamp(config.queryHeads() / 4, 1, 64),
                Math.min(128, config.headDim()));
        return new WorkloadSettings(PAPER.quest(), PAPER.seerAttention(), dsa, PAPER.bm25(), PAPER.denseRag(),
                PAPER.hmt());
    }
}
