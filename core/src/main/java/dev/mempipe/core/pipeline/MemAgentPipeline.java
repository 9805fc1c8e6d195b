package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;

import java.util.Arrays;
import java.util.Objects;

/**
 * MemAgent (Yu et al., 2025, "MemAgent: Reshaping Long-Context LLM with Multi-Conv RL-based Memory Agent"): a long
 * input is read chunk by chunk; after each chunk the model rewrites a fixed-length text memory by generating it,
 * and the memory plus the next chunk is the next context. The context never holds more than
 * {@code memory + chunk + memory} tokens however long the input.
 *
 * <ol>
 *   <li><b>Prepare</b>: the memory rewrite: {@code memoryTokens} tokens decoded greedily after the memory and the
 *       chunk ({@value #REWRITE}); generation, compute-bound on a small model's weights.</li>
 *   <li><b>Relevancy</b>: none. The memory is not searched: the model reads all of it.</li>
 *   <li><b>Retrieval</b>: none (all of the memory).</li>
 *   <li><b>Apply</b>: the memory is prefilled as the start of the next context ({@value #MEMORY_PREFILL}), before the
 *       next chunk or the question.</li>
 * </ol>
 * Reading the chunk itself (its prefill) is the model's own work, outside the four steps. Deviation: no
 * instruction template surrounds the memory and the chunk; the model reads their tokens only.
 *
 * <p>Not thread-safe: one thread drives a pipeline and its model.
 */
public final class MemAgentPipeline implements Pipeline<int[], int[], int[], int[], Tensor> {
    /** The profile label of the memory rewrite (Prepare). */
    public static final String REWRITE = "memoryRewrite";
    /** The profile label of the memory's prefill (Apply). */
    public static final String MEMORY_PREFILL = "memoryPrefill";

    /**
     * @param chunkTokens  tokens of input per chunk, {@code >= 1}
     * @param memoryTokens tokens of the rewritten memory, {@code >= 1}
     */
    public record Settings(int chunkTokens, int memoryTokens) {
        /** The paper's: chunks of 5000 tokens, a memory of 1024. */
        public static final Settings DEFAULT = new Settings(5000, 1024);

        public Settings {
            KvPipelines.positive("chunkTokens", chunkTokens);
            KvPipelines.positive("memoryTokens", memoryTokens);
        }

        /** Positions a model needs: memory, a chunk, and the memory being written. */
        public int contextNeeded() {
            return Math.addExact(Math.addExact(chunkTokens, memoryTokens), memoryTokens);
        }
    }

    private final Engine engine;
    private final LanguageModel model;
    private final Settings settings;
    private int[] memory = new int[0];
    private Tensor pending;          // logits after the chunk just read, until the rewrite
    private long chunksRead;

    /** @throws IllegalArgumentException when the model's context cannot hold memory, chunk and new memory */
    public MemAgentPipeline(Engine engine, LanguageModel model, Settings settings) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.model = Objects.requireNonNull(model, "model");
        this.settings = Objects.requireNonNull(settings, "settings");
        if (model.capacity() < settings.contextNeeded()) {
            throw new IllegalArgumentException("the model's context of " + model.capacity() + " tokens cannot hold "
                    + "a memory, a chunk and the rewritten memory: " + settings.contextNeeded() + " are needed");
        }
    }

    /** Reads {@code input} chunk by chunk ({@link #readChunk}); the memory holds what the model kept. */
    public void read(int[] input) {
        for (int from = 0; from < input.length; from += settings.chunkTokens()) {
            readChunk(Arrays.copyOfRange(input, from, Math.min(input.length, from + settings.chunkTokens())));
        }
    }

    /** One MemAgent step: a fresh context of the memory (Apply) and the chunk, then the rewrite (Prepare). */
    public void readChunk(int[] chunk) {
        Objects.requireNonNull(chunk, "chunk");
        if (chunk.length == 0 || chunk.length > settings.chunkTokens()) {
            throw new IllegalArgumentException("a chunk holds 1 to " + settings.chunkTokens() + " tokens, got "
                    + chunk.length);
        }
        model.truncate(0);
        applyMemory();
        pending = model.prefill(chunk);
        prepare(chunk);
    }

    // ---- Prepare: the memory rewrite ----

    /** Rewrites the memory after the context (memory and {@code chunk}) the model holds now. */
    @Override
    public void prepare(int[] chunk) {
        if (pending == null) {
            throw new IllegalStateException("no chunk was read: use readChunk, which prefills the memory and the chunk "
                    + "before the rewrite");
        }
        int n = settings.memoryTokens();
        // the rewrite runs on the model's own backend: the engine times and records it as Prepare
        memory = engine.run(Step.PREPARE, REWRITE, model.decodeCost(n), b -> generate(n));
        pending = null;
        chunksRead++;
    }

    // ---- Relevancy and Retrieval: none, the whole memory is read ----

    /** The memory tokens: MemAgent scores nothing. */
    @Override
    public int[] relevancy(int[] question) {
        return memory.clone();
    }

    @Override
    public int[] retrieve(int[] memoryTokens) {
        return memoryTokens;
    }

    // ---- Apply: the memory at the start of a fresh context, then the question ----

    /** A fresh context of the memory and {@code question}; returns the logits that start the answer. */
    @Override
    public Tensor apply(int[] question, int[] memoryTokens) {
        Objects.requireNonNull(question, "question");
        model.truncate(0);
        applyMemory();
        if (question.length == 0) {
            throw new IllegalArgumentException("the question must hold at least one token");
        }
        return model.prefill(question);
    }

    /** The memory now, as token ids (empty before the first chunk). */
    public int[] memory() {
        return memory.clone();
    }

    public long chunksRead() {
        return chunksRead;
    }

    public Settings settings() {
        return settings;
    }

    private void applyMemory() {
        if (memory.length == 0) {
            return;
        }
        int[] m = memory;
        engine.runVoid(Step.APPLY, MEMORY_PREFILL, model.prefillCost(m.length), b -> model.prefill(m));
    }

    /** Greedy decoding of n tokens after the chunk's logits; the context is left holding them. */
    private int[] generate(int n) {
        Tensor logits = pending;
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = Generation.argmax(logits);
            logits = model.next(out[i]);
        }
        return out;
    }
}
