package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.BlockGateMemory;
import dev.mempipe.core.memory.PagedKvMemory;
import dev.mempipe.goldentests.Compare;
import dev.mempipe.goldentests.Tolerances;
import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.PoolMode;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static dev.mempipe.core.pipeline.PipelineTesting.ORACLE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SeerAttentionPipelineTest {
    static final AttentionShape SHAPE = new AttentionShape(4, 2, 16);
    static final long LENGTH = 1037;   // 64 full blocks of 16 and a remainder of 13
    static final int BLOCK = 16;
    static final int GATE_DIM = 24;

    @Test
    void should_equal_the_oracle_composition_with_top_blocks() {
        check(new SeerAttentionPipeline.Settings(BLOCK, 5, Float.NaN, 3, 9), PipelineTesting.seed(21));
    }

    @Test
    void should_equal_the_oracle_composition_with_a_threshold() {
        // blocks more than twice as likely as the average block
        check(new SeerAttentionPipeline.Settings(BLOCK, 5, 2f / (LENGTH / BLOCK), 0, 0), PipelineTesting.seed(22));
    }

    void check(SeerAttentionPipeline.Settings settings, long seed) {
        String why = PipelineTesting.reproduce("SeerAttentionPipelineTest", seed);
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            KvFixture kv = KvFixture.of(arena, SHAPE, LENGTH, seed);
            SplittableRandom random = new SplittableRandom(seed);
            int d = SHAPE.headDim();
            var weights = new SeerAttentionPipeline.GateWeights(PipelineTesting.uniform(arena, random, GATE_DIM, d),
                    PipelineTesting.uniform(arena, random, GATE_DIM, 3 * d));
            SeerAttentionPipeline seer = pipeline(arena, engine, weights, settings);
            kv.prepare(seer);
            Tensor q = kv.query();
            int blocks = (int) (LENGTH / BLOCK);

            // Prepare: gate keys = project([max | min | mean] of each full block, W_k), per KV head
            Tensor[] gateKeys = new Tensor[SHAPE.kvHeads()];
            for (int g = 0; g < SHAPE.kvHeads(); g++) {
                Tensor rows = Views.kvHead(kv.keys(), g, d).rowSlice(0, (long) blocks * BLOCK);
                Tensor pooled = PipelineTesting.f32(arena, blocks, 3 * d);
                ORACLE.prepare().pagePool(rows, BLOCK, PoolMode.MAX, Views.columns(pooled, 0, d));
                ORACLE.prepare().pagePool(rows, BLOCK, PoolMode.MIN, Views.columns(pooled, d, d));
                ORACLE.prepare().pagePool(rows, BLOCK, PoolMode.MEAN, Views.columns(pooled, 2 * d, d));
                gateKeys[g] = PipelineTesting.f32(arena, blocks, GATE_DIM);
                ORACLE.prepare().project(pooled, weights.key(), gateKeys[g]);
                double[][] sumAbs = Compare.sumAbsProducts(pooled, weights.key());
                // the mean's own rounding (P*u*max|x|) widens the bound a little: doubled
                Compare.within("gate keys of KV head " + g + why, seer.gate().gateKeys(g), gateKeys[g],
                        Compare.Bound.of("2*dot bound", (r, c, e) -> 2 * Tolerances.dot(3L * d, sumAbs[(int) r][c],
                                ElementType.F32, e) + BLOCK * Tolerances.U32 * sumAbs[(int) r][c], null));
            }

            // Relevancy: p = softmax(dot(project(mean(q_group), W_q), gate keys) / sqrt(dg))
            Tensor probabilities = seer.relevancy(q);
            Tensor groupQuery = PipelineTesting.f32(arena, SHAPE.kvHeads(), d);
            ORACLE.prepare().pagePool(q, SHAPE.groupSize(), PoolMode.MEAN, groupQuery);
            Tensor gateQuery = PipelineTesting.f32(arena, SHAPE.kvHeads(), GATE_DIM);
            ORACLE.prepare().project(groupQuery, weights.query(), gateQuery);
            float scale = (float) (1 / Math.sqrt(GATE_DIM));
            TokenSelection chosen = seer.retrieve(probabilities);
            Indices[] oracleTokens = new Indices[SHAPE.kvHeads()];
            for (int g = 0; g < SHAPE.kvHeads(); g++) {
                Tensor p = PipelineTesting.f32(arena, 1, blocks);
                ORACLE.relevancy().dot(Views.row(gateQuery, g), gateKeys[g], p);
                double logitTau = 8.0 * (GATE_DIM + 4 * d) * Tolerances.U32
                        * max(Compare.sumAbsProducts(Views.row(gateQuery, g), gateKeys[g])) * scale;
                ORACLE.relevancy().softmax(p, scale, p);
                Compare.within("block probabilities of KV head " + g + why, Views.row(probabilities, g), p,
                        Compare.Bound.of("p*2*logit error + softmax rounding", (r, c, e) -> e * 2 * logitTau
                                + 8.0 * blocks * Tolerances.U32, null));
                // within the bound; a cut more than twice the actual difference away decides every block alike
                double tau = PipelineTesting.maxAbsDifference(Views.row(probabilities, g), p);

                // Retrieval: top blocks or blocks above the threshold, expanded with sink, window and remainder
                Indices oracleBlocks = Indices.allocate(arena, blocks);
                int count;
                boolean separated;
                if (settings.usesThreshold()) {
                    Bitmap bits = Bitmap.allocate(arena, blocks);
                    ORACLE.retrieval().threshold(p, settings.threshold(), bits);
                    count = ORACLE.retrieval().bitmapToIndices(bits, oracleBlocks);
                    separated = awayFrom(PipelineTesting.rowOf(p, 0), settings.threshold(), tau);
                } else {
                    count = ORACLE.retrieval().topK(p, settings.topBlocks(), oracleBlocks, null);
                    separated = PipelineTesting.wellSeparated(PipelineTesting.rowOf(p, 0), settings.topBlocks(), tau);
                }
                int window = Math.max(settings.windowTokens(), (int) (LENGTH - (long) blocks * BLOCK));
                oracleTokens[g] = Indices.allocate(arena, (int) LENGTH);
                int n = ORACLE.retrieval().expandBlocks(oracleBlocks.prefix(count), BLOCK, LENGTH,
                        settings.sinkTokens(), window, oracleTokens[g]);
                oracleTokens[g] = oracleTokens[g].prefix(n);
                if (separated) {
                    assertArrayEquals(oracleTokens[g].toArray(), chosen.rowsOf(g).toArray(), "tokens of KV head " + g + why);
                } else {
                    oracleTokens[g] = chosen.rowsOf(g); // a near tie at the cut: compare the output on our choice
                }
            }

            // Apply: attention per GQA group over its tokens
            Tensor out = seer.apply(q, chosen);
            Tensor ref = PipelineTesting.f32(arena, SHAPE.queryHeads(), d);
            for (int g = 0; g < SHAPE.kvHeads(); g++) {
                ORACLE.apply().attention(SHAPE.group(q, g), Views.kvHead(kv.keys(), g, d),
                        Views.kvHead(kv.values(), g, d), 1, oracleTokens[g], SHAPE.scale(), SHAPE.group(ref, g));
            }
            PipelineTesting.attentionWithin("output" + why, out, ref, LENGTH, PipelineTesting.maxAbs(kv.values()));
        }
    }

    @Test
    void should_attend_every_token_before_the_first_full_block() {
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            KvFixture kv = KvFixture.of(arena, SHAPE, 11, 5);
            SeerAttentionPipeline seer = pipeline(arena, engine, SeerAttentionPipeline.GateWeights.tracking(arena,
                    SHAPE.headDim()), new SeerAttentionPipeline.Settings(BLOCK, 5, Float.NaN, 0, 0));
            kv.prepare(seer);
            TokenSelection chosen = seer.retrieve(seer.relevancy(kv.query()));
            for (int g = 0; g < SHAPE.kvHeads(); g++) {
                assertEquals(11, chosen.count(g));
            }
        }
    }

    static SeerAttentionPipeline pipeline(Arena arena, Engine engine, SeerAttentionPipeline.GateWeights weights,
                                          SeerAttentionPipeline.Settings settings) {
        var cpu = engine.cpu().backend();
        long capacity = LENGTH + 8;
        PagedKvMemory kv = new PagedKvMemory(arena, engine, SHAPE.kvHeads(), SHAPE.headDim(), capacity);
        BlockGateMemory gate = new BlockGateMemory(arena, engine, SHAPE.kvHeads(), SHAPE.headDim(), weights.key(),
                capacity, BLOCK);
        return new SeerAttentionPipeline(engine, kv, gate, weights, SHAPE, settings, arena);
    }

    static double max(double[][] values) {
        double m = 0;
        for (double[] row : values) {
            for (double v : row) {
                m = Math.max(m, v);
            }
        }
        return m;
    }

    /** Whether no value is within {@code tau} of the threshold (so every bit is decided). */
    static boolean awayFrom(double[] values, double threshold, double tau) {
        for (double v : values) {
            if (Math.abs(v - threshold) <= tau) {
                return false;
            }
        }
        assertTrue(tau >= 0);
        return true;
    }
}
