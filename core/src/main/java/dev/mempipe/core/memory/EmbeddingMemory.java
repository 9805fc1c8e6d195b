package dev.mempipe.core.memory;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;
import org.apache.lucene.util.Bits;

import java.lang.foreign.Arena;
import java.util.Objects;

/**
 * Embeddings for dense RAG: {@link EmbeddingRows} of {@code [capacity, d]} in the caller's arena, stored as F32 (or
 * F16, BF16, or I8/I16 with a row scale) with one inverse norm per row, the representation the LangChain4j store
 * uses too. Row i is id i. Rows are kept as given (converted to the storage type), not normalized: cosines come
 * from the inverse norms (see {@link EmbeddingRows} for the rule).
 *
 * <p>Every op runs through the {@link Engine}: appends ({@code convert} and the norms), the exact search
 * (one fused {@code dotTopK}, {@link EmbeddingScan}), the graph build and walk. The rows are pinned on the
 * device the engine's plan chooses for the Relevancy step and refreshed after each append; {@link #close()} frees
 * the device copy (the host copy stays authoritative throughout).
 *
 * <p>Two searches, both returning {@link Hits} of ids and cosine scores, best first:
 * <ul>
 *   <li>{@link #search}: exact; {@code dotTopK} of the unit query over every row with the inverse norms as
 *       weights (ties: lower id first).</li>
 *   <li>{@link #searchApproximate}: Lucene HNSW ({@link HnswIndex}, {@link HnswSettings}). The graph is built by
 *       {@link #buildGraph} (a memory that is only searched exactly never pays for one) and from then on extended by
 *       each append (on every core for a large batch, see {@link HnswSettings#buildThreads()}): a search never
 *       builds, and answers exactly while rows are not in the graph. Its recall against the exact search is what
 *       the tests measure.</li>
 * </ul>
 *
 * <p>Thread-safety: single writer, many readers. {@link #append} writes rows, then publishes the new length
 * with a volatile store; exact searches and {@link #vectors()} read the published prefix without locking,
 * and later appends never write it. Approximate searches run in parallel with one another; one that overlaps
 * an append's graph extension is answered by the exact search instead of waiting for it. Appends and
 * {@link #close()} are {@code synchronized}.
 */
public final class EmbeddingMemory implements AutoCloseable {
    private final Engine engine;
    private final int capacity;
    private final EmbeddingRows rows;
    private final HnswIndex hnsw;
    private volatile boolean graphWanted; // buildGraph was called: appends extend the graph

    /** F32 storage, default HNSW settings. */
    public EmbeddingMemory(Arena arena, Engine engine, int dimension, int capacity) {
        this(arena, engine, dimension, capacity, ElementType.F32, HnswSettings.DEFAULT);
    }

    /**
     * @param engine    runs every op and chooses the device the rows are pinned on (the Relevancy step's)
     * @param dimension d {@code >= 1}
     * @param capacity  vectors, {@code >= 1}
     * @param storage   element type of the stored vectors
     * @param hnsw      parameters of the approximate search
     */
    public EmbeddingMemory(Arena arena, Engine engine, int dimension, int capacity, ElementType storage,
                           HnswSettings hnsw) {
        MemoryArgs.arena(arena);
        this.engine = Objects.requireNonNull(engine, "engine");
        MemoryArgs.positive("dimension", dimension);
        this.capacity = MemoryArgs.positive("capacity", capacity);
        Objects.requireNonNull(storage, "storage");
        this.rows = EmbeddingRows.fixed(engine, arena, storage, dimension, capacity);
        this.hnsw = new HnswIndex(rows, Objects.requireNonNull(hnsw, "hnsw"));
    }

