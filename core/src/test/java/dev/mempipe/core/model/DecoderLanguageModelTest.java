package dev.mempipe.core.model;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.pipeline.AttentionShape;
import dev.mempipe.core.pipeline.PipelineTesting;
import dev.mempipe.core.pipeline.Views;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DecoderLanguageModelTest {
    static final DecoderConfig SMALL = DecoderModelTest.SMALL;
    static final int[] PROMPT = {3, 141, 59, 26, 299, 7, 7, 100, 2};

    @Test
    void a_batched_prefill_gives_the_logits_of_token_by_token_decoding() {
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            DecoderModel decoder = new DecoderModel(SMALL, arena, engine.cpu().backend());
            DecoderLanguageModel batched = new DecoderLanguageModel(decoder, arena, engine.cpu().backend(), engine, 64);
            float[] fromPrefill = batched.prefill(PROMPT).toFloatArray();
            DecoderLanguageModel stepwise = new DecoderLanguageModel(decoder, arena, engine.cpu().backend(), engine, 64);
            float[] fromSteps = null;
            for (int t : PROMPT) {
                fromSteps = stepwise.next(t).toFloatArray();
            }
            double error = AttentionAccuracy.relativeError(fromPrefill, fromSteps);
            assertTrue(error < 1e-5, "relative error of the batched prefill: " + error);
            assertEquals(PROMPT.length, batched.length());
            // and the next token continues identically
            float[] a = batched.next(5).toFloatArray();
            float[] b = stepwise.next(5).toFloatArray();
            assertTrue(AttentionAccuracy.relativeError(a, b) < 1e-5);
        }
    }

    @Test
    void truncating_forgets_the_cut_positions_as_if_never_decoded() {
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            DecoderModel decoder = new DecoderModel(SMALL, arena, engine.cpu().backend());
            DecoderLanguageModel model = new DecoderLanguageModel(decoder, arena, engine.cpu().backend(), engine, 32);
            model.prefill(PROMPT);
            float[] before = model.next(11).toFloatArray();
            model.next(12);
            model.next(13);
            model.truncate(PROMPT.length);
            assertEquals(PROMPT.length, model.length());
            assertArrayEquals(before, model.next(11).toFloatArray(), "same position, same cache, same logits");
            assertThrows(IllegalArgumentException.class, () -> model.truncate(99));
            assertThrows(IllegalStateException.class, () -> model.prefill(new int[32]), "over capacity");
        }
    }

    @Test
    void the_attention_read_out_is_the_head_mean_of_the_last_layer_softmax() {
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            DecoderModel decoder = new DecoderModel(SMALL, arena, engine.cpu().backend());
            DecoderLanguageModel model = new DecoderLanguageModel(decoder, arena, engine.cpu().backend(), engine, 32);
            model.prefill(PROMPT);
            assertThrows(IllegalStateException.class, model::lastAttention, "recording is off");
            model.recordAttention(true);
            engine.resetProfile();
            model.next(17);
            float[] w = model.lastAttention().toFloatArray();
            assertEquals(PROMPT.length + 1, w.length);
            double sum = 0;
            for (float v : w) {
                assertTrue(v >= 0 && v <= 1, "weight " + v);
                sum += v;
            }
            assertEquals(1, sum, 1e-5);
            assertTrue(engine.report().perOp().stream()
                    .anyMatch(o -> o.op().equals(DecoderLanguageModel.ATTENTION_WEIGHTS)), "read out through the engine");

            // the oracle: decode the same tokens with the query of the last layer captured
            AttentionShape shape = SMALL.attentionShape();
            CapturingAttention capture = new CapturingAttention(engine, arena, SMALL, 32);
            for (int t : PROMPT) {
                decoder.decodeStep(t, capture.length(), capture);
            }
            decoder.decodeStep(17, capture.length(), capture);
            Tensor k = capture.lastKeys();
            double[] mean = new double[k.rows() > 0 ? (int) k.rows() : 0];
            for (int h = 0; h < shape.queryHeads(); h++) {
                Tensor s = PipelineTesting.f32(arena, 1, mean.length);
                PipelineTesting.ORACLE.relevancy().dot(Views.row(capture.lastQuery(), h),
                        Views.kvHead(k, h / shape.groupSize(), shape.headDim()), s);
                PipelineTesting.ORACLE.relevancy().softmax(s, shape.scale(), s);
                for (int i = 0; i < mean.length; i++) {
                    mean[i] += s.get(0, i) / shape.queryHeads();
                }
            }
            for (int i = 0; i < mean.length; i++) {
                assertEquals(mean[i], w[i], 1e-5, "weight of position " + i);
            }
        }
    }

    /** Dense attention over its own cache that keeps the last layer's last query. */
    static final class CapturingAttention implements dev.mempipe.core.pipeline.AttentionProvider {
        private final dev.mempipe.core.pipeline.LayeredAttention dense;
        private final Tensor query;
        private final int layers;

        CapturingAttention(Engine engine, Arena arena, DecoderConfig config, int capacity) {
            this.dense = WorkloadAttention.create(Workload.DENSE, engine, arena, config, capacity,
                    ElementType.F32, WorkloadSettings.forModel(config));
            this.query = Tensor.allocate(arena, ElementType.F32, config.queryHeads(), config.headDim());
            this.layers = config.layers();
        }

        int length() {
            return (int) dense.layer(0).kv().length();
        }

        Tensor lastKeys() {
            return dense.layer(layers - 1).kv().keys();
        }

        Tensor lastQuery() {
            return query;
        }

        @Override
        public String name() {
            return "capture";
        }

        @Override
        public int layers() {
            return layers;
        }

        @Override
        public void append(int layer, Tensor keys, Tensor values) {
            dense.append(layer, keys, values);
        }

        @Override
        public Tensor attend(int layer, Tensor q) {
            if (layer == layers - 1) {
                for (int h = 0; h < q.rows(); h++) {
                    for (int c = 0; c < q.cols(); c++) {
                        query.set(h, c, q.get(h, c));
                    }
                }
            }
            return dense.attend(layer, q);
        }
    }
}
