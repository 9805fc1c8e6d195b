package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.CompressedMemory;
import dev.mempipe.goldentests.Compare;
import dev.mempipe.goldentests.Tolerances;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static dev.mempipe.core.pipeline.PipelineTesting.ORACLE;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class HmtPipelineTest {
    static final int DIM = 33;
    static final int CAPACITY = 65;

    @Test
    void should_equal_the_oracle_composition_of_dot_softmax_softRetrieve_over_the_held_summaries() {
        long seed = PipelineTesting.seed(71);
        String why = PipelineTesting.reproduce("HmtPipelineTest", seed);
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            SplittableRandom random = new SplittableRandom(seed);
            Tensor summaries = PipelineTesting.uniform(arena, random, 100, DIM);
            Tensor query = PipelineTesting.uniform(arena, random, 1, DIM);
            HmtPipeline hmt = new HmtPipeline(engine, new CompressedMemory(arena, engine, DIM, CAPACITY),
                    HmtPipeline.Settings.DEFAULT, arena);
            hmt.prepare(summaries.rowSlice(0, 40));
            hmt.prepare(summaries.rowSlice(40, 100)); // evicts the oldest 35

            Tensor held = summaries.rowSlice(100 - CAPACITY, 100);
            float scale = (float) (1 / Math.sqrt(DIM));
            Tensor ref = PipelineTesting.f32(arena, 1, CAPACITY);
            ORACLE.relevancy().dot(query, held, ref);
            ORACLE.relevancy().softmax(ref, scale, ref);
            Tensor weights = hmt.relevancy(query);
            double logitError = 2.0 * DIM * Tolerances.U32 * PipelineTesting.maxAbs(query) * DIM * scale;
            Compare.within("weights" + why, weights, ref, Compare.Bound.of("p*2*logit bound + (c*n)*u",
                    (r, c, e) -> e * 2 * logitError + 8.0 * CAPACITY * Tolerances.U32, null));
            assertSame(weights, hmt.retrieve(weights), "soft retrieval keeps every weight");

            Tensor expected = PipelineTesting.f32(arena, 1, DIM);
            ORACLE.apply().softRetrieve(ref, held, expected);
            Tensor out = hmt.apply(query, weights);
            Compare.within("memory read" + why, out, expected, Compare.Bound.of("weight error * n * max|S| + dot bound",
                    (r, c, e) -> CAPACITY * (PipelineTesting.maxAbsDifference(weights, ref) + 4 * Tolerances.U32)
                            * PipelineTesting.maxAbs(held) + 1e-30, null));
        }
    }

    @Test
    void should_refuse_to_read_an_empty_memory() {
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            HmtPipeline hmt = new HmtPipeline(engine, new CompressedMemory(arena, engine, DIM, 4),
                    HmtPipeline.Settings.DEFAULT, arena);
            Tensor query = PipelineTesting.f32(arena, 1, DIM);
            assertThrows(IllegalStateException.class, () -> hmt.step(query));
        }
    }
}
