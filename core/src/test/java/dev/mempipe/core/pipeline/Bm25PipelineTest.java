package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.Bm25Memory;
import dev.mempipe.core.memory.Hits;
import dev.mempipe.goldentests.Compare;
import dev.mempipe.goldentests.Tolerances;
import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.Indices;
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

class Bm25PipelineTest {
    static final String[] WORDS = {"memory", "page", "token", "query", "key", "value", "block", "gate", "index",
        "score", "retrieval", "attention", "sparse", "dense", "cache", "head", "layer", "model", "fpga", "gpu"};

    @Test
    void should_equal_the_oracle_composition_of_bm25Index_bm25Score_topK_with_the_default_and_fpga_scoring() {
        for (Bm25Pipeline.Settings settings : new Bm25Pipeline.Settings[] {Bm25Pipeline.Settings.DEFAULT,
            Bm25Pipeline.Settings.FPGA_KERNEL, new Bm25Pipeline.Settings(Bm25Params.DEFAULT, 7, 40)}) {
            check(settings, PipelineTesting.seed(51));
        }
    }

    void check(Bm25Pipeline.Settings settings, long seed) {
        String why = PipelineTesting.reproduce("Bm25PipelineTest", seed) + " with " + settings;
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            List<String> documents = corpus(new SplittableRandom(seed), 301);
            Bm25Memory memory = new Bm25Memory(arena, engine, 400, 20_000);
            Bm25Pipeline bm25 = new Bm25Pipeline(engine, memory, settings, arena);
            bm25.prepare(documents.subList(0, 100));
            bm25.prepare(documents.subList(100, documents.size())); // the index follows the appends
            String queryText = "sparse attention over the page cache";
            int[] terms = memory.tokenizer().lookup(queryText);

            // the oracle: bm25Index over the same term ids, bm25Score, topK
            Bm25Index index = ORACLE.prepare().bm25Index(memory.offsets(), memory.tokens());
            Tensor ref = PipelineTesting.f32(arena, 1, documents.size());
            ORACLE.relevancy().bm25Score(Indices.of(arena, terms), index, settings.params(), ref);
            Tensor scores = bm25.relevancy(terms);
            Compare.within("BM25 scores" + why, scores, ref, Compare.Bound.of("4u|ref|",
                    (r, c, e) -> 4 * Tolerances.U32 * Math.abs(e), null));
            int k = settings.topK();
            Indices top = Indices.allocate(arena, k);
            int count = ORACLE.retrieval().topK(ref, k, top, null);
            Hits hits = bm25.retrieve(scores);
            // documents sharing no term with the query (score exactly 0) are dropped
            int[] expectedIds = java.util.Arrays.stream(top.prefix(count).toArray()).filter(d -> ref.get(0, d) != 0)
                    .toArray();
            assertTrue(expectedIds.length > 0, "the query matches documents");
            if (PipelineTesting.maxAbsDifference(scores, ref) == 0) {
                assertArrayEquals(expectedIds, hits.ids(), "ranking" + why);
            } else {
                assertEquals(expectedIds.length, hits.size(), "documents" + why);
                for (int id : hits.ids()) {
                    assertTrue(ref.get(0, id) != 0, "document " + id + " shares no term with the query" + why);
                }
            }

            // Apply: the documents' text in rank order while they fit the budget
            Prompt prompt = bm25.apply(terms, hits);
            List<Integer> expected = new ArrayList<>();
            int used = 0;
            for (int id : hits.ids()) {
                int length = index.docLength(id);
                if (used + length > settings.promptTokens()) {
                    break;
                }
                expected.add(id);
                used += length;
            }
            assertEquals(expected, prompt.sources(), "prompt sources" + why);
            assertEquals(used, prompt.tokens());
            assertEquals(String.join("\n\n", expected.stream().map(documents::get).toList()), prompt.text());
            assertTrue(prompt.tokens() <= settings.promptTokens());
            assertEquals(prompt, bm25.step(queryText), "step(text) is the four steps in a row");
        }
    }

    @Test
    void should_render_documents_given_as_term_ids() {
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            Bm25Memory memory = new Bm25Memory(arena, engine, 4, 100);
            Bm25Pipeline bm25 = new Bm25Pipeline(engine, memory, Bm25Pipeline.Settings.DEFAULT, arena);
            bm25.prepareTokens(new int[][] {{1, 2, 3}, {3, 3, 4}, {5}});
            Prompt prompt = bm25.step(new int[] {3});
            assertEquals(List.of(1, 0), prompt.sources());
            assertEquals("3 3 4\n\n1 2 3", prompt.text());
        }
    }

    static List<String> corpus(SplittableRandom random, int documents) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < documents; i++) {
            StringBuilder doc = new StringBuilder("doc").append(i);
            int length = random.nextInt(3, 40);
            for (int w = 0; w < length; w++) {
                // skewed: low word numbers are common, as in text
                doc.append(' ').append(WORDS[(int) (WORDS.length * Math.pow(random.nextDouble(), 2))]);
            }
            out.add(doc.toString());
        }
        return out;
    }
}
