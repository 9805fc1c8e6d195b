package dev.mempipe.core.model;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.pipeline.AttentionShape;
import dev.mempipe.core.pipeline.KvPipeline;
import dev.mempipe.core.pipeline.LayeredAttention;
import dev.mempipe.core.pipeline.PipelineTesting;
import dev.mempipe.core.pipeline.QuestPipeline;
import dev.mempipe.core.pipeline.TokenSelection;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AttentionAccuracyTest {
    static final DecoderConfig CONFIG = DecoderConfig.tiny();
    static final AttentionShape SHAPE = CONFIG.attentionShape();
    static final long LENGTH = 8192;

    @Test
    void quest_seer_and_dsa_cover_most_of_the_mass_of_planted_needles_and_a_random_choice_does_not() {
        Engine engine = PipelineTesting.engine();
        WorkloadSettings paper = WorkloadSettings.forModel(CONFIG);
        // budgets of an eighth of the context (a sixteenth for DSA's tokens), so that the choice matters
        WorkloadSettings settings = new WorkloadSettings(new QuestPipeline.Settings(16, 1024, 16, 64),
                paper.seerAttention().withTopBlocks(16), paper.dsa().withTopTokens(512), paper.bm25(),
                paper.denseRag(), paper.hmt());
        try (Arena arena = Arena.ofShared()) {
            Tensor probe = SyntheticKv.probeQuery(arena, SHAPE, 1);
            for (Workload workload : new Workload[] {Workload.QUEST, Workload.SEER_ATTENTION, Workload.DSA}) {
                LayeredAttention attention = WorkloadAttention.create(workload, engine, arena,
                        CONFIG.withLayers(1), LENGTH, ElementType.F32, settings);
                KvPipeline<?> layer = attention.layer(0);
                SyntheticKv kv = new SyntheticKv(SHAPE, probe, LENGTH, SyntheticKv.Structure.DEFAULT, 1);
                kv.fill(arena, 1000, layer::prepare);
                AttentionAccuracy accuracy = measure(layer, probe);
                assertTrue(accuracy.massCovered() > 0.9, workload + " covers " + accuracy);
                assertTrue(accuracy.relativeError() < 0.1, workload + " errs " + accuracy);
                assertTrue(accuracy.selectedRows() < LENGTH / 4.0, workload + " selects " + accuracy);

                // the same number of rows chosen at random misses the needles
                int count = (int) accuracy.selectedRows();
                int[] random = new SplittableRandom(2).ints(0, (int) LENGTH).distinct().limit(count).sorted().toArray();
                TokenSelection blind = TokenSelection.shared(LENGTH, Indices.of(arena, random));
                double blindMass = AttentionAccuracy.massCovered(engine.cpu().backend(), SHAPE, probe,
                        layer.kv().keys(), blind);
                assertTrue(blindMass < 0.3, "a random choice covers " + blindMass);
            }
        }
    }

    @Test
    void the_needles_hold_most_of_the_dense_mass() {
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            Tensor probe = SyntheticKv.probeQuery(arena, SHAPE, 3);
            SyntheticKv kv = new SyntheticKv(SHAPE, probe, LENGTH, SyntheticKv.Structure.DEFAULT, 3);
            Tensor keys = Tensor.allocate(arena, ElementType.F32, LENGTH, SHAPE.kvWidth());
            Tensor values = Tensor.allocate(arena, ElementType.F32, LENGTH, SHAPE.kvWidth());
            kv.rows(0, LENGTH, keys, values);
            int[] needles = Arrays.stream(kv.needles()).mapToInt(Math::toIntExact).toArray();
            assertEquals(SyntheticKv.Structure.DEFAULT.needles(), needles.length);
            for (long n : needles) {
                assertTrue(n < LENGTH - SyntheticKv.Structure.DEFAULT.recentWindow(), "needle in the window: " + n);
            }
            double mass = AttentionAccuracy.massCovered(engine.cpu().backend(), SHAPE, probe, keys,
                    TokenSelection.shared(LENGTH, Indices.of(arena, needles)));
            assertTrue(mass > 0.85 && mass < 1, "needles hold " + mass);
            assertEquals(1.0, AttentionAccuracy.massCovered(engine.cpu().backend(), SHAPE, probe, keys,
                    TokenSelection.all(LENGTH)));
        }
    }

    @Test
    void rows_do_not_depend_on_how_they_are_requested() {
        try (Arena arena = Arena.ofShared()) {
            Tensor probe = SyntheticKv.probeQuery(arena, SHAPE, 4);
            SyntheticKv kv = new SyntheticKv(SHAPE, probe, 300, SyntheticKv.Structure.DEFAULT, 4);
            Tensor whole = Tensor.allocate(arena, ElementType.F32, 300, SHAPE.kvWidth());
            Tensor values = Tensor.allocate(arena, ElementType.F32, 300, SHAPE.kvWidth());
            kv.rows(0, 300, whole, values);
            Tensor piece = Tensor.allocate(arena, ElementType.F32, 33, SHAPE.kvWidth());
            Tensor pieceValues = Tensor.allocate(arena, ElementType.F32, 33, SHAPE.kvWidth());
            kv.rows(101, 134, piece, pieceValues);
            assertArrayEquals(whole.rowSlice(101, 134).toFloatArray(), piece.toFloatArray());
            assertArrayEquals(values.rowSlice(101, 134).toFloatArray(), pieceValues.toFloatArray());
        }
    }

    @Test
    void relative_error_is_the_l2_ratio() {
        assertEquals(0, AttentionAccuracy.relativeError(new float[] {1, 2}, new float[] {1, 2}));
        assertEquals(2.5 / Math.hypot(3, 6.5), AttentionAccuracy.relativeError(new float[] {3, 4},
                new float[] {3, 6.5f}), 1e-12);
        AttentionAccuracy mean = AttentionAccuracy.mean(java.util.List.of(new AttentionAccuracy(0.1, 0.8, 10, 100),
                new AttentionAccuracy(0.3, 1.0, 20, 100)));
        assertEquals(0.2, mean.relativeError(), 1e-12);
        assertEquals(0.9, mean.massCovered(), 1e-12);
    }

    static <S> AttentionAccuracy measure(KvPipeline<S> layer, Tensor probe) {
        TokenSelection selection = layer.retrieve(layer.relevancy(probe));
        Tensor out = layer.apply(probe, selection);
        return AttentionAccuracy.measure(PipelineTesting.ORACLE, layer.shape(), probe, layer.kv().keys(),
                layer.kv().values(), selection, out);
    }
}
