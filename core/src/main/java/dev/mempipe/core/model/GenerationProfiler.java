package dev.mempipe.core.model;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.Bm25Memory;
import dev.mempipe.core.pipeline.Bm25Pipeline;
import dev.mempipe.core.pipeline.DocumentRetrieval;
import dev.mempipe.core.pipeline.DraginPipeline;
import dev.mempipe.core.pipeline.DynamicRagStats;
import dev.mempipe.core.pipeline.FlarePipeline;
import dev.mempipe.core.pipeline.MemAgentPipeline;
import dev.mempipe.core.profile.ProfileReport;
import dev.mempipe.core.profile.StepRecord;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.IntSupplier;

/**
 * The profile of the generating workloads (FLARE, DRAGIN, MemAgent), which drive the decoder themselves through a
 * {@link DecoderLanguageModel} instead of being called by it. Times are per generated token (FLARE, DRAGIN) or per
 * chunk read (MemAgent); each row carries the workload's own figures with their basis.
 *
 * <p>The synthetic choices, which the figures name: a random-weight model (its confidence says nothing about truth,
 * so trigger rates depend on the temperature and threshold chosen below), a corpus of random term ids, and MemAgent
 * scaled to an eighth of the paper's chunk and memory so that the default profile stays within its time budget.
 */
final class GenerationProfiler {
    /** Look-ahead sentences generated before measuring the dynamic RAG workloads (their warm-up). */
    private static final int WARM_UP_SENTENCES = 1;

    /**
     * The temperature the dynamic RAG rows judge tokens at. A random-weight decoder with a tied embedding predicts
     * its own input token again and again, with probability 0.98 at temperature 32 and 0.10 at 64: its confidence
     * carries no information, so the profile picks a temperature at which every look-ahead triggers. The rows
     * therefore show dynamic RAG's upper bound, one retrieval per look-ahead, and say so.
     */
    static final float TEMPERATURE = 64f;
    /** FLARE as the profile runs it: look-aheads of 16 tokens, threshold 0.4. */
    static final FlarePipeline.Settings FLARE = FlarePipeline.Settings.DEFAULT.withTemperature(TEMPERATURE);
    /**
     * DRAGIN as the profile runs it: look-aheads of 16 tokens, 25 query tokens, and threshold 0: a random model's
     * attention is near uniform over the context (about 1/L per token), so any positive threshold of the paper's
     * order would never fire; with 0 every look-ahead triggers at its first token (the upper bound, as FLARE's).
     */
    static final DraginPipeline.Settings DRAGIN = DraginPipeline.Settings.DEFAULT.withTemperature(TEMPERATURE)
            .withThreshold(0f);
    /** MemAgent scaled 1/8 (the paper: chunks of 5000, a memory of 1024), so the default profile stays short. */
    static final MemAgentPipeline.Settings MEMAGENT = new MemAgentPipeline.Settings(625, 128);
    private static final String DYNAMIC_BASIS = "synthetic: random-weight model judged at temperature "
            + (int) TEMPERATURE + " (every look-ahead triggers: the upper bound), corpus of random term ids";

    private final Engine engine;
    private final Backend cpu;

    GenerationProfiler(Engine engine, Backend cpu) {
        this.engine = engine;
        this.cpu = cpu;
    }

    WorkloadProfile profile(Workload workload, long context, DecoderModel model, WorkloadProfiler.Options options,
                            Arena arena, Consumer<String> phases) {
        return workload == Workload.MEMAGENT ? memAgent(context, model, options, arena, phases)
                : dynamicRag(workload, context, model, options, arena, phases);
    }

    private WorkloadProfile dynamicRag(Workload workload, long context, DecoderModel model,
                                       WorkloadProfiler.Options options, Arena arena, Consumer<String> phases) {
        int entries = Math.toIntExact(context);
        // closed before returning: its device copy of the index (the arena frees the host memory)
        try (Bm25Memory memory = new Bm25Memory(arena, engine, entries,
                Math.multiplyExact(entries, SyntheticCorpus.MAX_DOCUMENT_TOKENS))) {
            return dynamicRag(workload, context, model, options, arena, phases, memory);
        }
    }

