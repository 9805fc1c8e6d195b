package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.IndexerKeyMemory;
import dev.mempipe.core.memory.PagedKvMemory;
import dev.mempipe.goldentests.Compare;
import dev.mempipe.goldentests.Tolerances;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static dev.mempipe.core.pipeline.PipelineTesting.ORACLE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class DsaPipelineTest {
    static final AttentionShape SHAPE = new AttentionShape(6, 3, 16);
    static final long LENGTH = 1037;
    static final int HEADS = 3;
    static final int DIM = 24;
    static final DsaPipeline.Settings SETTINGS = new DsaPipeline.Settings(HEADS, DIM, 100, 4, 6, ElementType.I8);

    @Test
    void should_equal_the_oracle_composition_of_project_quantize_indexerScore_topK_expandBlocks_attention() {
        long seed = PipelineTesting.seed(31);
        String why = PipelineTesting.reproduce("DsaPipelineTest", seed);
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            KvFixture kv = KvFixture.of(arena, SHAPE, LENGTH, seed);
            SplittableRandom random = new SplittableRandom(seed);
            int qWidth = SHAPE.queryHeads() * SHAPE.headDim();
            var weights = new DsaPipeline.IndexerWeights(PipelineTesting.uniform(arena, random, (long) HEADS * DIM, qWidth),
                    PipelineTesting.uniform(arena, random, DIM, SHAPE.kvWidth()),
                    PipelineTesting.uniform(arena, random, 1, HEADS));
            DsaPipeline dsa = pipeline(arena, engine, weights, SETTINGS);
            kv.prepare(dsa);
            Tensor q = kv.query();

            // Prepare: K_I = quantize(project(K, W_k)), I8 with a scale per row
            Tensor projected = PipelineTesting.f32(arena, LENGTH, DIM);
            ORACLE.prepare().project(kv.keys(), weights.key(), projected);
            Tensor keys = Tensor.allocate(arena, ElementType.I8, LENGTH, DIM);
            ORACLE.prepare().quantize(projected, keys);
            double[][] keySums = Compare.sumAbsProducts(kv.keys(), weights.key());
            // a project within its bound can move a code across a rounding boundary: one code, plus the bound
            Compare.within("indexer keys" + why, dsa.indexerKeys().keys(), keys, Compare.Bound.of(
                    "one code + dot bound", (r, c, e) -> keys.scale(r) * 1.01 + 2 * Tolerances.dot(SHAPE.kvWidth(),
                            keySums[(int) r][c], ElementType.F32, e), null));

            // Relevancy: s_t = sum_h w_h ReLU(<q_I,h, K_I,t>), q_I = project(q, W_q)
            Tensor scores = dsa.relevancy(q);
            Tensor indexerQuery = PipelineTesting.f32(arena, 1, HEADS * DIM);
            ORACLE.prepare().project(q.reshape(1, qWidth), weights.query(), indexerQuery);
            Tensor qI = indexerQuery.reshape(HEADS, DIM);
            Tensor ref = PipelineTesting.f32(arena, 1, (int) LENGTH);
            ORACLE.relevancy().indexerScore(qI, weights.heads(), keys, null, ref);
            double[] tau = scoreTolerance(qI, weights.heads(), keys);
            Compare.within("indexer scores" + why, scores, ref, Compare.Bound.of("sum_h |w_h| (one code + dot bound)",
                    (r, c, e) -> tau[c], null));

            // Retrieval: top tokens plus sink and window, shared by all heads
            TokenSelection chosen = dsa.retrieve(scores);
            Indices top = Indices.allocate(arena, 100);
            ORACLE.retrieval().topK(ref, 100, top, null);
            Indices tokens = Indices.allocate(arena, 110);
            tokens = tokens.prefix(ORACLE.retrieval().expandBlocks(top, 1, LENGTH, 4, 6, tokens));
            if (PipelineTesting.wellSeparated(PipelineTesting.rowOf(ref, 0), 100,
                    PipelineTesting.maxAbsDifference(scores, ref))) {
                assertArrayEquals(tokens.toArray(), chosen.rowsOf(0).toArray(), "tokens" + why);
            } else {
                tokens = chosen.rowsOf(0); // a near tie at the cut: compare the output on our choice
            }
            assertEquals(true, chosen.isShared());

            // Apply: attention of every head over the shared tokens
            Tensor out = dsa.apply(q, chosen);
            Tensor expected = PipelineTesting.f32(arena, SHAPE.queryHeads(), SHAPE.headDim());
            ORACLE.apply().attention(q, kv.keys(), kv.values(), SHAPE.kvHeads(), tokens, SHAPE.scale(), expected);
            PipelineTesting.attentionWithin("output" + why, out, expected, tokens.length(),
                    PipelineTesting.maxAbs(kv.values()));
        }
    }

    static DsaPipeline pipeline(Arena arena, Engine engine, DsaPipeline.IndexerWeights weights,
                                DsaPipeline.Settings settings) {
        var cpu = engine.cpu().backend();
        long capacity = LENGTH + 8;
        PagedKvMemory kv = new PagedKvMemory(arena, engine, SHAPE.kvHeads(), SHAPE.headDim(), capacity);
        IndexerKeyMemory keys = new IndexerKeyMemory(arena, engine, settings.indexerDim(), capacity, settings.keyStorage());
        return new DsaPipeline(engine, kv, keys, weights, SHAPE, settings, arena);
    }

    /**
     * Per token: {@code sum_h |w_h| * (dot bound + sum_i |q_I,h,i| * scale_t)}: a key code may differ by one, and
     * the indexer query comes from a project within its own bound (doubled for that).
     */
    static double[] scoreTolerance(Tensor qI, Tensor w, Tensor keys) {
        double[] tau = new double[(int) keys.rows()];
        for (int t = 0; t < tau.length; t++) {
            double sum = 0;
            for (int h = 0; h < qI.rows(); h++) {
                double products = 0;
                double norm1 = 0;
                for (int i = 0; i < qI.cols(); i++) {
                    products += Math.abs(qI.get(h, i) * keys.get(t, i));
                    norm1 += Math.abs(qI.get(h, i));
                }
                sum += Math.abs(w.get(0, h)) * (4 * Tolerances.dot(qI.cols(), products, ElementType.F32, 0)
                        + norm1 * keys.scale(t));
            }
            tau[t] = sum + 1e-30;
        }
        return tau;
    }
}
