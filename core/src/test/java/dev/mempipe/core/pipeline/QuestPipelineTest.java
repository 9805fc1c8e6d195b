package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.PagedKvMemory;
import dev.mempipe.goldentests.Compare;
import dev.mempipe.goldentests.Tolerances;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.PoolMode;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static dev.mempipe.core.pipeline.PipelineTesting.ORACLE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuestPipelineTest {
    static final AttentionShape SHAPE = new AttentionShape(6, 2, 16);
    static final long LENGTH = 1037;                                       // 64 full pages and a partial one
    static final QuestPipeline.Settings SETTINGS = new QuestPipeline.Settings(16, 256, 5, 7);

    @Test
    void should_equal_the_oracle_composition_of_pageMinMax_questBound_topK_expandBlocks_attention() {
        long seed = PipelineTesting.seed(11);
        String why = PipelineTesting.reproduce("QuestPipelineTest", seed);
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            KvFixture kv = KvFixture.of(arena, SHAPE, LENGTH, seed);
            QuestPipeline quest = new QuestPipeline(engine, memory(arena, engine), SHAPE, SETTINGS, arena);
            kv.prepare(quest);
            Tensor q = kv.query();
            int d = SHAPE.headDim();
            int pages = (int) Math.ceilDiv(LENGTH, 16);
            int k = SETTINGS.pages();

            // Prepare: the incremental summaries equal a batch pageMinMax
            Tensor min = PipelineTesting.f32(arena, pages, SHAPE.kvWidth());
            Tensor max = PipelineTesting.f32(arena, pages, SHAPE.kvWidth());
            ORACLE.prepare().pageMinMax(kv.keys(), 16, min, max);
            Compare.sameValues("pageMin" + why, quest.kv().pageMin(), min);
            Compare.sameValues("pageMax" + why, quest.kv().pageMax(), max);

            // Relevancy: questBound of each group's mean query
            Tensor scores = quest.relevancy(q);
            Tensor groupQuery = PipelineTesting.f32(arena, SHAPE.kvHeads(), d);
            ORACLE.prepare().pagePool(q, SHAPE.groupSize(), PoolMode.MEAN, groupQuery);
            Indices[] oracleTokens = new Indices[SHAPE.kvHeads()];
            TokenSelection chosen = quest.retrieve(scores);
            for (int g = 0; g < SHAPE.kvHeads(); g++) {
                Tensor ref = PipelineTesting.f32(arena, 1, pages);
                Tensor minG = Views.kvHead(min, g, d);
                Tensor maxG = Views.kvHead(max, g, d);
                ORACLE.relevancy().questBound(Views.row(groupQuery, g), minG, maxG, ref);
                double tau = questTolerance(Views.row(groupQuery, g), minG, maxG);
                Compare.within("page scores of KV head " + g + why, Views.row(scores, g), ref,
                        Compare.Bound.of("4*d*2^-24*sum|q|max(|min|,|max|)", (r, c, e) -> tau, null));

                // Retrieval: the top pages, then their tokens with sink and window
                Indices oraclePages = Indices.allocate(arena, k);
                ORACLE.retrieval().topK(ref, k, oraclePages, null);
                oracleTokens[g] = Indices.allocate(arena, (int) LENGTH);
                int n = ORACLE.retrieval().expandBlocks(oraclePages, 16, LENGTH, 5, 7, oracleTokens[g]);
                oracleTokens[g] = oracleTokens[g].prefix(n);
                Indices got = chosen.rowsOf(g);
                assertTrue(got.length() <= k * 16 + 5 + 7, "budget exceeded: " + got.length() + why);
                double diff = PipelineTesting.maxAbsDifference(Views.row(scores, g), ref);
                if (PipelineTesting.wellSeparated(PipelineTesting.rowOf(ref, 0), k, diff)) {
                    assertArrayEquals(oracleTokens[g].toArray(), got.toArray(), "tokens of KV head " + g + why);
                } else {
                    oracleTokens[g] = got; // a near tie at the k-th page: either choice is right, compare the rest on ours
                }
            }

            // Apply: attention per GQA group over its own tokens
            Tensor out = quest.apply(q, chosen);
            Tensor ref = PipelineTesting.f32(arena, SHAPE.queryHeads(), d);
            for (int g = 0; g < SHAPE.kvHeads(); g++) {
                ORACLE.apply().attention(SHAPE.group(q, g), Views.kvHead(kv.keys(), g, d),
                        Views.kvHead(kv.values(), g, d), 1, oracleTokens[g], SHAPE.scale(), SHAPE.group(ref, g));
            }
            PipelineTesting.attentionWithin("output" + why, out, ref, LENGTH, PipelineTesting.maxAbs(kv.values()));
        }
    }

    @Test
    void should_record_every_step_in_the_engine_profile() {
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            KvFixture kv = KvFixture.of(arena, SHAPE, 300, 3);
            QuestPipeline quest = new QuestPipeline(engine, memory(arena, engine), SHAPE, SETTINGS, arena);
            kv.prepare(quest);
            quest.step(kv.query());
            var steps = engine.report().perStep();
            for (Step step : Step.values()) {
                assertTrue(steps.containsKey(step), "no " + step + " record: " + steps.keySet());
                assertTrue(steps.get(step).bytesRead() > 0, step + " reads nothing");
            }
        }
    }

    static PagedKvMemory memory(Arena arena, Engine engine) {
        Backend cpu = engine.cpu().backend();
        return new PagedKvMemory(arena, engine, SHAPE.kvHeads(), SHAPE.headDim(), LENGTH + 8, ElementType.F32, 16);
    }

    /** The dot bound of the contract, doubled for the pooled query's own rounding. */
    static double questTolerance(Tensor q, Tensor min, Tensor max) {
        double worst = 0;
        for (long p = 0; p < min.rows(); p++) {
            double sum = 0;
            for (int i = 0; i < q.cols(); i++) {
                sum += Math.abs(q.get(0, i)) * Math.max(Math.abs(min.get(p, i)), Math.abs(max.get(p, i)));
            }
            worst = Math.max(worst, sum);
        }
        return 4.0 * q.cols() * Tolerances.U32 * worst + 1e-30;
    }
}
