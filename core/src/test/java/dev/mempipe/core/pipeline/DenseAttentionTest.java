package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.BlockGateMemory;
import dev.mempipe.core.memory.IndexerKeyMemory;
import dev.mempipe.core.memory.PagedKvMemory;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static dev.mempipe.core.pipeline.PipelineTesting.ORACLE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DenseAttentionTest {
    static final AttentionShape SHAPE = new AttentionShape(8, 2, 32);
    static final long LENGTH = 777;

    @Test
    void should_equal_oracle_attention_over_every_row() {
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            KvFixture kv = KvFixture.of(arena, SHAPE, LENGTH, 41);
            DenseAttention dense = new DenseAttention(engine, memory(arena, engine), SHAPE, arena);
            kv.prepare(dense);
            assertEquals(LENGTH, dense.kv().length());
            TokenSelection all = dense.retrieve(dense.relevancy(kv.query()));
            assertTrue(all.isAll());
            Tensor out = dense.apply(kv.query(), all);
            Tensor ref = PipelineTesting.f32(arena, SHAPE.queryHeads(), SHAPE.headDim());
            ORACLE.apply().attention(kv.query(), kv.keys(), kv.values(), SHAPE.kvHeads(), null, SHAPE.scale(), ref);
            PipelineTesting.attentionWithin("dense output", out, ref, LENGTH, PipelineTesting.maxAbs(kv.values()));
            var steps = engine.report().perStep().keySet();
            assertTrue(steps.contains(Step.PREPARE) && steps.contains(Step.APPLY), steps.toString());
            assertFalse(steps.contains(Step.RELEVANCY), "dense attention scores nothing");
        }
    }

    @Test
    void sparse_attention_with_a_budget_covering_the_context_equals_dense() {
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            KvFixture kv = KvFixture.of(arena, SHAPE, LENGTH, 42);
            var cpu = engine.cpu().backend();
            DenseAttention dense = new DenseAttention(engine, memory(arena, engine), SHAPE, arena);
            QuestPipeline quest = new QuestPipeline(engine, memory(arena, engine), SHAPE,
                    new QuestPipeline.Settings(16, 1024, 0, 0), arena);
            var gateWeights = SeerAttentionPipeline.GateWeights.tracking(arena, SHAPE.headDim());
            PagedKvMemory seerKv = memory(arena, engine);
            SeerAttentionPipeline seer = new SeerAttentionPipeline(engine, seerKv, new BlockGateMemory(arena, engine,
                    SHAPE.kvHeads(), SHAPE.headDim(), gateWeights.key(), seerKv.capacity(), 64), gateWeights, SHAPE,
                    new SeerAttentionPipeline.Settings(64, 64, Float.NaN, 0, 0), arena);
            DsaPipeline.Settings dsaSettings = new DsaPipeline.Settings(4, 32, 1024, 0, 0, ElementType.I8);
            PagedKvMemory dsaKv = memory(arena, engine);
            DsaPipeline dsa = new DsaPipeline(engine, dsaKv, new IndexerKeyMemory(arena, engine, 32, dsaKv.capacity(),
                    ElementType.I8), DsaPipeline.IndexerWeights.tracking(arena, 1, SHAPE, 4, 32), SHAPE, dsaSettings,
                    arena);
            float[] expected = null;
            for (KvPipeline<?> p : new KvPipeline<?>[] {dense, quest, seer, dsa}) {
                kv.prepare(p);
                float[] out = p.step(kv.query()).toFloatArray();
                if (expected == null) {
                    expected = out;
                } else {
                    // the same rows in the same (ascending) order: the same arithmetic, bit for bit
                    assertArrayEquals(expected, out, p.name() + " with a budget >= the context");
                }
            }
        }
    }

    static PagedKvMemory memory(Arena arena, Engine engine) {
        return new PagedKvMemory(arena, engine, SHAPE.kvHeads(), SHAPE.headDim(), LENGTH + 4);
    }
}