    /**
     * Appends n vectors, converted to the storage type, with their inverse norms (one engine step), and, once
     * {@link #buildGraph} has been called, inserts them into the HNSW graph (a second step).
     *
     * @param newVectors {@code [n, d]}, any element type
     * @return the id of the first appended vector (the others follow in order)
     * @throws IllegalArgumentException when the shape is wrong
     * @throws IllegalStateException    when n more vectors do not fit the capacity
     */
    public synchronized int append(Tensor newVectors) {
        MemoryArgs.rowsOf("vectors", newVectors, rows.dimension(), "d");
        int from = rows.rows();
        MemoryArgs.room("EmbeddingMemory", capacity, from, newVectors.rows(), "vectors");
        rows.append(newVectors);
        if (graphWanted) {
            extendGraph();
        }
        return from;
    }

    /**
     * The k rows of highest cosine with {@code query}, exactly.
     *
     * @param query {@code [1, d]}, any element type; need not be normalized
     */
    public Hits search(Tensor query, int k) {
        MemoryArgs.vectorOf("query", query, rows.dimension());
        MemoryArgs.k(k);
        if (rows.rows() == 0) {
            return Hits.empty();
        }
        return EmbeddingScan.search(engine, rows, new float[][] {query.toFloatArray()}, new int[] {k},
                new Bits[1]).getFirst();
    }

    /**
     * The k rows of highest cosine with {@code query} as the HNSW graph finds them (approximate: a true
     * neighbour may be missed), one Retrieval step ({@code ann}). Scores are the cosines of the rows returned.
     * Should the graph walk reach fewer than {@code min(k, length)} rows, or the search overlap an append's graph
     * extension, the answer is the exact {@link #search}'s.
     *
     * @param query {@code [1, d]}, any element type; need not be normalized
     */
    public Hits searchApproximate(Tensor query, int k) {
        MemoryArgs.vectorOf("query", query, rows.dimension());
        MemoryArgs.k(k);
        float[] q = query.toFloatArray();
        int n = rows.rows();
        Hits hits = engine.run(Step.RETRIEVAL, "ann",
                hnsw.searchCost(1, n, storage(), hnsw.settings().searchBeamWidth(), k),
                b -> hnsw.search(b, q, k));
        return hits != null ? hits : search(query, k);
    }

    /**
     * Builds the HNSW graph over the rows appended so far (one Prepare step), and has every later {@link #append}
     * extend it; a second call only adds rows an append's extension left out (after a failure).
     */
    public synchronized void buildGraph() {
        graphWanted = true;
        extendGraph();
    }

    private void extendGraph() {
        int n = rows.rows();
        if (n > hnsw.nodes()) {
            engine.runVoid(Step.PREPARE, "hnswBuild", buildCost(n), hnsw::extend);
        }
    }

    /** The stored vectors {@code [length, d]}, as given (converted to the storage type), carrying the pin. */
    public Tensor vectors() {
        return rows.vectors(0, rows.rows());
    }

    /** {@code 1 / ||row||} of stored row {@code id} (0 for a zero row): a cosine is {@code dot * inverseNorm}. */
    public float inverseNorm(int id) {
        if (id < 0 || id >= rows.rows()) {
            throw new IndexOutOfBoundsException("id " + id + " of " + rows.rows());
        }
        return rows.inverseNorm(id);
    }

    /** Vectors held (the published length). */
    public int length() {
        return rows.rows();
    }

    public int capacity() {
        return capacity;
    }

    public int dimension() {
        return rows.dimension();
    }

    public ElementType storage() {
        return rows.type();
    }

    /** Rows in the HNSW graph: 0 until {@link #buildGraph}, then every row whose append returned. */
    public int indexedRows() {
        return hnsw.nodes();
    }

    /** Frees the device copy of the rows; the host memory belongs to the caller's arena. Idempotent. */
    @Override
    public synchronized void close() {
        rows.close();
    }

    /** The estimated work of inserting the rows not yet in the graph. */
    private OpCost buildCost(int n) {
        return hnsw.walkCost(Math.max(0, n - hnsw.nodes()), n, storage(), hnsw.settings().beamWidth(), 0);
    }
}
