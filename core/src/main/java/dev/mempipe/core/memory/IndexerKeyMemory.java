package dev.mempipe.core.memory;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.Objects;

/**
 * DeepSeek DSA's lightning-indexer keys: one low-dimensional key per token, {@code [capacity, dI]}, stored
 * compactly (F16, or I8 with one f32 scale per row; any {@link ElementType} is accepted). Keys are appended
 * in f32 (or any type) and converted on the way in with the contract's {@code convert}: F16/BF16 round to
 * nearest even, I8/I16 quantize each row symmetrically ({@code scale = maxabs / 127}). The view
 * {@link #keys()} carries the row scales, so {@code indexerScore} reads it as is, with {@code kScale = null}.
 *
 * <p>Thread-safety: single writer, many readers. {@link #append} converts rows, then publishes the new
 * length with a volatile store; {@link #keys()} returns a view of the published prefix, which later appends
 * never write. Appends are {@code synchronized}.
 *
 * <p>Residency: {@link #placeOn} pins the keys on the device that scores them; every append refreshes the
 * rows it wrote before publishing them. {@link #close()} frees the device copy.
 *
 * <p>Ops: each append is one Prepare step of the {@link Engine} ({@code quantize} for integer storage, else
 * {@code convert}), on the backend the engine hands it: placed by the plan, recorded, and rerun on the CPU after a
 * device fault (it writes whole rows not yet published, so a rerun is safe).
 */
public final class IndexerKeyMemory implements AutoCloseable {
    private final Engine engine;
    private final int indexDim;
    private final long capacity;
    private final ResidentTensor keys; // [capacity, dI], with row scales for I8/I16
    private volatile long length;

    /**
     * @param engine   runs the appends' ops
     * @param indexDim dI {@code >= 1}
     * @param capacity tokens, {@code >= 1}
     * @param storage  the element type of the stored keys (F16 and I8 are what DSA uses)
     */
    public IndexerKeyMemory(Arena arena, Engine engine, int indexDim, long capacity, ElementType storage) {
        MemoryArgs.arena(arena);
        this.engine = Objects.requireNonNull(engine, "engine");
        this.indexDim = MemoryArgs.positive("indexDim", indexDim);
        this.capacity = MemoryArgs.positive("capacity", capacity);
        MemoryBudget.claim(arena, MemoryArgs.tensorBytes(Objects.requireNonNull(storage, "storage"), capacity,
                indexDim), "IndexerKeyMemory of " + capacity + " tokens");
        this.keys = new ResidentTensor(Tensor.allocate(arena, Objects.requireNonNull(storage, "storage"), capacity,
                indexDim));
    }

    /** Pins the keys on {@code backend} (the device of the Relevancy step); a no-op when they are there. */
    public synchronized void placeOn(Backend backend) {
        keys.placeOn(backend);
    }

    /** Frees the device copy. */
    @Override
    public synchronized void close() {
        keys.close();
    }

    /**
     * Converts and appends the indexer keys of n tokens.
     *
     * @param newKeys {@code [n, dI]}, f32 or any element type
     * @throws IllegalArgumentException when the shape is wrong
     * @throws IllegalStateException    when n more keys do not fit the capacity
     */
    public synchronized void append(Tensor newKeys) {
        MemoryArgs.rowsOf("keys", newKeys, indexDim, "dI");
        long from = length;
        MemoryArgs.room("IndexerKeyMemory", capacity, from, newKeys.rows(), "tokens");
        long to = from + newKeys.rows();
        if (to == from) {
            return;
        }
        ElementType storage = storage();
        long n = to - from;
        Tensor rows = keys.host().rowSlice(from, to);
        engine.runVoid(Step.PREPARE, storage.isQuantized() ? "quantize" : "convert", storage.isQuantized()
                ? OpCosts.quantize(n, indexDim, newKeys.type(), storage)
                : OpCosts.convert(n, indexDim, newKeys.type(), storage), b -> {
            b.prepare().convert(newKeys, rows);
            keys.refresh(from, to); // in the step: its record counts the upload
        });
        length = to; // publish
    }

    /** K {@code [length, dI]} in the storage type (with its row scales for integer types). */
    public Tensor keys() {
        return keys.view().rowSlice(0, length);
    }

    public long length() {
        return length;
    }

    public long capacity() {
        return capacity;
    }

    public int indexDim() {
        return indexDim;
    }

    public ElementType storage() {
        return keys.host().type();
    }
}
