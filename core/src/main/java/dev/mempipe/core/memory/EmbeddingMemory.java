package dev.mempipe.core.memory;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.Objects;

/**
 * Embeddings for dense RAG: vectors {@code [capacity, d]}, each normalized to unit length on append
 * ({@code l2Normalize}; a zero vector stays zero) and stored as F32 (or F16, BF16, or I8/I16 with a row
 * scale, quantized after normalizing). Row i is id i.
 *
 * <p>Two searches, both returning {@link Hits} of ids and cosine scores, best first:
 * <ul>
 *   <li>{@link #search}: exact; {@code cosine} over every row, then {@code topK} (ties: lower id first).</li>
 *   <li>{@link #searchApproximate}: Lucene HNSW ({@link HnswIndex}, {@link HnswSettings}); the graph is built
 *       on the first approximate search and extended with the rows appended since at each later one. Its
 *       recall against the exact search is what the tests measure.</li>
 * </ul>
 *
 * <p>Thread-safety: single writer, many readers. {@link #append} writes rows, then publishes the new length
 * with a volatile store; exact searches and {@link #vectors()} read the published prefix without locking,
 * and later appends never write it. Approximate searches are serialized on the graph (Lucene's graph has
 * one neighbour cursor). Appends are {@code synchronized}.
 */
public final class EmbeddingMemory {
    /** Rows normalized per op call when the storage is an integer type (the f32 scratch is this tall). */
    private static final int NORMALIZE_CHUNK_ROWS = 256;

    private final Backend backend;
    private final int dimension;
    private final int capacity;
    private final Tensor vectors;    // [capacity, d]
    private final Tensor normalized; // [NORMALIZE_CHUNK_ROWS, d] F32, for integer storage only
    private final HnswIndex hnsw;
    private volatile int length;

    /** F32 storage, default HNSW settings. */
    public EmbeddingMemory(Arena arena, Backend backend, int dimension, int capacity) {
        this(arena, backend, dimension, capacity, ElementType.F32, HnswSettings.DEFAULT);
    }

    /**
     * @param dimension d {@code >= 1}
     * @param capacity  vectors, {@code >= 1}
     * @param storage   element type of the stored vectors
     * @param hnsw      parameters of the approximate search
     */
    public EmbeddingMemory(Arena arena, Backend backend, int dimension, int capacity, ElementType storage,
                           HnswSettings hnsw) {
        MemoryArgs.arena(arena);
        this.backend = Objects.requireNonNull(backend, "backend");
        this.dimension = MemoryArgs.positive("dimension", dimension);
        this.capacity = MemoryArgs.positive("capacity", capacity);
        Objects.requireNonNull(storage, "storage");
        MemoryBudget.claim(arena, MemoryArgs.tensorBytes(storage, capacity, dimension) + (storage.isQuantized()
                ? MemoryArgs.tensorBytes(ElementType.F32, Math.min(NORMALIZE_CHUNK_ROWS, capacity), dimension) : 0),
                "EmbeddingMemory of " + capacity + " vectors");
        this.vectors = Tensor.allocate(arena, storage, capacity, dimension);
        this.normalized = storage.isQuantized()
                ? Tensor.allocate(arena, ElementType.F32, Math.min(NORMALIZE_CHUNK_ROWS, capacity), dimension)
                : null;
        this.hnsw = new HnswIndex(new TensorRows(vectors, this::length), Objects.requireNonNull(hnsw, "hnsw"));
    }

    /**
     * Normalizes and appends n vectors.
     *
     * @param newVectors {@code [n, d]}, any element type
     * @return the id of the first appended vector (the others follow in order)
     * @throws IllegalArgumentException when the shape is wrong
     * @throws IllegalStateException    when n more vectors do not fit the capacity
     */
    public synchronized int append(Tensor newVectors) {
        MemoryArgs.rowsOf("vectors", newVectors, dimension, "d");
        int from = length;
        MemoryArgs.room("EmbeddingMemory", capacity, from, newVectors.rows(), "vectors");
        int to = from + (int) newVectors.rows();
        if (to == from) {
            return from;
        }
        if (normalized == null) {
            backend.prepare().l2Normalize(newVectors, vectors.rowSlice(from, to));
        } else {
            // l2Normalize writes float types only: normalize in f32, then quantize each row
            for (int at = 0; at < to - from; at += normalized.rows()) {
                int rows = (int) Math.min(normalized.rows(), to - from - at);
                Tensor unit = normalized.rowSlice(0, rows);
                backend.prepare().l2Normalize(newVectors.rowSlice(at, at + rows), unit);
                backend.prepare().quantize(unit, vectors.rowSlice(from + at, from + at + rows));
            }
        }
        length = to; // publish
        return from;
    }

    /**
     * The k rows of highest cosine with {@code query}, exactly.
     *
     * @param query {@code [1, d]}, any element type; need not be normalized
     */
    public Hits search(Tensor query, int k) {
        MemoryArgs.vectorOf("query", query, dimension);
        MemoryArgs.k(k);
        int n = length;
        if (n == 0) {
            return Hits.empty();
        }
        try (Arena scratch = Scratch.open()) {
            Tensor scores = Tensor.allocate(scratch, ElementType.F32, 1, n);
            backend.relevancy().cosine(query, vectors.rowSlice(0, n), scores);
            return TopHits.of(backend, scores, k, 0, scratch);
        }
    }

    /**
     * The k rows of highest cosine with {@code query} as the HNSW graph finds them (approximate: a true
     * neighbour may be missed). Scores are the exact cosines of the rows returned. Should the graph walk reach fewer
     * than {@code min(k, length)} rows, the answer is the exact {@link #search}'s.
     *
     * @param query {@code [1, d]}, any element type; need not be normalized
     */
    public Hits searchApproximate(Tensor query, int k) {
        MemoryArgs.vectorOf("query", query, dimension);
        MemoryArgs.k(k);
        float[] unit = query.toFloatArray();
        double sumSquares = 0;
        for (float x : unit) {
            sumSquares += (double) x * x;
        }
        if (sumSquares > 0) {
            double norm = Math.sqrt(sumSquares);
            for (int i = 0; i < unit.length; i++) {
                unit[i] = (float) (unit[i] / norm);
            }
        }
        Hits hits = hnsw.search(unit, k);
        return hits != null ? hits : search(query, k);
    }

    /** The stored unit vectors {@code [length, d]}. */
    public Tensor vectors() {
        return vectors.rowSlice(0, length);
    }

    /** Vectors held (the published length). */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    public int dimension() {
        return dimension;
    }

    public ElementType storage() {
        return vectors.type();
    }

    /** Rows already in the HNSW graph (0 until the first approximate search). */
    public int indexedRows() {
        return hnsw.nodes();
    }
}
