package dev.mempipe.core.memory;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;

/**
 * HMT's compressed memory: a bounded list of segment summary embeddings {@code [n, d]}, n at most the
 * capacity N. When full, each append evicts the oldest summary (first in, first out). Every summary gets a
 * sequence number, 0 for the first ever appended; the ones held are {@code [appended - n, appended)}.
 *
 * <p>Reads (relevancy and apply in one call):
 * <ul>
 *   <li>{@link #softRead}: {@code w = softmax(scale * <q, S_i>)} over every held summary, then
 *       {@code o = sum_i w_i S_i} ({@code dot}, {@code softmax}, {@code softRetrieve}): HMT's memory recall.</li>
 *   <li>{@link #topK}: the k summaries of largest {@code <q, S_i>}, and {@link #topKRead}, the soft read
 *       restricted to them.</li>
 * </ul>
 * Summaries are kept oldest first, so reads see the same rows in the same order as a memory given only the
 * held summaries: the buffer is a ring of N rows written twice, at slot {@code s mod N} and
 * {@code s mod N + N}, which makes the held rows one contiguous window {@code [start, start + n)} (twice
 * the memory of N summaries, for views with no copy and no wrap).
 *
 * <p>Thread-safety: eviction overwrites rows, so this memory gives out no views; reads run inside it under
 * a read lock (concurrent with each other) and appends take the write lock.
 *
 * <p>Ops: every op runs through the {@link Engine}, on the backend it hands the step: an append is one Prepare step
 * ({@code convert}); a read runs {@code dot} (Relevancy), {@code softmax} (Relevancy, in place:
 * {@link Engine#runInPlace}), {@code topK} and {@code gather} (Retrieval) and {@code softRetrieve} (Apply), each
 * placed by the plan, recorded, and rerun on the CPU after a device fault.
 *
 * <p>Residency: each read pins the ring on the backend the plan chooses for Relevancy (the identity on the CPU; a
 * device copy otherwise), and every append refreshes the slots it wrote before releasing the write lock.
 * {@link #close()} frees the copy.
 */
public final class CompressedMemory implements AutoCloseable {
    private final Engine engine;
    private final int dimension;
    private final int capacity;
    private final ResidentTensor ring; // [2N, d] F32, pinned on the Relevancy step's backend
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private long appended;

    /**
     * @param engine    runs the memory's ops
     * @param dimension d {@code >= 1}
     * @param capacity  N, summaries held at most, {@code >= 1}
     */
    public CompressedMemory(Arena arena, Engine engine, int dimension, int capacity) {
        MemoryArgs.arena(arena);
        this.engine = Objects.requireNonNull(engine, "engine");
        this.dimension = MemoryArgs.positive("dimension", dimension);
        this.capacity = MemoryArgs.positive("capacity", capacity);
        MemoryBudget.claim(arena, MemoryArgs.tensorBytes(ElementType.F32, 2L * capacity, dimension),
                "CompressedMemory of " + capacity + " summaries");
        this.ring = new ResidentTensor(Tensor.allocate(arena, ElementType.F32, 2L * capacity, dimension));
    }

