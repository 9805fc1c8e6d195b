package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.Bm25Memory;
import dev.mempipe.core.memory.EmbeddingMemory;
import dev.mempipe.core.memory.Hits;
import dev.mempipe.core.memory.SimpleTokenizer;
import dev.mempipe.core.profile.OpTotals;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.IntPredicate;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * FLARE and DRAGIN on a small corpus of real sentences (test resource {@code dynamic-rag/corpus.txt}) with a
 * scripted model: it answers "When was the Eiffel Tower completed?" with "the eiffel tower was completed in YEAR
 * paris", unsure of the year (1887, probability 0.2) until the answer document is in its context, then sure of
 * 1889 (0.95). The planted answer document must be retrieved when, and only when, the trigger fires.
 */
class DynamicRagEndToEndTest {
    static final String QUESTION = "question: when was the eiffel tower completed? answer:";
    static final List<String> ANSWER = List.of("the", "eiffel", "tower", "was", "completed", "in", "YEAR", "paris");
    static final int YEAR_AT = 6;
    static final Set<String> STOP_WORDS = Set.of("the", "was", "in", "a", "of", "to", "and", "when", "question",
            "answer", "is", "it", "its", "on", "for", "as", "at");

    /** The corpus, the tokenizer that gave every word its id, and the ids the script uses. */
    record Corpus(List<String> lines, SimpleTokenizer tokenizer, List<int[]> documents, int[] prompt, int[] answer,
                  int wrongYear, int rightYear, int vocab, int planted) {
        IntPredicate stopWord() {
            Set<Integer> ids = STOP_WORDS.stream().map(w -> tokenizer.tokenize(w)[0]).collect(Collectors.toSet());
            return ids::contains;
        }

        int id(String word) {
            return tokenizer.lookup(word)[0];
        }
    }

    static Corpus corpus() throws IOException {
        List<String> lines;
        try (InputStream in = DynamicRagEndToEndTest.class.getResourceAsStream("/dynamic-rag/corpus.txt")) {
            lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        }
        SimpleTokenizer tokenizer = new SimpleTokenizer();
        List<int[]> documents = new ArrayList<>();
        for (String line : lines) {
            documents.add(tokenizer.tokenize(line));
        }
        int[] prompt = tokenizer.tokenize(QUESTION);
        int wrong = tokenizer.tokenize("1887")[0];
        int right = tokenizer.tokenize("1889")[0];
        int[] answer = new int[ANSWER.size()];
        for (int i = 0; i < answer.length; i++) {
            answer[i] = i == YEAR_AT ? -1 : tokenizer.tokenize(ANSWER.get(i))[0];
        }
        int planted = 0; // the first line is the answer document
        assertTrue(lines.get(planted).contains("1889") && lines.get(planted).contains("Eiffel Tower"));
        return new Corpus(lines, tokenizer, documents, prompt, answer, wrong, right, tokenizer.lookup(
                String.join(" ", lines)).length + 64, planted);
    }

    /** The script: the answer sentence again and again, the year right only once 1889 is in the context. */
    static ScriptedLanguageModel.Next answer(Corpus c, ScriptedLanguageModel.State s) {
        int k = s.generated() % c.answer().length;
        if (k != YEAR_AT) {
            return new ScriptedLanguageModel.Next(c.answer()[k], 0.9f);
        }
        boolean known = Arrays.stream(s.context()).anyMatch(t -> t == c.rightYear());
        return known ? new ScriptedLanguageModel.Next(c.rightYear(), 0.95f)
                : new ScriptedLanguageModel.Next(c.wrongYear(), 0.2f);
    }

    /**
     * The attention script: the year attends to "eiffel", "tower" and "completed" of the question (0.2 each), the
     * token after the year attends to the year (0.5), every other token attends evenly.
     */
    static float[] attention(Corpus c, int[] context) {
        int n = context.length;
        float[] row = new float[n];
        int last = context[n - 1];
        if (last == c.wrongYear() || last == c.rightYear()) {
            Set<Integer> focus = Set.of(c.id("eiffel"), c.id("tower"), c.id("completed"));
            int[] at = new int[3];
            int found = 0;
            for (int p = 0; p < c.prompt().length && found < 3; p++) {
                if (focus.contains(context[p])) {
                    at[found++] = p;
                }
            }
            Arrays.fill(row, 0.4f / (n - 3));
            for (int p : at) {
                row[p] = 0.2f;
            }
        } else if (n >= 2 && (context[n - 2] == c.wrongYear() || context[n - 2] == c.rightYear())) {
            Arrays.fill(row, 0.5f / (n - 1));
            row[n - 2] = 0.5f;
        } else {
            Arrays.fill(row, 1f / n);
        }
        return row;
    }

