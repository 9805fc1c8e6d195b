package dev.mempipe.core.model;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.Bm25Memory;
import dev.mempipe.core.memory.CompressedMemory;
import dev.mempipe.core.memory.EmbeddingMemory;
import dev.mempipe.core.memory.OwnedMemories;
import dev.mempipe.core.pipeline.AttentionShape;
import dev.mempipe.core.pipeline.Bm25Pipeline;
import dev.mempipe.core.pipeline.DenseRagPipeline;
import dev.mempipe.core.pipeline.HmtPipeline;
import dev.mempipe.core.pipeline.KvPipeline;
import dev.mempipe.core.pipeline.LayeredAttention;
import dev.mempipe.core.pipeline.TokenSelection;
import dev.mempipe.core.profile.EnergyMeter;
import dev.mempipe.core.profile.ProfileReport;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * Measures one workload at one context size against a {@link DecoderModel}: builds the workload's memory to the
 * context size in bulk (synthetic KV with planted structure, or a synthetic corpus), measures the accuracy of a
 * sparse attention workload against dense attention, then runs warm-up and measured decode steps and splits
 * their time into memory pipeline and the rest ({@link WorkloadProfile} defines the split).
 *
 * <p>Several context sizes of one workload are profiled largest first ({@link #profile(Workload, List, DecoderConfig,
 * Options, BiConsumer)}): a run at a small context measured first can otherwise be measured with its kernels still
 * interpreted.
 *
 * <p>Models are built once per {@link DecoderConfig} and kept until {@link #close()}; each profile's memories
 * live in an arena of their own, closed before {@link #profile} returns. Not thread-safe: the engine's profile
 * is reset between phases.
 */
public final class WorkloadProfiler implements AutoCloseable {
    /** Rows per bulk Prepare call: large enough to batch the ops, small enough for modest scratch. */
    private static final int FILL_CHUNK_ROWS = 4096;
    /** Context and decode steps of the kernel warm-up: enough calls for the JIT's C2 tier to compile the ops. */
    private static final int KERNEL_WARM_UP_CONTEXT = 4096;
    private static final int KERNEL_WARM_UP_STEPS = 12;
    /**
     * Warm-up of each run in its own memory, after its {@code warmupSteps}: decode steps go on until at least
     * {@value #MIN_WARM_UP_NANOS} ns passed and the median of the last {@value #WARM_UP_WINDOW} steps is within
     * {@value #WARM_UP_AGREEMENT} of the median of the {@value #WARM_UP_WINDOW} before and the JIT compiled nothing
     * during the last {@value #WARM_UP_WINDOW} steps (its total compilation time did not grow), or
     * {@value #MAX_WARM_UP_STEPS} steps ran, or {@value #MAX_WARM_UP_NANOS} ns passed. A fixed count was not enough
     * (the first runs measured slower than later, larger ones), and neither were stable medians alone: on two busy
     * cores the step time plateaus while the Vector API kernels still wait in the C2 queue. Neither rule sees a
     * kernel that the JIT has not queued at all, which is why contexts are measured largest first
     * ({@link #profile(Workload, List, DecoderConfig, Options, BiConsumer)}).
     */
    static final long MIN_WARM_UP_NANOS = 200_000_000L;
    static final long MAX_WARM_UP_NANOS = 3_000_000_000L;
    static final int WARM_UP_WINDOW = 5;
    static final double WARM_UP_AGREEMENT = 0.10;
    static final int MAX_WARM_UP_STEPS = 400;
    /**
     * A workload whose contexts are all smaller is first profiled once, unmeasured, at this context (the largest of
     * the default profile, so no more memory than that), so that its kernels' loops run long enough to be compiled.
     */
    static final long REHEARSAL_CONTEXT = 65_536;
    /** How the profile warms up, in words, for the report. */
    public static final String WARM_UP_DESCRIPTION = "JIT warm-up once per model: every workload at "
            + KERNEL_WARM_UP_CONTEXT / 1024 + "k context for " + KERNEL_WARM_UP_STEPS + " decode steps; then each run, in "
            + "its own memory, at least its warm-up steps and " + MIN_WARM_UP_NANOS / 1_000_000 + " ms of decode steps, "
            + "until the median of the last " + WARM_UP_WINDOW + " steps is within " + (int) (WARM_UP_AGREEMENT * 100)
            + "% of the " + WARM_UP_WINDOW + " before and the JIT compiled nothing during the last " + WARM_UP_WINDOW
            + " steps (at most " + MAX_WARM_UP_STEPS + " steps or " + MAX_WARM_UP_NANOS / 1_000_000_000 + " s); "
            + "a workload's contexts are measured from the largest down (there its kernels' loops run longest, so the "
            + "JIT compiles them during that run's warm-up) and reported in the order asked, and a workload whose "
            + "contexts are all below " + REHEARSAL_CONTEXT / 1024 + "k first runs once at " + REHEARSAL_CONTEXT / 1024
            + "k, unmeasured";

    /** Phases reported to a {@link #profile(Workload, long, DecoderConfig, Options, Consumer)} listener. */
    public static final String PHASE_WARM_UP = "warm-up";
    public static final String PHASE_PREPARE = "prepare";
    public static final String PHASE_ACCURACY = "accuracy";
    public static final String PHASE_DECODE = "decode steps";

    /**
     * @param warmupSteps     decode steps run before measuring, in the profile's own memory
     * @param measuredSteps   decode steps measured, {@code >= 1}
     * @param warmUpKernels   before a model's first profile, run every workload briefly at a small context, so
     *                        that the JIT has compiled every kernel before anything is measured (a few seconds
     *                        once per model; without it, whichever workload runs first is measured slow)
     * @param kvStorage       element type of the KV caches (F32, F16 or BF16)
     * @param ragPromptTokens for retrieval workloads, the decoder's KV length (the assembled prompt)
     * @param structure       what the synthetic KV plants
     * @param settings        every pipeline's settings; null means {@link WorkloadSettings#forModel}
     * @param seed            seed of the synthetic data and the decoded tokens
     */
    public record Options(int warmupSteps, int measuredSteps, boolean warmUpKernels, ElementType kvStorage,
                          int ragPromptTokens, SyntheticKv.Structure structure, WorkloadSettings settings, long seed) {
        /**
         * 5 warm-up steps, 10 measured, kernels warmed up first, F32 KV, a 4096-token prompt, the default structure
         * and settings.
         */
        public static final Options DEFAULT = new Options(5, 10, true, ElementType.F32, 4096,
                SyntheticKv.Structure.DEFAULT, null, 7);

        public Options {
            if (warmupSteps < 0 || measuredSteps < 1 || ragPromptTokens < 1) {
                throw new IllegalArgumentException("need warmupSteps >= 0, measuredSteps >= 1 and ragPromptTokens >= 1,"
                        + " got " + warmupSteps + ", " + measuredSteps + ", " + ragPromptTokens);
            }
            Objects.requireNonNull(kvStorage, "kvStorage");
            Objects.requireNonNull(structure, "structure");
        }

        public Options withSteps(int warmup, int measured) {
            return new Options(warmup, measured, warmUpKernels, kvStorage, ragPromptTokens, structure, settings, seed);
        }

        public Options withKernelWarmUp(boolean warmUp) {
            return new Options(warmupSteps, measuredSteps, warmUp, kvStorage, ragPromptTokens, structure, settings,
                    seed);
        }

        public Options withSettings(WorkloadSettings newSettings) {
            return new Options(warmupSteps, measuredSteps, warmUpKernels, kvStorage, ragPromptTokens, structure,
                    newSettings, seed);
        }

        public Options withRagPromptTokens(int tokens) {
            return new Options(warmupSteps, measuredSteps, warmUpKernels, kvStorage, tokens, structure, settings,
                    seed);
        }

        WorkloadSettings settingsFor(DecoderConfig config) {
            return settings != null ? settings : WorkloadSettings.forModel(config);
        }
    }

    private final Engine engine;
    private final Engine decoderEngine;
    private final Backend cpu;
    private final Arena modelArena = Arena.ofShared();
    private final Map<DecoderConfig, DecoderModel> models = new HashMap<>();
    private final Set<DecoderConfig> warmedUp = new HashSet<>();

    /** With a new engine whose CPU device is calibrated now (well under a second). */
    public WorkloadProfiler() {
        this(Engine.builder().build());
    }

    /**
     * @param engine runs the workloads' pipelines; its profile is reset by every {@link #profile} call
     */
    public WorkloadProfiler(Engine engine) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.cpu = engine.cpu().backend();
        // a retrieval workload's decoder attends its prompt through an engine of its own: not the pipeline's work
        this.decoderEngine = Engine.builder().cpu(engine.cpu())
                .energyMeter(EnergyMeter.unavailable("the decoder's own attention is not profiled")).maxRecords(0)
                .build();
    }

    /** {@link #profile(Workload, long, DecoderConfig, Options)} with {@link Options#DEFAULT}. */
    public WorkloadProfile profile(Workload workload, long context, DecoderConfig config) {
        return profile(workload, context, config, Options.DEFAULT);
    }

    /**
     * Profiles {@code workload} with a context of {@code context} tokens (attention workloads) or memory
     * entries (retrieval workloads).
     */
    public WorkloadProfile profile(Workload workload, long context, DecoderConfig config, Options options) {
        return profile(workload, context, config, options, phase -> { });
    }

    /**
     * Profiles {@code workload} at each of {@code contexts}, measuring the largest context first; returns the
     * profiles in the order of {@code contexts}.
     *
     * <p>Why largest first: HotSpot compiles a method only once its calls and loop iterations pass the tiered
     * thresholds (JDK 25's defaults: C1 after 200 calls, or 100 calls and 2000 calls plus iterations, or 60000
     * iterations of one loop; C2 after 5000 calls, or 600 calls and 15000, or 40000 iterations; all raised while the
     * compile queues are long), and a kernel's loops run once per page or row, so a decode step at 4k gives it a
     * sixteenth of the iterations one at 64k does. A small context measured first could end its warm-up with a
     * kernel never queued for compilation: interpreted, at a steady speed, with the JIT idle, which the settle and
     * JIT-quiet rules both accept (measured: Quest's bound kernel, {@code questBoundF32}, was not compiled at all
     * after the kernel warm-up and the 4k run's 20 warm-up steps, and its relevancy step took 0.85 to 1.5 ms there
     * against 60 to 90 us once compiled). At the largest context the same kernels pass the thresholds within the
     * run's first steps, the JIT-quiet rule waits for their compilation, and the smaller contexts then run compiled
     * code. When every context asked for is below
     * {@value #REHEARSAL_CONTEXT}, a run at that context, unmeasured, plays the largest one's part (only with
     * {@link Options#warmUpKernels()}; reported to {@code phases} as {@value #PHASE_WARM_UP} of the first context).
     *
     * @param contexts context sizes, each as in {@link #profile(Workload, long, DecoderConfig, Options)}; not empty
     * @param phases   told the context and the phase ({@link #profile(Workload, long, DecoderConfig, Options,
     *                 Consumer)}) of what is running
     */
    public List<WorkloadProfile> profile(Workload workload, List<Long> contexts, DecoderConfig config, Options options,
                                         BiConsumer<Long, String> phases) {
        Objects.requireNonNull(workload, "workload");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(phases, "phases");
        List<Integer> order = measurementOrder(contexts);
        contexts.forEach(WorkloadProfiler::checkContext); // all of them before any work
        long largest = contexts.get(order.getFirst());
        if (needsRehearsal(largest, options)) {
            phases.accept(largest, PHASE_WARM_UP);
            profile(workload, REHEARSAL_CONTEXT, config, options, phase -> { });
        }
        WorkloadProfile[] profiles = new WorkloadProfile[contexts.size()];
        for (int i : order) {
            long context = contexts.get(i);
            profiles[i] = profile(workload, context, config, options, phase -> phases.accept(context, phase));
        }
        return List.of(profiles);
    }

    /** Whether a profile whose largest context is {@code largest} first runs unmeasured at the rehearsal context. */
    static boolean needsRehearsal(long largest, Options options) {
        return options.warmUpKernels() && largest < REHEARSAL_CONTEXT;
    }

    /** Positions of {@code contexts} from the largest context to the smallest; equal ones in the order given. */
    static List<Integer> measurementOrder(List<Long> contexts) {
        Objects.requireNonNull(contexts, "contexts");
        if (contexts.isEmpty()) {
            throw new IllegalArgumentException("contexts must not be empty");
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < contexts.size(); i++) {
            Objects.requireNonNull(contexts.get(i), "contexts[" + i + "]");
            order.add(i);
        }
        order.sort(Comparator.comparing((Integer i) -> contexts.get(i)).reversed());
        return order;
    }

    private static void checkContext(long context) {
        if (context < 1 || context > Integer.MAX_VALUE - 1024) {
            throw new IllegalArgumentException("context must be in [1, " + (Integer.MAX_VALUE - 1024) + "], got "
                    + context);
        }
    }

    /**
     * {@link #profile(Workload, long, DecoderConfig, Options)}, telling {@code phases} what it is doing:
     * {@value #PHASE_WARM_UP}, {@value #PHASE_PREPARE}, {@value #PHASE_ACCURACY}, {@value #PHASE_DECODE}.
     */
    public WorkloadProfile profile(Workload workload, long context, DecoderConfig config, Options options,
                                   Consumer<String> phases) {
        Objects.requireNonNull(workload, "workload");
        Objects.requireNonNull(phases, "phases");
        Objects.requireNonNull(options, "options");
        checkContext(context);
        DecoderModel model = models.computeIfAbsent(Objects.requireNonNull(config, "config"),
                c -> new DecoderModel(c, modelArena, cpu));
        if (options.warmUpKernels() && warmedUp.add(config)) {
            phases.accept(PHASE_WARM_UP);
            Options brief = options.withSteps(0, KERNEL_WARM_UP_STEPS).withKernelWarmUp(false)
                    .withRagPromptTokens(KERNEL_WARM_UP_CONTEXT);
            for (Workload w : Workload.values()) {
                profile(w, KERNEL_WARM_UP_CONTEXT, config, brief);
            }
        }
        try (Arena arena = Arena.ofShared()) {
            return switch (workload.kind()) {
                case ATTENTION -> profileAttention(workload, context, model, options, arena, phases);
                case RETRIEVAL -> profileRetrieval(workload, context, model, options, arena, phases);
                case GENERATION -> new GenerationProfiler(engine, cpu).profile(workload, context, model, options, arena,
                        phases);
            };
        }
    }

    private WorkloadProfile profileAttention(Workload workload, long context, DecoderModel model, Options options,
                                             Arena arena, Consumer<String> phases) {
        DecoderConfig config = model.config();
        int steps = maxWarmUpSteps(options) + options.measuredSteps();
        try (LayeredAttention attention = WorkloadAttention.create(workload, engine, arena, config, context + steps,
                options.kvStorage(), options.settingsFor(config))) {
            return profileAttention(workload, context, model, options, arena, phases, attention);
        }
    }

    private WorkloadProfile profileAttention(Workload workload, long context, DecoderModel model, Options options,
                                             Arena arena, Consumer<String> phases, LayeredAttention attention) {
        DecoderConfig config = model.config();
        AttentionShape shape = config.attentionShape();

        // Setup: every layer's memory filled to the context, structure planted for that layer's probe query
        phases.accept(PHASE_PREPARE);
        engine.resetProfile();
        long setupStart = System.nanoTime();
        Tensor[] probes = new Tensor[config.layers()];
        for (int l = 0; l < config.layers(); l++) {
            long layerSeed = SeededFill.derive(options.seed(), l);
            probes[l] = SyntheticKv.probeQuery(arena, shape, layerSeed);
            KvPipeline<?> layer = attention.layer(l);
            new SyntheticKv(shape, probes[l], context, options.structure(), layerSeed)
                    .fill(arena, FILL_CHUNK_ROWS, layer::prepare);
        }
        double setupSeconds = (System.nanoTime() - setupStart) / 1e9;
        ProfileReport setup = engine.report();

        AttentionAccuracy accuracy = null;
        if (workload.isSparseAttention()) {
            phases.accept(PHASE_ACCURACY);
            List<AttentionAccuracy> perLayer = new ArrayList<>();
            for (int l = 0; l < config.layers(); l++) {
                perLayer.add(accuracy(attention.layer(l), probes[l]));
            }
            accuracy = AttentionAccuracy.mean(perLayer);
        }

        SplittableRandom tokens = new SplittableRandom(options.seed());
        phases.accept(PHASE_DECODE);
        return measure(workload, context, model, options, setupSeconds, setup, accuracy,
                step -> model.decodeStep(tokens.nextInt(config.vocab()), Math.toIntExact(context + step), attention));
    }

    private WorkloadProfile profileRetrieval(Workload workload, long context, DecoderModel model, Options options,
                                             Arena arena, Consumer<String> phases) {
        DecoderConfig config = model.config();
        int steps = maxWarmUpSteps(options) + options.measuredSteps();
        // the decoder reads a prompt of fixed length with dense attention, outside the pipeline's profile
        phases.accept(PHASE_PREPARE);
        // every memory made here is closed before returning (their device copies); the arena frees the host memory
        try (LayeredAttention promptAttention = WorkloadAttention.create(Workload.DENSE, decoderEngine, arena, config,
                options.ragPromptTokens() + steps, options.kvStorage(), options.settingsFor(config));
             OwnedMemories opened = new OwnedMemories()) {
            return profileRetrieval(workload, context, model, options, arena, phases, promptAttention, opened);
        }
    }

    private WorkloadProfile profileRetrieval(Workload workload, long context, DecoderModel model, Options options,
                                             Arena arena, Consumer<String> phases, LayeredAttention promptAttention,
                                             OwnedMemories opened) {
        DecoderConfig config = model.config();
        WorkloadSettings settings = options.settingsFor(config);
        int entries = Math.toIntExact(context);
        int hidden = config.hidden();
        int prompt = options.ragPromptTokens();
        AttentionShape shape = config.attentionShape();
        for (int l = 0; l < config.layers(); l++) {
            long layerSeed = SeededFill.derive(options.seed(), l);
            new SyntheticKv(shape, SyntheticKv.probeQuery(arena, shape, layerSeed), prompt, options.structure(),
                    layerSeed).fill(arena, FILL_CHUNK_ROWS, promptAttention.layer(l)::prepare);
        }

        // Setup: the workload's memory, built to `context` entries
        engine.resetProfile();
        long setupStart = System.nanoTime();
        Tensor query = Tensor.allocate(arena, ElementType.F32, 1, hidden);
        long querySeed = SeededFill.derive(options.seed(), 99);
        List<WorkloadFigure> figures = new ArrayList<>();
        Runnable retrieve = switch (workload) {
            case BM25 -> {
                Bm25Memory memory = opened.add(new Bm25Memory(arena, engine, entries,
                        Math.multiplyExact(entries, SyntheticCorpus.MAX_DOCUMENT_TOKENS)));
                Bm25Pipeline pipeline = new Bm25Pipeline(engine, memory, settings.bm25(), arena);
                pipeline.prepareTokens(SyntheticCorpus.documents(options.seed(), 0, entries));
                long[] step = {0};
                yield () -> pipeline.step(SyntheticCorpus.query(options.seed(), step[0]++));
            }
            case DENSE_RAG -> {
                EmbeddingMemory memory = opened.add(new EmbeddingMemory(arena, engine, hidden, entries));
                DenseRagPipeline pipeline = new DenseRagPipeline(engine, memory, settings.denseRag(), arena);
                fillVectors(arena, entries, hidden, options.seed(), (chunk, first) -> {
                    List<String> texts = new ArrayList<>();
                    for (long i = first; i < first + chunk.rows(); i++) {
                        texts.add("chunk " + i);
                    }
                    pipeline.prepare(new DenseRagPipeline.Chunks(chunk, texts));
                });
                yield () -> pipeline.step(query);
            }
            case HMT -> {
                CompressedMemory memory = opened.add(new CompressedMemory(arena, engine, hidden, entries));
                HmtPipeline pipeline = new HmtPipeline(engine, memory, settings.hmt(), arena);
                fillVectors(arena, entries, hidden, options.seed(), (chunk, first) -> pipeline.prepare(chunk));
                yield () -> pipeline.step(query);
            }
            case TITANS, LACT -> {
                ParametricWorkload parametric = ParametricWorkload.create(workload, engine, arena, hidden, context,
                        options.seed(), query);
                figures.addAll(parametric.figures);
                yield parametric.step;
            }
            default -> throw new IllegalArgumentException(workload + " is not a retrieval workload");
        };
        double setupSeconds = (System.nanoTime() - setupStart) / 1e9;
        ProfileReport setup = engine.report();

        SplittableRandom tokens = new SplittableRandom(options.seed());
        long[] queryStep = {0};
        phases.accept(PHASE_DECODE);
        return measure(workload, context, model, options, setupSeconds, setup, null, step -> {
            SeededFill.uniform(query, SeededFill.derive(querySeed, queryStep[0]++), 1f);
            retrieve.run();
            model.decodeStep(tokens.nextInt(config.vocab()), Math.toIntExact(prompt + step), promptAttention);
        }).withFigures(figures);
    }

    /** Warm-up, then measured steps; the pipeline's share from the engine's profile of the measured steps. */
    private WorkloadProfile measure(Workload workload, long context, DecoderModel model, Options options,
                                    double setupSeconds, ProfileReport setup, AttentionAccuracy accuracy,
                                    LongConsumer decodeStep) {
        long step = 0;
        int maxWarmUp = maxWarmUpSteps(options);
        long[] warmUpNanos = new long[maxWarmUp];
        long[] compileMillis = new long[maxWarmUp];
        long warmUpStart = System.nanoTime();
        int warmUpSteps = 0;
        while (warmUpSteps < maxWarmUp && System.nanoTime() - warmUpStart < MAX_WARM_UP_NANOS
                && !(warmUpSteps >= options.warmupSteps() && System.nanoTime() - warmUpStart >= MIN_WARM_UP_NANOS
                && settled(warmUpNanos, warmUpSteps) && jitQuiet(compileMillis, warmUpSteps))) {
            long start = System.nanoTime();
            decodeStep.accept(step++);
            warmUpNanos[warmUpSteps] = System.nanoTime() - start;
            compileMillis[warmUpSteps++] = JitClock.compileMillis();
        }
        engine.resetProfile();
        model.work().reset();
        long wall = 0;
        for (int i = 0; i < options.measuredSteps(); i++) {
            long start = System.nanoTime();
            decodeStep.accept(step++);
            wall += System.nanoTime() - start;
        }
        ProfileReport measured = engine.report();
        int n = options.measuredSteps();
        double stepSeconds = wall / 1e9 / n;
        double memorySeconds = measured.total().wallNanos() / 1e9 / n;
        return new WorkloadProfile(workload, context, model.config(), n, stepSeconds, memorySeconds,
                Math.max(0, stepSeconds - memorySeconds), setupSeconds, measured, setup, model.work().ops(), accuracy,
                warmUpSteps);
    }

    /** Decode steps a run may warm up with: none when it asks for none (tests), else up to the cap. */
    static int maxWarmUpSteps(Options options) {
        return options.warmupSteps() == 0 ? 0 : Math.max(options.warmupSteps(), MAX_WARM_UP_STEPS);
    }

    /** Whether the JIT's total compilation time stayed the same over the last {@link #WARM_UP_WINDOW} steps. */
    static boolean jitQuiet(long[] compileMillis, int n) {
        return n > WARM_UP_WINDOW && compileMillis[n - 1] == compileMillis[n - 1 - WARM_UP_WINDOW];
    }

    /** Whether the last two windows of {@code n} step times have medians within {@link #WARM_UP_AGREEMENT}. */
    static boolean settled(long[] nanos, int n) {
        if (n < 2 * WARM_UP_WINDOW) {
            return false;
        }
        double last = median(nanos, n - WARM_UP_WINDOW, n);
        double before = median(nanos, n - 2 * WARM_UP_WINDOW, n - WARM_UP_WINDOW);
        return Math.abs(last - before) <= WARM_UP_AGREEMENT * before;
    }

    private static double median(long[] nanos, int from, int to) {
        long[] window = java.util.Arrays.copyOfRange(nanos, from, to);
        java.util.Arrays.sort(window);
        return window[window.length / 2];
    }

    /** The selection and output of one layer's pipeline for its probe query, against dense attention. */
    private <S> AttentionAccuracy accuracy(KvPipeline<S> layer, Tensor probe) {
        TokenSelection selection = layer.retrieve(layer.relevancy(probe));
        Tensor output = layer.apply(probe, selection);
        return AttentionAccuracy.measure(cpu, layer.shape(), probe, layer.kv().keys(), layer.kv().values(), selection,
                output);
    }

    /** Hands seeded random vectors {@code [entries, d]} to {@code sink} in chunks, with each chunk's first id. */
    private static void fillVectors(Arena arena, int entries, int d, long seed, ChunkSink sink) {
        int rows = Math.min(FILL_CHUNK_ROWS, entries);
        Tensor chunk = Tensor.allocate(arena, ElementType.F32, rows, d);
        for (int first = 0; first < entries; first += rows) {
            Tensor part = chunk.rowSlice(0, Math.min(rows, entries - first));
            for (long r = 0; r < part.rows(); r++) {
                SeededFill.uniform(part.rowSlice(r, r + 1), SeededFill.derive(seed, first + r), 1f);
            }
            sink.accept(part, first);
        }
    }

    @FunctionalInterface
    private interface ChunkSink {
        void accept(Tensor chunk, long first);
    }

    /** Frees the models' weights. */
    @Override
    public void close() {
        models.clear();
        modelArena.close();
    }
}