    /** Frees the device copy of the ring (the host memory belongs to the arena). */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            ring.close();
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Appends m summaries, oldest first, evicting the oldest held ones beyond the capacity.
     *
     * @param summaries {@code [m, d]}, any element type
     * @throws IllegalArgumentException when the shape is wrong
     */
    public void append(Tensor summaries) {
        MemoryArgs.rowsOf("summaries", summaries, dimension, "d");
        lock.writeLock().lock();
        try {
            long m = summaries.rows();
            long first = Math.max(0, m - capacity); // rows that would be evicted within this same call are never written
            long start = appended;
            // each kept summary is written twice (the doubled ring); every write is a whole row, so a rerun is safe
            engine.runVoid(Step.PREPARE, "convert", OpCosts.convert(m - first, dimension, summaries.type(),
                    ElementType.F32).times(2), b -> {
                for (long i = first; i < m; i++) {
                    int slot = (int) ((start + i) % capacity);
                    Tensor row = summaries.rowSlice(i, i + 1);
                    b.prepare().convert(row, ring.host().rowSlice(slot, slot + 1));
                    b.prepare().convert(row, ring.host().rowSlice(slot + capacity, slot + capacity + 1));
                    ring.refresh(slot, slot + 1); // in the step: its record counts the upload
                    ring.refresh(slot + capacity, slot + capacity + 1);
                }
            });
            appended += m;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * HMT's soft read: {@code w = softmax(scale * <query, S_i>)}, {@code out = sum_i w_i S_i}.
     *
     * @param query {@code [1, d]}
     * @param scale the softmax temperature factor (HMT uses {@code 1/sqrt(d)})
     * @param out   o {@code [1, d]}, F32, F16 or BF16
     * @return the weights, oldest summary first
     * @throws IllegalStateException when the memory is empty
     */
    public float[] softRead(Tensor query, float scale, Tensor out) {
        MemoryArgs.vectorOf("query", query, dimension);
        MemoryArgs.vectorOf("out", out, dimension);
        lock.readLock().lock();
        try (Arena scratch = Scratch.open(engine)) {
            Tensor held = nonEmptyWindow();
            Tensor weights = scores(query, held, scratch);
            softmax(weights, scale);
            softRetrieve(weights, held, out);
            return weights.toFloatArray();
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * The k held summaries of largest {@code <query, S_i>}; ids are sequence numbers, ties go to the older.
     */
    public Hits topK(Tensor query, int k) {
        MemoryArgs.vectorOf("query", query, dimension);
        MemoryArgs.k(k);
        lock.readLock().lock();
        try (Arena scratch = Scratch.open(engine)) {
            Tensor held = window();
            return TopHits.of(engine, scores(query, held, scratch), k, firstSequence(held), scratch);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * The soft read over the top k summaries only: {@code w = softmax(scale * <query, S_i>)} over the
     * summaries {@link #topK} picks, {@code out = sum w_i S_i}.
     *
     * @return the summaries read (sequence numbers and dot scores, best first)
     * @throws IllegalStateException when the memory is empty
     */
    public Hits topKRead(Tensor query, int k, float scale, Tensor out) {
        MemoryArgs.vectorOf("query", query, dimension);
        MemoryArgs.vectorOf("out", out, dimension);
        MemoryArgs.k(k);
        lock.readLock().lock();
        try (Arena scratch = Scratch.open(engine)) {
            Tensor held = nonEmptyWindow();
            int first = firstSequence(held);
            Hits hits = TopHits.of(engine, scores(query, held, scratch), k, first, scratch);
            int[] positions = hits.ids();
            for (int i = 0; i < positions.length; i++) {
                positions[i] -= first;
            }
            Tensor chosen = Tensor.allocate(scratch, ElementType.F32, positions.length, dimension);
            Indices rows = Indices.of(scratch, positions);
            engine.runVoid(Op.GATHER, OpCosts.gather(positions.length, dimension, held.type()),
                    b -> b.retrieval().gather(held, rows, chosen));
            Tensor weights = Tensor.of(scratch, hits.scores(), 1, hits.size());
            softmax(weights, scale);
            softRetrieve(weights, chosen, out);
            return hits;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The held summary with sequence number {@code sequence}, decoded. */
    public float[] summary(long sequence) {
        lock.readLock().lock();
        try {
            long oldest = appended - held();
            if (sequence < oldest || sequence >= appended) {
                throw new IllegalArgumentException("sequence " + sequence + " is not held; held are [" + oldest
                        + ", " + appended + ")");
            }
            int slot = (int) (sequence % capacity);
            return ring.host().rowSlice(slot, slot + 1).toFloatArray();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** A copy of the held summaries {@code [n, d]}, oldest first, as f32 row-major. */
    public float[] summaries() {
        lock.readLock().lock();
        try {
            return window().toFloatArray();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Summaries held, n. */
    public int size() {
        lock.readLock().lock();
        try {
            return held();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Summaries appended over the memory's life, evicted ones included. */
    public long appended() {
        lock.readLock().lock();
        try {
            return appended;
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Runs {@code reader} on a view of the held summaries {@code [n, d]} F32, oldest first, under the read lock:
     * for pipelines that run the read's ops themselves (each through the engine, so that every step is placed
     * and profiled). The view is valid only inside {@code reader}: a later append may overwrite its rows.
     */
    public <T> T read(Function<Tensor, T> reader) {
        Objects.requireNonNull(reader, "reader");
        lock.readLock().lock();
        try {
            return reader.apply(placedWindow());
        } finally {
            lock.readLock().unlock();
        }
    }

    public int capacity() {
        return capacity;
    }

    public int dimension() {
        return dimension;
    }

    private int held() {
        return (int) Math.min(appended, capacity);
    }

    /** The held rows, oldest first: one contiguous band of the doubled ring. Call under a lock. */
    private Tensor window() {
        int n = held();
        int start = (int) ((appended - n) % capacity);
        return ring.view().rowSlice(start, start + n);
    }

    /**
     * {@link #window()} pinned on the device the plan chooses for Relevancy (a no-op once there). Call under the read
     * lock: appends, the only writers of the ring, are kept out while the pin uploads it.
     */
    private Tensor placedWindow() {
        ring.placeOn(engine.backendFor(Step.RELEVANCY));
        return window();
    }

    private Tensor nonEmptyWindow() {
        if (appended == 0) {
            throw new IllegalStateException("CompressedMemory is empty: append a summary before reading");
        }
        return placedWindow();
    }

    /** Sequence number of the window's first row; ids fit an int while fewer than 2^31 summaries were appended. */
    private int firstSequence(Tensor held) {
        long first = appended - held.rows();
        if (appended > Integer.MAX_VALUE) {
            throw new IllegalStateException("sequence numbers past " + Integer.MAX_VALUE + " do not fit Hits ids");
        }
        return (int) first;
    }

    private Tensor scores(Tensor query, Tensor held, Arena scratch) {
        Tensor s = Tensor.allocate(scratch, ElementType.F32, 1, (int) held.rows());
        engine.runVoid(Op.DOT, OpCosts.dot(1, held.rows(), dimension, query.type(), held.type()),
                b -> b.relevancy().dot(query, held, s));
        return s;
    }

    /** {@code weights = softmax(scale * weights)}, in place. */
    private void softmax(Tensor weights, float scale) {
        engine.runInPlace(Op.SOFTMAX, OpCosts.softmax(weights.cols(), ElementType.F32, ElementType.F32),
                List.of(weights), b -> b.relevancy().softmax(weights, scale, weights));
    }

    private void softRetrieve(Tensor weights, Tensor rows, Tensor out) {
        engine.runVoid(Op.SOFT_RETRIEVE, OpCosts.softRetrieve(rows.rows(), dimension, weights.type(), rows.type(),
                out.type()), b -> b.apply().softRetrieve(weights, rows, out));
    }
}
