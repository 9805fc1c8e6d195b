package dev.mempipe.core.model;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.BlockGateMemory;
import dev.mempipe.core.memory.IndexerKeyMemory;
import dev.mempipe.core.memory.OwnedMemories;
import dev.mempipe.core.memory.PagedKvMemory;
import dev.mempipe.core.pipeline.AttentionShape;
import dev.mempipe.core.pipeline.DenseAttention;
import dev.mempipe.core.pipeline.DsaPipeline;
import dev.mempipe.core.pipeline.KvPipeline;
import dev.mempipe.core.pipeline.LayeredAttention;
import dev.mempipe.core.pipeline.QuestPipeline;
import dev.mempipe.core.pipeline.SeerAttentionPipeline;
import dev.mempipe.spi.ElementType;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds a decoder's attention for an attention workload: per layer, a KV cache and the workload's pipeline
 * with its memory. The learned parts the workloads need (SeerAttention-R's gate, DSA's indexer) are the
 * tracking constructions of {@link SeerAttentionPipeline.GateWeights#tracking} and
 * {@link DsaPipeline.IndexerWeights#tracking}: a model with random weights has no trained ones.
 */
public final class WorkloadAttention {
    private WorkloadAttention() {
    }

    /**
     * @param workload  an attention workload (dense-attention, quest, seer, dsa)
     * @param engine    runs the pipelines' and the memories' ops
     * @param arena     holds every memory and scratch (shared)
     * @param capacity  tokens each layer's memory can hold
     * @param kvStorage element type of the KV cache (F32, F16 or BF16)
     * @return the layers, owning their memories: close it to free the memories' device copies
     */
    public static LayeredAttention create(Workload workload, Engine engine, Arena arena, DecoderConfig config,
                                          long capacity, ElementType kvStorage, WorkloadSettings settings) {
        if (workload.kind() != Workload.Kind.ATTENTION) {
            throw new IllegalArgumentException(workload + " is not an attention workload");
        }
        List<KvPipeline<?>> layers = new ArrayList<>();
        OwnedMemories memories = new OwnedMemories();
        try {
            for (int l = 0; l < config.layers(); l++) {
                layers.add(layer(workload, engine, arena, config, capacity, kvStorage, settings, l, memories));
            }
            return new LayeredAttention(layers, memories);
        } catch (RuntimeException | Error e) {
            try {
                memories.close(); // a layer failed: free the memories made before it
            } catch (RuntimeException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    private static KvPipeline<?> layer(Workload workload, Engine engine, Arena arena, DecoderConfig config,
                                       long capacity, ElementType kvStorage, WorkloadSettings settings, int layer,
                                       OwnedMemories memories) {
        AttentionShape shape = config.attentionShape();
        int d = config.headDim();
        int pageSize = workload == Workload.QUEST ? settings.quest().pageSize() : PagedKvMemory.DEFAULT_PAGE_SIZE;
        PagedKvMemory kv = new PagedKvMemory(arena, engine, config.kvHeads(), d, capacity, kvStorage, pageSize);
        memories.add(kv);
        return switch (workload) {
            case DENSE -> new DenseAttention(engine, kv, shape, arena);
            case QUEST -> new QuestPipeline(engine, kv, shape, settings.quest(), arena);
            case SEER_ATTENTION -> {
                var weights = SeerAttentionPipeline.GateWeights.tracking(arena, d);
                var gate = new BlockGateMemory(arena, engine, config.kvHeads(), d, weights.key(), capacity,
                        settings.seerAttention().blockSize());
                memories.add(gate);
                yield new SeerAttentionPipeline(engine, kv, gate, weights, shape, settings.seerAttention(), arena);
            }
            case DSA -> {
                DsaPipeline.Settings dsa = settings.dsa();
                var weights = DsaPipeline.IndexerWeights.tracking(arena, SeededFill.derive(config.seed(), 1000 + layer),
                        shape, dsa.indexerHeads(), dsa.indexerDim());
                var keys = new IndexerKeyMemory(arena, engine, dsa.indexerDim(), capacity, dsa.keyStorage());
                memories.add(keys);
                yield new DsaPipeline(engine, kv, keys, weights, shape, dsa, arena);
            }
            default -> throw new IllegalArgumentException(workload + " is not an attention workload");
        };
    }
}