    static DocumentRetrieval bm25(Engine engine, Corpus c, Arena arena) {
        Bm25Memory memory = new Bm25Memory(arena, engine, 64, 4096, c.tokenizer());
        DocumentRetrieval retrieval = DocumentRetrieval.bm25(new Bm25Pipeline(engine, memory,
                new Bm25Pipeline.Settings(Bm25Pipeline.Settings.DEFAULT.params(), DocumentRetrieval.DEFAULT_TOP_K, 4096),
                arena));
        retrieval.add(c.documents());
        return retrieval;
    }

    static ScriptedLanguageModel model(Corpus c, Arena arena) {
        return new ScriptedLanguageModel(arena, c.vocab(), 2048, s -> answer(c, s), ctx -> attention(c, ctx));
    }

    @Test
    void flare_should_retrieve_the_planted_document_when_the_unsure_year_triggers_and_regenerate_the_answer()
            throws IOException {
        Corpus c = corpus();
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            ScriptedLanguageModel model = model(c, arena);
            DocumentRetrieval retrieval = bm25(engine, c, arena);
            FlarePipeline flare = new FlarePipeline(engine, model, retrieval,
                    FlarePipeline.Settings.DEFAULT.withLookahead(ANSWER.size()), arena);
            flare.start(c.prompt());
            engine.resetProfile();

            Lookahead first = flare.lookahead();
            int[] tentative = first.tokens();
            assertEquals(c.wrongYear(), tentative[YEAR_AT], "unsure of the year without the document");
            FlarePipeline.Trigger trigger = flare.relevancy(first);
            assertArrayEquals(new int[] {YEAR_AT}, trigger.lowConfidence(), "only the year is below 0.4");
            int[] expectedQuery = Arrays.stream(tentative).filter(t -> t != c.wrongYear()).toArray();
            assertArrayEquals(expectedQuery, trigger.query(), "the sentence without the unsure year");

            Hits hits = flare.retrieve(trigger);
            assertEquals(c.planted(), hits.id(0), "the answer document ranks first for " + hits);
            assertEquals(DocumentRetrieval.DEFAULT_TOP_K, hits.size());

            int[] kept = flare.apply(first, hits);
            int[] expectedPrefill = concat(retrieval, hits);
            assertArrayEquals(expectedPrefill, model.prefills.getLast(), "the retrieved documents were prefilled");
            assertEquals(c.rightYear(), kept[YEAR_AT], "regenerated with the document in context");
            assertEquals(ANSWER.size(), kept.length);
            int[] context = flare.context();
            assertEquals(c.prompt().length + expectedPrefill.length + kept.length, context.length,
                    "the tentative sentence was dropped");
            assertArrayEquals(model.tokens(), context, "the pipeline's context is the model's");

            // the next sentence is sure of its year: no trigger, no retrieval
            int[] second = flare.sentence();
            assertEquals(c.rightYear(), second[YEAR_AT]);
            DynamicRagStats stats = flare.stats();
            assertEquals(new DynamicRagStats(16, 24, 2, 1, 1, 3, expectedPrefill.length), stats);
            assertEquals(1 / 16.0, stats.triggersPerToken(), 1e-12);

            Set<String> labels = engine.report().perOp().stream().map(o -> o.step() + " " + o.op())
                    .collect(Collectors.toSet());
            assertTrue(labels.containsAll(Set.of("RELEVANCY tokenConfidence", "RELEVANCY bm25Score",
                    "RETRIEVAL topK", "APPLY prefill")), labels.toString());
            OpTotals prefill = engine.report().perOp().stream().filter(o -> o.op().equals("prefill")).findFirst()
                    .orElseThrow();
            assertEquals(1, prefill.totals().calls());
        }
    }

    @Test
    void flare_should_not_retrieve_while_the_model_is_sure() throws IOException {
        Corpus c = corpus();
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            // the year is in the prompt: the script is sure from the start
            ScriptedLanguageModel model = model(c, arena);
            FlarePipeline flare = new FlarePipeline(engine, model, bm25(engine, c, arena),
                    FlarePipeline.Settings.DEFAULT.withLookahead(ANSWER.size()), arena);
            int[] prompt = Arrays.copyOf(c.prompt(), c.prompt().length + 1);
            prompt[prompt.length - 1] = c.rightYear();
            flare.start(prompt);
            flare.generate(3 * ANSWER.size());
            assertEquals(0, flare.stats().triggers());
            assertEquals(1, model.prefills.size(), "only the prompt was prefilled");
            assertFalse(engine.report().perStep().containsKey(Step.RETRIEVAL));
        }
    }

    @Test
    void flare_should_find_the_planted_document_with_dense_retrieval_too() throws IOException {
        Corpus c = corpus();
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            int d = 64;
            EmbeddingMemory memory = new EmbeddingMemory(arena, engine, d, 64);
            DenseRagPipeline dense = new DenseRagPipeline(engine, memory,
                    new DenseRagPipeline.Settings(DocumentRetrieval.DEFAULT_TOP_K, false, 4096), arena);
            IntPredicate stop = c.stopWord();
            DocumentRetrieval retrieval = DocumentRetrieval.dense(dense, ids -> bagOfWords(arena, ids, d, stop));
            retrieval.add(c.documents());
            ScriptedLanguageModel model = model(c, arena);
            FlarePipeline flare = new FlarePipeline(engine, model, retrieval,
                    FlarePipeline.Settings.DEFAULT.withLookahead(ANSWER.size()), arena);
            flare.start(c.prompt());
            Lookahead first = flare.lookahead();
            Hits hits = flare.retrieve(flare.relevancy(first));
            assertEquals(c.planted(), hits.id(0), "dense: the answer document ranks first for " + hits);
            int[] kept = flare.apply(first, hits);
            assertEquals(c.rightYear(), kept[YEAR_AT]);
            assertTrue(engine.report().perOp().stream().anyMatch(o -> o.op().equals("cosine")));
        }
    }

    @Test
    void dragin_should_trigger_at_the_uncertain_attended_year_and_query_what_it_attends_to() throws IOException {
        Corpus c = corpus();
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            ScriptedLanguageModel model = model(c, arena);
            DocumentRetrieval retrieval = bm25(engine, c, arena);
            DraginPipeline dragin = new DraginPipeline(engine, model, retrieval,
                    new DraginPipeline.Settings(ANSWER.size(), 1.0f, 3, 1f), c.stopWord(), arena);
            dragin.start(c.prompt());

            Lookahead first = dragin.lookahead();
            DraginPipeline.Trigger trigger = dragin.relevancy(first);
            assertEquals(YEAR_AT, trigger.position(), "RIND scores " + Arrays.toString(trigger.scores()));
            for (int i = 0; i < first.length(); i++) {
                assertTrue(i == YEAR_AT || trigger.scores()[i] < 1.0f, "token " + i + " scores " + trigger.scores()[i]);
            }
            assertArrayEquals(new int[] {c.id("eiffel"), c.id("tower"), c.id("completed")}, trigger.query(),
                    "QFS: the three question words the year attends to, in context order");

            Hits hits = dragin.retrieve(trigger);
            assertEquals(c.planted(), hits.id(0), "the answer document ranks first for " + hits);
            int[] kept = dragin.apply(first, hits);
            assertArrayEquals(Arrays.copyOf(first.tokens(), YEAR_AT), kept, "cut before the triggering token");
            assertArrayEquals(concat(retrieval, hits), model.prefills.getLast());

            int[] next = dragin.sentence();
            assertEquals(c.rightYear(), next[0], "generation continues with the year, now right");
            assertEquals(1, dragin.stats().retrievals());
            assertTrue(engine.report().perOp().stream().anyMatch(o -> o.op().equals("prefill")));
        }
    }

    @Test
    void dragin_with_the_default_25_query_tokens_still_ranks_the_planted_document_first() throws IOException {
        Corpus c = corpus();
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            ScriptedLanguageModel model = model(c, arena);
            DraginPipeline dragin = new DraginPipeline(engine, model, bm25(engine, c, arena),
                    DraginPipeline.Settings.DEFAULT.withThreshold(1.0f), c.stopWord(), arena);
            dragin.start(c.prompt());
            int[] out = dragin.generate(40);
            assertTrue(dragin.stats().retrievals() >= 1);
            int at = -1;
            for (int i = 0; i < out.length; i++) {
                if (out[i] == c.rightYear()) {
                    at = i;
                    break;
                }
            }
            assertTrue(at >= 0, "the right year appears in " + Arrays.toString(out));
            for (int i = 0; i < at; i++) {
                assertTrue(out[i] != c.wrongYear(), "the wrong year was cut before it was kept");
            }
        }
    }

    static int[] concat(DocumentRetrieval retrieval, Hits hits) {
        int[] all = new int[0];
        for (int r = 0; r < hits.size(); r++) {
            int[] doc = retrieval.documentTokens(hits.id(r));
            int at = all.length;
            all = Arrays.copyOf(all, at + doc.length);
            System.arraycopy(doc, 0, all, at, doc.length);
        }
        return all;
    }

    /** A hashed bag of words without stop words: a stand-in embedding model that needs no weights. */
    static Tensor bagOfWords(Arena arena, int[] ids, int d, IntPredicate stop) {
        Tensor e = Tensor.allocate(arena, ElementType.F32, 1, d);
        for (int id : ids) {
            if (!stop.test(id)) {
                int slot = Math.floorMod(id * 0x9E3779B9, d);
                e.set(0, slot, e.get(0, slot) + 1);
            }
        }
        return e;
    }
}
