package dev.mempipe.core.model;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.pipeline.LayeredAttention;
import dev.mempipe.core.pipeline.PipelineTesting;
import dev.mempipe.spi.ElementType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DecoderModelTest {
    /** A small decoder: every code path of tiny, a fraction of its weights. */
    static final DecoderConfig SMALL = new DecoderConfig(2, 96, 6, 2, 16, 160, 300, ElementType.F32, 5);
    static final int[] TOKENS = {3, 141, 59, 26, 299};

    @Test
    void decode_steps_are_deterministic_for_a_seed() {
        assertArrayEquals(decode(SMALL), decode(SMALL), "same seed, same tokens");
        assertFalse(java.util.Arrays.equals(decode(SMALL), decode(SMALL.withSeed(6))), "another seed");
    }

    @Test
    void bf16_weights_give_logits_close_to_f32() {
        float[] f32 = decode(SMALL);
        float[] bf16 = decode(SMALL.withWeightType(ElementType.BF16));
        double error = AttentionAccuracy.relativeError(bf16, f32);
        assertTrue(error > 0 && error < 0.05, "relative error of BF16 weights: " + error);
    }

    @Test
    void a_step_appends_to_every_layer_and_records_the_work_outside_the_pipeline() {
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            DecoderModel model = new DecoderModel(SMALL, arena, engine.cpu().backend());
            LayeredAttention attention = WorkloadAttention.create(Workload.DENSE, engine, arena,
                    SMALL, 16, ElementType.F32, WorkloadSettings.forModel(SMALL));
            for (int i = 0; i < 3; i++) {
                float[] logits = model.decodeStep(TOKENS[i], i, attention).toFloatArray();
                assertEquals(SMALL.vocab(), logits.length);
                for (float v : logits) {
                    assertTrue(Float.isFinite(v), "logit " + v);
                }
            }
            for (int l = 0; l < SMALL.layers(); l++) {
                assertEquals(3, attention.layer(l).kv().length(), "layer " + l + " cached every token");
            }
            List<ModelWork.Op> ops = model.work().ops();
            Set<String> labels = ops.stream().map(ModelWork.Op::label).collect(Collectors.toSet());
            assertEquals(Set.of("embedding", "norm", "projection", "rope", "mlp", "lm-head"), labels);
            for (ModelWork.Op op : ops) {
                assertTrue(op.cost().bytesRead() > 0 && op.wallNanos() > 0, op.toString());
            }
            // per step: q, k, v, o per layer plus gate, up, down per layer plus the LM head
            long projectionFlops = ops.stream().filter(o -> !o.label().equals("norm") && !o.label().equals("rope")
                    && !o.label().equals("embedding")).mapToLong(o -> o.cost().flops()).sum();
            long weights = SMALL.parameters() - 2L * SMALL.layers() * SMALL.hidden() - SMALL.hidden();
            assertTrue(projectionFlops >= 3 * 2 * weights, "FLOPs " + projectionFlops + " for " + weights + " weights");
            assertThrows(IllegalArgumentException.class, () -> model.decodeStep(SMALL.vocab(), 4, attention));
        }
    }

    @Test
    void presets_have_the_documented_shapes() {
        assertEquals(8_129_024, DecoderConfig.tiny().parameters());
        assertEquals(2048, DecoderConfig.tiny().kvBytesPerToken());
        assertEquals(ElementType.BF16, DecoderConfig.medium().weightType());
        assertEquals(DecoderConfig.small(), DecoderConfig.preset("SMALL"));
        assertThrows(IllegalArgumentException.class, () -> DecoderConfig.preset("huge"));
        assertThrows(IllegalArgumentException.class,
                () -> new DecoderConfig(1, 8, 3, 2, 4, 8, 8, ElementType.F32, 0));
    }

    /** The logits of the last of {@link #TOKENS}, decoded from an empty cache with dense attention. */
    static float[] decode(DecoderConfig config) {
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            DecoderModel model = new DecoderModel(config, arena, engine.cpu().backend());
            LayeredAttention attention = WorkloadAttention.create(Workload.DENSE, engine, arena,
                    config, TOKENS.length, ElementType.F32, WorkloadSettings.forModel(config));
            float[] logits = null;
            for (int i = 0; i < TOKENS.length; i++) {
                logits = model.decodeStep(TOKENS[i], i, attention).toFloatArray();
            }
            return logits;
        }
    }
}