    private WorkloadProfile dynamicRag(Workload workload, long context, DecoderModel model,
                                       WorkloadProfiler.Options options, Arena arena, Consumer<String> phases,
                                       Bm25Memory memory) {
        DecoderConfig config = model.config();
        int entries = Math.toIntExact(context);
        int vocab = config.vocab();

        // Setup: the corpus indexed (Prepare)
        phases.accept(WorkloadProfiler.PHASE_PREPARE);
        engine.resetProfile();
        long setupStart = System.nanoTime();
        DocumentRetrieval retrieval = DocumentRetrieval.bm25(new Bm25Pipeline(engine, memory,
                new Bm25Pipeline.Settings(Bm25Pipeline.Settings.DEFAULT.params(), DocumentRetrieval.DEFAULT_TOP_K,
                        Bm25Pipeline.Settings.DEFAULT.promptTokens()), arena));
        retrieval.add(Arrays.asList(SyntheticCorpus.documents(options.seed(), 0, entries, vocab)));
        double setupSeconds = (System.nanoTime() - setupStart) / 1e9;
        ProfileReport setup = engine.report();

        // the decoder: a prompt of synthetic KV, then generation
        int lookahead = workload == Workload.FLARE ? FLARE.lookaheadTokens() : DRAGIN.lookaheadTokens();
        int wanted = Math.max(options.measuredSteps(), 2 * lookahead);
        int sentences = wanted + 2 * lookahead; // a bound: every two look-aheads keep at least one whole one
        int perSentence = 2 * lookahead + DocumentRetrieval.DEFAULT_TOP_K * SyntheticCorpus.MAX_DOCUMENT_TOKENS;
        int prompt = options.ragPromptTokens();
        DecoderLanguageModel lm = new DecoderLanguageModel(model, arena, cpu, engine,
                Math.addExact(prompt, Math.multiplyExact(sentences, perSentence)));
        int[] promptTokens = SyntheticCorpus.terms(SeededFill.derive(options.seed(), 55), prompt, vocab);
        Tensor logits = fillPrompt(lm, config, options, promptTokens, arena);
        IntSupplier sentence;
        java.util.function.Supplier<DynamicRagStats> stats;
        if (workload == Workload.FLARE) {
            FlarePipeline flare = new FlarePipeline(engine, lm, retrieval, FLARE, arena);
            flare.resume(promptTokens, logits);
            sentence = () -> flare.sentence().length;
            stats = flare::stats;
        } else {
            DraginPipeline dragin = new DraginPipeline(engine, lm, retrieval, DRAGIN, t -> false, arena);
            dragin.resume(promptTokens, logits);
            sentence = () -> dragin.sentence().length;
            stats = dragin::stats;
        }

        phases.accept(WorkloadProfiler.PHASE_DECODE);
        sentence.getAsInt(); // warm-up: WARM_UP_SENTENCES
        engine.resetProfile();
        model.work().reset();
        DynamicRagStats before = stats.get();
        long wall = 0;
        long kept = 0;
        while (kept < wanted) {
            long start = System.nanoTime();
            kept += sentence.getAsInt();
            wall += System.nanoTime() - start;
        }
        DynamicRagStats done = stats.get().since(before);
        ProfileReport measured = engine.report();
        double stepSeconds = wall / 1e9 / kept;
        double memorySeconds = measured.total().wallNanos() / 1e9 / kept;
        double retrievalSeconds = seconds(measured, "bm25Score") + seconds(measured, "topK");
        List<WorkloadFigure> figures = List.of(
                new WorkloadFigure("triggers per token", done.triggersPerToken(), "", DYNAMIC_BASIS),
                new WorkloadFigure("prefilled tokens per token", done.prefilledPerToken(), "", DYNAMIC_BASIS),
                new WorkloadFigure("re-prefill per token", seconds(measured, "prefill") / kept, "s", "measured"),
                new WorkloadFigure("retrieval per token", retrievalSeconds / kept, "s", "measured"),
                new WorkloadFigure("decoded per kept token", (double) done.decodedTokens() / kept, "", DYNAMIC_BASIS));
        return new WorkloadProfile(workload, context, config, Math.toIntExact(kept), stepSeconds, memorySeconds,
                Math.max(0, stepSeconds - memorySeconds), setupSeconds, measured, setup, model.work().ops(), null,
                figures, WARM_UP_SENTENCES);
    }

