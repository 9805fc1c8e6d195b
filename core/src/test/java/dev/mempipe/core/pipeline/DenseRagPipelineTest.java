package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.EmbeddingMemory;
import dev.mempipe.core.memory.Hits;
import dev.mempipe.goldentests.Compare;
import dev.mempipe.goldentests.Tolerances;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static dev.mempipe.core.pipeline.PipelineTesting.ORACLE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DenseRagPipelineTest {
    static final int DIM = 37;
    static final int CHUNKS = 513;

    @Test
    void should_equal_the_oracle_composition_of_cosine_topK() {
        long seed = PipelineTesting.seed(61);
        String why = PipelineTesting.reproduce("DenseRagPipelineTest", seed);
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            SplittableRandom random = new SplittableRandom(seed);
            Tensor embeddings = PipelineTesting.uniform(arena, random, CHUNKS, DIM);
            Tensor query = PipelineTesting.uniform(arena, random, 1, DIM);
            DenseRagPipeline rag = new DenseRagPipeline(engine, new EmbeddingMemory(arena, engine, DIM, CHUNKS), new DenseRagPipeline.Settings(9, false, 12), arena);
            rag.prepare(new DenseRagPipeline.Chunks(embeddings.rowSlice(0, 200), texts(0, 200)));
            rag.prepare(new DenseRagPipeline.Chunks(embeddings.rowSlice(200, CHUNKS), texts(200, CHUNKS)));

            Tensor unit = PipelineTesting.f32(arena, CHUNKS, DIM);
            ORACLE.prepare().l2Normalize(embeddings, unit);
            Tensor ref = PipelineTesting.f32(arena, 1, CHUNKS);
            ORACLE.relevancy().cosine(query, unit, ref);
            DenseRagPipeline.Scores scores = rag.relevancy(query);
            Compare.within("cosines" + why, scores.cosines(), ref, Compare.Bound.of("(c*d)*u",
                    (r, c, e) -> 8.0 * DIM * Tolerances.U32, null));
            Hits hits = rag.retrieve(scores);
            Indices top = Indices.allocate(arena, 9);
            ORACLE.retrieval().topK(ref, 9, top, null);
            if (PipelineTesting.wellSeparated(PipelineTesting.rowOf(ref, 0), 9,
                    PipelineTesting.maxAbsDifference(scores.cosines(), ref))) {
                assertArrayEquals(top.toArray(), hits.ids(), "chunks" + why);
            }
            Compare.topKSetRule("chunks" + why, hits.ids(), 9, PipelineTesting.rowOf(ref, 0), 8.0 * DIM * Tolerances.U32);

            // Apply: "chunk <i> text" is 3 words: four chunks fit a 12-token prompt
            Prompt prompt = rag.apply(query, hits);
            assertEquals(List.of(hits.id(0), hits.id(1), hits.id(2), hits.id(3)), prompt.sources());
            assertEquals(12, prompt.tokens());
            assertTrue(prompt.text().startsWith("chunk " + hits.id(0) + " text\n\nchunk " + hits.id(1)));
            for (Step step : new Step[] {Step.PREPARE, Step.RELEVANCY, Step.RETRIEVAL, Step.APPLY}) {
                assertTrue(engine.report().perStep().containsKey(step), "no " + step + " record");
            }
        }
    }

    @Test
    void approximate_search_should_find_most_exact_neighbours() {
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            SplittableRandom random = new SplittableRandom(62);
            Tensor embeddings = PipelineTesting.uniform(arena, random, CHUNKS, DIM);
            Tensor query = PipelineTesting.uniform(arena, random, 1, DIM);
            DenseRagPipeline exact = new DenseRagPipeline(engine, new EmbeddingMemory(arena, engine, DIM, CHUNKS),
                    new DenseRagPipeline.Settings(10, false, 4096), arena);
            DenseRagPipeline approximate = new DenseRagPipeline(engine, new EmbeddingMemory(arena, engine, DIM, CHUNKS),
                    new DenseRagPipeline.Settings(10, true, 4096), arena);
            DenseRagPipeline.Chunks chunks = new DenseRagPipeline.Chunks(embeddings, texts(0, CHUNKS));
            exact.prepare(chunks);
            approximate.prepare(chunks);
            assertEquals(CHUNKS, approximate.memory().indexedRows(), "Prepare builds the graph");
            List<Integer> truth = new ArrayList<>();
            for (int id : exact.retrieve(exact.relevancy(query)).ids()) {
                truth.add(id);
            }
            long found = java.util.Arrays.stream(approximate.retrieve(approximate.relevancy(query)).ids())
                    .filter(truth::contains).count();
            assertTrue(found >= 8, "HNSW recall@10 is " + found + "/10");
        }
    }

    static List<String> texts(int from, int to) {
        List<String> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            out.add("chunk " + i + " text");
        }
        return out;
    }
}
