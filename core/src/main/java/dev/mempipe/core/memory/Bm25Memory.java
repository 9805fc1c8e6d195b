package dev.mempipe.core.memory;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.PinnedBm25Index;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * Documents for lexical RAG: each a list of term ids, stored off-heap in the {@code bm25Index} input form
 * ({@code offsets [N+1]}, {@code tokens []}), with the BM25 index over them. The index is rebuilt lazily:
 * {@link #index()} builds it with {@code bm25Index} the first time it is asked for after documents were appended,
 * and reuses it until the next append. Text goes through the memory's {@link SimpleTokenizer}
 * ({@link #appendText}, {@link #search(String, int)}).
 *
 * <p>Ops: every op runs through the {@link Engine}, on the backend it hands the step: {@code bm25Index} (Prepare),
 * {@code bm25Score} (Relevancy, over the index pinned on the Relevancy step's device) and {@code topK} (Retrieval),
 * each placed by the plan, recorded, and rerun on the CPU after a device fault. Appending a document is host work
 * (a copy of its term ids) and no op.
 *
 * <p>Capacities (documents and total tokens) are fixed at construction.
 *
 * <p>Thread-safety: single writer, many readers. {@link #append} writes a document's tokens and offset, then
 * publishes the new count with a volatile store; readers see whole documents only. {@link #index()} returns
 * an index of at least the documents published when it was called; concurrent callers share one rebuild.
 * Appends are {@code synchronized}; the tokenizer is thread-safe.
 */
public final class Bm25Memory implements AutoCloseable {
    private final Engine engine;
    private final int maxDocuments;
    private final int maxTokens;
    private final Indices offsets; // [maxDocuments + 1]; document i holds tokens [offsets[i], offsets[i+1])
    private final Indices tokens;  // [maxTokens]
    private final SimpleTokenizer tokenizer;
    private final Object rebuildLock = new Object();
    private volatile int documents;
    private volatile BuiltIndex built = null;
    private PinnedBm25Index pinned; // the index a device holds, guarded by rebuildLock

    private record BuiltIndex(int documents, Bm25Index index) {
    }

    /** With a new tokenizer of its own. */
    public Bm25Memory(Arena arena, Engine engine, int maxDocuments, int maxTokens) {
        this(arena, engine, maxDocuments, maxTokens, new SimpleTokenizer());
    }

    /**
     * @param engine       runs the memory's ops
     * @param maxDocuments documents the memory can hold, {@code >= 1}
     * @param maxTokens    total term ids over all documents, {@code >= 1}
     * @param tokenizer    used for text; may be shared with other memories
     */
    public Bm25Memory(Arena arena, Engine engine, int maxDocuments, int maxTokens, SimpleTokenizer tokenizer) {
        MemoryArgs.arena(arena);
        this.engine = Objects.requireNonNull(engine, "engine");
        this.maxDocuments = MemoryArgs.positive("maxDocuments", maxDocuments);
        this.maxTokens = MemoryArgs.positive("maxTokens", maxTokens);
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        if (maxDocuments == Integer.MAX_VALUE) {
            throw new IllegalArgumentException("maxDocuments must be < " + Integer.MAX_VALUE + " (offsets need N+1)");
        }
        MemoryBudget.claim(arena, ((long) maxDocuments + 1 + maxTokens) * Integer.BYTES,
                "Bm25Memory of " + maxDocuments + " documents");
        this.offsets = Indices.allocate(arena, maxDocuments + 1); // zeroed, so offsets[0] == 0
        this.tokens = Indices.allocate(arena, maxTokens);
    }

    /**
     * Appends one document.
     *
     * @param termIds the document's term ids, each {@code >= 0}; may be empty
     * @return the document's id (0 for the first)
     * @throws IllegalArgumentException naming the position of a negative term id
     * @throws IllegalStateException    when the document or its tokens do not fit
     */
    public synchronized int append(int[] termIds) {
        Objects.requireNonNull(termIds, "termIds");
        for (int i = 0; i < termIds.length; i++) {
            if (termIds[i] < 0) {
                throw new IllegalArgumentException("termIds[" + i + "] is " + termIds[i] + "; term ids must be >= 0");
            }
        }
        int doc = documents;
        int used = offsets.get(doc);
        MemoryArgs.room("Bm25Memory", maxDocuments, doc, 1, "documents");
        MemoryArgs.room("Bm25Memory", maxTokens, used, termIds.length, "tokens");
        MemorySegment.copy(termIds, 0, tokens.data(), ValueLayout.JAVA_INT_UNALIGNED, (long) used * Integer.BYTES,
                termIds.length);
        offsets.set(doc + 1, used + termIds.length);
        documents = doc + 1; // publish: readers that see the count see the tokens and offset above
        return doc;
    }

    /** Tokenizes {@code text} (growing the vocabulary) and appends it; returns the document id. */
    public int appendText(String text) {
        return append(tokenizer.tokenize(text));
    }

    /**
     * The BM25 index over the published documents, rebuilt only when documents were appended since (one Prepare
     * step of the engine, {@code bm25Index}).
     */
    public Bm25Index index() {
        int n = documents;
        BuiltIndex current = built;
        if (current != null && current.documents() >= n) {
            return current.index();
        }
        synchronized (rebuildLock) {
            current = built;
            if (current != null && current.documents() >= n) {
                return current.index(); // another reader rebuilt it meanwhile
            }
            int count = documents; // at least n: index everything published by now
            Indices docOffsets = offsets.prefix(count + 1);
            Indices docTokens = tokens.prefix(offsets.get(count));
            // the cost is an estimate made before the build: the input once, at most one posting per token out
            OpCost estimate = new OpCost(4L * (count + 1 + docTokens.length()), 4L * count + 8L * docTokens.length(), 0);
            Bm25Index index = engine.run(Op.BM25_INDEX, estimate, b -> b.prepare().bm25Index(docOffsets, docTokens));
            built = new BuiltIndex(count, index);
            return index;
        }
    }

    /**
     * {@link #index()} as held by {@code backend}: pinned there on first use and again after each rebuild (the old
     * pin closed), so a device scores its own copy. On the CPU the pin is the identity.
     */
    public Bm25Index indexOn(Backend backend) {
        Objects.requireNonNull(backend, "backend");
        Bm25Index index = index();
        synchronized (rebuildLock) {
            PinnedBm25Index p = pinned;
            if (p == null || p.index() != index || p.backend() != backend || !p.isOpen()) {
                pinned = backend.pin(index);
                if (p != null) {
                    p.close();
                }
            }
            return pinned.index();
        }
    }

    /** Frees the device copy of the index, if any. */
    @Override
    public void close() {
        synchronized (rebuildLock) {
            if (pinned != null) {
                pinned.close();
                pinned = null;
            }
        }
    }

    /**
     * The BM25 score of every document of {@link #index()} against {@code queryTerms}.
     *
     * @return scores {@code [N]}, document order
     */
    public float[] scores(int[] queryTerms, Bm25Params params) {
        try (Arena scratch = Scratch.open(engine)) {
            return score(queryTerms, params, scratch).toFloatArray();
        }
    }

    /**
     * The k best documents for {@code queryTerms}; ids are document ids, scores BM25 scores (ties: lower id
     * first).
     */
    public Hits search(int[] queryTerms, int k, Bm25Params params) {
        MemoryArgs.k(k);
        if (index().numDocs() == 0) {
            return Hits.empty();
        }
        try (Arena scratch = Scratch.open(engine)) {
            return TopHits.of(engine, score(queryTerms, params, scratch), k, 0, scratch);
        }
    }

    /** {@code bm25Score} over the index as the Relevancy step's device holds it; scores {@code [1, N]} in scratch. */
    private Tensor score(int[] queryTerms, Bm25Params params, Arena scratch) {
        Objects.requireNonNull(queryTerms, "queryTerms");
        Objects.requireNonNull(params, "params");
        Bm25Index index = indexOn(engine.backendFor(Step.RELEVANCY));
        Tensor s = Tensor.allocate(scratch, ElementType.F32, 1, index.numDocs());
        Indices query = Indices.of(scratch, queryTerms);
        engine.runVoid(Op.BM25_SCORE, OpCosts.bm25Score(query, index, ElementType.F32),
                b -> b.relevancy().bm25Score(query, index, params, s));
        return s;
    }

    /** {@link #search(int[], int, Bm25Params)} for text, with {@link Bm25Params#DEFAULT}; unknown words are dropped. */
    public Hits search(String query, int k) {
        return search(tokenizer.lookup(query), k, Bm25Params.DEFAULT);
    }

    /** The term ids of document {@code doc}. */
    public int[] document(int doc) {
        int n = documents;
        if (doc < 0 || doc >= n) {
            throw new IllegalArgumentException("doc must be in [0, " + n + "), got " + doc);
        }
        return tokens.slice(offsets.get(doc), offsets.get(doc + 1)).toArray();
    }

    /** Documents held (the published count). */
    public int documentCount() {
        return documents;
    }

    /** Term ids held over all published documents. */
    public int tokenCount() {
        return offsets.get(documents);
    }

    /** {@code offsets [N+1]} of the published documents (the {@code bm25Index} input form). */
    public Indices offsets() {
        int n = documents;
        return offsets.prefix(n + 1);
    }

    /** {@code tokens} of the published documents. */
    public Indices tokens() {
        int n = documents;
        return tokens.prefix(offsets.get(n));
    }

    public SimpleTokenizer tokenizer() {
        return tokenizer;
    }

    public int maxDocuments() {
        return maxDocuments;
    }

    public int maxTokens() {
        return maxTokens;
    }
}