    private WorkloadProfile memAgent(long context, DecoderModel model, WorkloadProfiler.Options options, Arena arena,
                                     Consumer<String> phases) {
        DecoderConfig config = model.config();
        int length = Math.toIntExact(context);
        int chunk = MEMAGENT.chunkTokens();
        phases.accept(WorkloadProfiler.PHASE_PREPARE);
        engine.resetProfile();
        ProfileReport setup = engine.report(); // nothing is built before reading: the memory is written as it reads
        DecoderLanguageModel lm = new DecoderLanguageModel(model, arena, cpu, engine, MEMAGENT.contextNeeded());
        MemAgentPipeline agent = new MemAgentPipeline(engine, lm, MEMAGENT);
        int[] input = SyntheticCorpus.terms(SeededFill.derive(options.seed(), 56), length, config.vocab());
        int full = length / chunk;
        int last = length % chunk;

        phases.accept(WorkloadProfiler.PHASE_DECODE);
        if (options.warmupSteps() > 0) {
            agent.readChunk(Arrays.copyOf(input, Math.min(chunk, length))); // the first chunk, memory empty
        } else { // the measured chunks still need a memory to apply: a cheap one-token chunk writes it
            agent.readChunk(Arrays.copyOf(input, 1));
        }
        List<int[]> distinct = new ArrayList<>();
        if (full >= 1) {
            int from = full >= 2 ? chunk : 0;
            distinct.add(Arrays.copyOfRange(input, from, from + chunk));
        }
        if (last > 0) {
            distinct.add(Arrays.copyOfRange(input, length - last, length));
        }
        engine.resetProfile();
        model.work().reset();
        long[] wall = new long[distinct.size()];
        for (int i = 0; i < wall.length; i++) {
            long start = System.nanoTime();
            agent.readChunk(distinct.get(i));
            wall[i] = System.nanoTime() - start;
        }
        ProfileReport measured = engine.report();
        List<StepRecord> rewrites = measured.records().stream()
                .filter(r -> r.op().equals(MemAgentPipeline.REWRITE)).toList();
        int n = wall.length;
        long totalWall = Arrays.stream(wall).sum();
        double stepSeconds = totalWall / 1e9 / n;
        double memorySeconds = measured.total().wallNanos() / 1e9 / n;
        // the whole input: `full` chunks like the measured full one, and the last partial one
        double readNanos = 0;
        double rewriteNanos = 0;
        for (int i = 0; i < n; i++) {
            long count = i == 0 && full >= 1 ? full : 1;
            readNanos += count * (double) wall[i];
            rewriteNanos += count * (double) rewrites.get(i).wallNanos();
        }
        String basis = "model: the measured full and last chunk times their counts; synthetic: scaled 1/8 (chunks of "
                + chunk + ", memory of " + MEMAGENT.memoryTokens() + " tokens, the paper's 5000 and 1024), random-weight "
                + "model";
        List<WorkloadFigure> figures = List.of(
                new WorkloadFigure("chunks read", full + (last > 0 ? 1 : 0), "", "input tokens / " + chunk),
                new WorkloadFigure("rewrite share of reading the input", 100 * rewriteNanos / readNanos, "%", basis),
                new WorkloadFigure("time to read the input", readNanos / 1e9, "s", basis));
        return new WorkloadProfile(Workload.MEMAGENT, context, config, n, stepSeconds, memorySeconds,
                Math.max(0, stepSeconds - memorySeconds), 0, measured, setup, model.work().ops(), null, figures,
                options.warmupSteps() > 0 ? 1 : 0); // one chunk read before measuring (a step here is a chunk)
    }

    /** Fills all but the last prompt position with synthetic KV, decodes the last one, returns its logits. */
    private static Tensor fillPrompt(DecoderLanguageModel lm, DecoderConfig config, WorkloadProfiler.Options options,
                                     int[] promptTokens, Arena arena) {
        int filled = promptTokens.length - 1;
        if (filled > 0) {
            var shape = config.attentionShape();
            for (int l = 0; l < config.layers(); l++) {
                long layerSeed = SeededFill.derive(options.seed(), l);
                int layer = l;
                new SyntheticKv(shape, SyntheticKv.probeQuery(arena, shape, layerSeed), filled, options.structure(),
                        layerSeed).fill(arena, 4096, rows -> lm.appendContext(layer, rows));
            }
        }
        lm.markFilled(filled);
        return lm.next(promptTokens[filled]);
    }

    private static double seconds(ProfileReport report, String op) {
        return report.perOp().stream().filter(o -> o.op().equals(op)).mapToLong(o -> o.totals().wallNanos()).sum()
                / 1e9;
    }

}
