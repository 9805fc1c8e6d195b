package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.profile.OpTotals;
import dev.mempipe.spi.Step;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemAgentPipelineTest {
    static final int FACT = 1000;   // token ids >= FACT are facts worth remembering; the rest is filler
    static final int VOCAB = 1100;

    /** A scripted reader: its rewrite lists the facts of its context in order of first sight, then filler 0. */
    static ScriptedLanguageModel reader(Arena arena, int capacity) {
        return new ScriptedLanguageModel(arena, VOCAB, capacity, s -> {
            Set<Integer> facts = new LinkedHashSet<>();
            for (int t : s.context()) {
                if (t >= FACT) {
                    facts.add(t);
                }
            }
            List<Integer> ordered = List.copyOf(facts);
            int k = s.generated();
            return new ScriptedLanguageModel.Next(k < ordered.size() ? ordered.get(k) : 0, 0.9f);
        }, ctx -> new float[ctx.length]);
    }

    @Test
    void should_carry_facts_across_chunks_in_a_fixed_length_memory() {
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            MemAgentPipeline.Settings settings = new MemAgentPipeline.Settings(10, 4);
            ScriptedLanguageModel model = reader(arena, settings.contextNeeded());
            MemAgentPipeline agent = new MemAgentPipeline(engine, model, settings);
            int[] input = IntStream.range(0, 23).map(i -> i + 1).toArray();  // filler 1..23
            input[3] = 1001;   // chunk 0
            input[15] = 1002;  // chunk 1
            input[21] = 1003;  // chunk 2, the partial last one (3 tokens)
            agent.read(input);

            assertEquals(3, agent.chunksRead());
            assertArrayEquals(new int[] {1001, 1002, 1003, 0}, agent.memory(), "every fact kept, the length fixed");
            // the contexts: chunk 0 alone; then memory + chunk for the later ones
            List<int[]> p = model.prefills;
            assertArrayEquals(Arrays.copyOfRange(input, 0, 10), p.get(0));
            assertArrayEquals(new int[] {1001, 0, 0, 0}, p.get(1), "chunk 1 starts from the memory of chunk 0");
            assertArrayEquals(Arrays.copyOfRange(input, 10, 20), p.get(2));
            assertArrayEquals(new int[] {1001, 1002, 0, 0}, p.get(3));
            assertArrayEquals(Arrays.copyOfRange(input, 20, 23), p.get(4), "the last chunk is partial");
            assertEquals(5, p.size());

            var report = engine.report();
            OpTotals rewrite = op(report.perOp(), MemAgentPipeline.REWRITE);
            OpTotals memoryPrefill = op(report.perOp(), MemAgentPipeline.MEMORY_PREFILL);
            assertEquals(Step.PREPARE, rewrite.step());
            assertEquals(3, rewrite.totals().calls(), "one rewrite per chunk");
            assertEquals(Step.APPLY, memoryPrefill.step());
            assertEquals(2, memoryPrefill.totals().calls(), "no memory to apply before the first chunk");
            assertTrue(!report.perStep().containsKey(Step.RELEVANCY) && !report.perStep().containsKey(Step.RETRIEVAL),
                    "MemAgent searches nothing");

            // the question is asked over the memory alone
            assertArrayEquals(agent.memory(), agent.retrieve(agent.relevancy(new int[] {5})));
            agent.step(new int[] {42, 43});
            assertArrayEquals(concat(agent.memory(), new int[] {42, 43}), model.tokens());
        }
    }

    @Test
    void should_refuse_a_model_too_small_and_chunks_too_long() {
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            MemAgentPipeline.Settings settings = new MemAgentPipeline.Settings(10, 4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new MemAgentPipeline(engine, reader(arena, 17), settings));
            assertTrue(e.getMessage().contains("18"), e.getMessage());
            MemAgentPipeline agent = new MemAgentPipeline(engine, reader(arena, 18), settings);
            assertThrows(IllegalArgumentException.class, () -> agent.readChunk(new int[11]));
            assertThrows(IllegalStateException.class, () -> agent.prepare(new int[1]), "nothing read yet");
            assertEquals(new MemAgentPipeline.Settings(5000, 1024), MemAgentPipeline.Settings.DEFAULT);
        }
    }

    private static OpTotals op(List<OpTotals> ops, String name) {
        return ops.stream().filter(o -> o.op().equals(name)).findFirst().orElseThrow(() -> new AssertionError(
                name + " not in " + ops));
    }

    private static int[] concat(int[] a, int[] b) {
        int[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
