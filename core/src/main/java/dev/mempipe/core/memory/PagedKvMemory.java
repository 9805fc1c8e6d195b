package dev.mempipe.core.memory;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.OpArgs;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Objects;

/**
 * One layer's KV cache for Quest / LServe page selection: keys and values {@code [capacity, Hkv*d]} (row i
 * holds the Hkv heads of token i, as {@code attention} reads them) and per-page element-wise min and max of
 * the keys {@code [pages, Hkv*d]}, pages of P tokens. Every append brings the summaries up to date through
 * {@code pageMinMaxAppend}, which touches only the pages holding new rows, so after any sequence of appends
 * the summaries equal a batch {@code pageMinMax} over all rows.
 *
 * <p>Storage is F32, F16 or BF16 (keys, values and summaries alike: the min or max of stored values is
 * itself representable, so the summaries are exact). Appended rows of any element type are converted on the
 * way in (rounded to nearest even).
 *
 * <p>Thread-safety: single writer, many readers. {@link #append} writes rows and summaries, then publishes
 * the new length with a volatile store; {@link #snapshot} reads it once and returns views of that prefix.
 * Rows and the summaries of full pages never change afterwards. The one exception is the snapshot's last
 * page when it is partial: later appends merge their rows into it in place, so its min can only decrease
 * and its max only increase, element by element (a reader may see some elements widened and others not yet;
 * each is its old or its new value: the jcstress test {@code PagedKvAppendRead} checks this). It therefore stays
 * a valid Quest bound for the snapshot's rows (what a reader needs: {@code questBound >= <q, k>} for every key
 * k of the page), but it is exact only until the next append. Copying that one page per snapshot would make it exact at the cost of a non-contiguous view.
 * Appends are {@code synchronized}. A device that writes garbage over that page and then fails breaks this for a
 * reader racing the failed attempt (the page holds the garbage until the engine restores it for the CPU rerun);
 * the memory's own state is right again when the append returns.
 *
 * <p>Residency: {@link #placeOn} pins the summaries on the device that scores them (Relevancy) and the keys and
 * values on the device that attends over them (Apply); every append refreshes the rows and pages it wrote
 * before it publishes the new length, and snapshots hand out the pinned views. The host copy stays
 * authoritative. {@link #close()} frees the device copies.
 *
 * <p>Ops: each append is one Prepare step of the {@link Engine} ({@value #APPEND_LABEL}: the two {@code convert}s
 * and {@code pageMinMaxAppend}), on the backend the engine hands it: placed by the plan, recorded, and rerun on the
 * CPU after a device fault. The partial page that {@code pageMinMaxAppend} merges into is declared as updated in
 * place ({@link Engine#runInPlace}), so a rerun merges into the summaries as they were, never into what a failed
 * device left there. The device copies are refreshed at the end of the step (its record counts the upload), then
 * the length is published.
 */
public final class PagedKvMemory implements AutoCloseable {
    /** Quest's page size. */
    public static final int DEFAULT_PAGE_SIZE = 16;
    /** The profile label of an append: the cache write and the incremental page summaries. */
    public static final String APPEND_LABEL = "kvAppend+pageMinMax";

    private final Engine engine;
    private final int kvHeads;
    private final int headDim;
    private final int rowWidth;
    private final int pageSize;
    private final long capacity;
    private final ResidentTensor keys;     // [capacity, Hkv*d]
    private final ResidentTensor values;   // [capacity, Hkv*d]
    private final ResidentTensor pageMin;  // [ceil(capacity/P), Hkv*d]
    private final ResidentTensor pageMax;  // [ceil(capacity/P), Hkv*d]
    private volatile long length;

    /** F32 storage, pages of {@value #DEFAULT_PAGE_SIZE} tokens. */
    public PagedKvMemory(Arena arena, Engine engine, int kvHeads, int headDim, long capacity) {
        this(arena, engine, kvHeads, headDim, capacity, ElementType.F32, DEFAULT_PAGE_SIZE);
    }

    /**
     * @param engine   runs the appends' ops
     * @param kvHeads  Hkv {@code >= 1}
     * @param headDim  d {@code >= 1}
     * @param capacity tokens the memory can hold, {@code >= 1}
     * @param storage  F32, F16 or BF16
     * @param pageSize P {@code >= 1}
     */
    public PagedKvMemory(Arena arena, Engine engine, int kvHeads, int headDim, long capacity,
                         ElementType storage, int pageSize) {
        MemoryArgs.arena(arena);
        this.engine = Objects.requireNonNull(engine, "engine");
        this.kvHeads = MemoryArgs.positive("kvHeads", kvHeads);
        this.headDim = MemoryArgs.positive("headDim", headDim);
        this.rowWidth = Math.multiplyExact(kvHeads, headDim);
        this.capacity = MemoryArgs.positive("capacity", capacity);
        this.pageSize = MemoryArgs.positive("pageSize", pageSize);
        Objects.requireNonNull(storage, "storage");
        if (!storage.isFloat()) {
            throw new IllegalArgumentException("storage must be F32, F16 or BF16, got " + storage);
        }
        long pages = OpArgs.ceilDiv(capacity, pageSize);
        MemoryBudget.claim(arena, 2 * MemoryArgs.tensorBytes(storage, capacity + pages, rowWidth),
                "PagedKvMemory of " + capacity + " tokens");
        this.keys = new ResidentTensor(Tensor.allocate(arena, storage, capacity, rowWidth));
        this.values = new ResidentTensor(Tensor.allocate(arena, storage, capacity, rowWidth));
        this.pageMin = new ResidentTensor(Tensor.allocate(arena, storage, pages, rowWidth));
        this.pageMax = new ResidentTensor(Tensor.allocate(arena, storage, pages, rowWidth));
    }

    /**
     * Pins the page summaries on {@code summariesOn} (the device of the Relevancy step) and the keys and values
     * on {@code rowsOn} (the device of Apply), moving earlier pins; a no-op for what is already there.
     */
    public synchronized void placeOn(Backend summariesOn, Backend rowsOn) {
        pageMin.placeOn(summariesOn);
        pageMax.placeOn(summariesOn);
        keys.placeOn(rowsOn);
        values.placeOn(rowsOn);
    }

    /** Frees the device copies (the host memory belongs to the arena). */
    @Override
    public synchronized void close() {
        pageMin.close();
        pageMax.close();
        keys.close();
        values.close();
    }

    /**
     * Appends the keys and values of n tokens and updates the page summaries.
     *
     * @param newKeys   {@code [n, Hkv*d]}, any element type
     * @param newValues {@code [n, Hkv*d]}, any element type
     * @throws IllegalArgumentException when a shape is wrong
     * @throws IllegalStateException    when n more tokens do not fit the capacity
     */
    public synchronized void append(Tensor newKeys, Tensor newValues) {
        String width = "Hkv*d = " + kvHeads + "*" + headDim;
        MemoryArgs.rowsOf("keys", newKeys, rowWidth, width);
        MemoryArgs.rowsOf("values", newValues, rowWidth, width);
        if (newKeys.rows() != newValues.rows()) {
            throw new IllegalArgumentException("keys and values must have the same number of rows, got keys "
                    + newKeys.shapeString() + " and values " + newValues.shapeString());
        }
        long from = length;
        long to = from + newKeys.rows();
        MemoryArgs.room("PagedKvMemory", capacity, from, newKeys.rows(), "tokens");
        if (to == from) {
            return;
        }
        long pages = OpArgs.ceilDiv(to, pageSize);
        long firstPage = from / pageSize;
        // only the pages that hold new rows: the op is given them alone (pages start at multiples of P, so the
        // result is the same), so a device reads none of the older rows and can write no other page
        Tensor keyRows = keys.host().rowSlice(firstPage * pageSize, to);   // (to - firstPage*P, Hkv*d)
        Tensor min = pageMin.host().rowSlice(firstPage, pages);            // (pages - firstPage, Hkv*d)
        Tensor max = pageMax.host().rowSlice(firstPage, pages);
        long fromInPages = from - firstPage * pageSize;
        // a partial first page is merged into (read and written); the pages after it are written whole
        List<Tensor> merged = fromInPages == 0 ? List.of() : List.of(min.rowSlice(0, 1), max.rowSlice(0, 1));
        engine.runInPlace(Step.PREPARE, APPEND_LABEL, appendCost(newKeys, newValues, from, to), merged, b -> {
            b.prepare().convert(newKeys, keys.host().rowSlice(from, to));
            b.prepare().convert(newValues, values.host().rowSlice(from, to));
            b.prepare().pageMinMaxAppend(keyRows, fromInPages, pageSize, min, max);
            // device copies in the same step (its record counts the upload), then publish: a reader that sees `to`
            // finds its rows on the device too
            keys.refresh(from, to);
            values.refresh(from, to);
            pageMin.refresh(firstPage, pages);
            pageMax.refresh(firstPage, pages);
        });
        length = to; // publish: a reader that sees `to` also sees the rows and summaries written above
    }

    /** The work of one append: both conversions and the page summaries of the pages it touches. */
    private OpCost appendCost(Tensor newKeys, Tensor newValues, long from, long to) {
        long n = to - from;
        ElementType storage = storage();
        return OpCosts.convert(n, rowWidth, newKeys.type(), storage)
                .plus(OpCosts.convert(n, rowWidth, newValues.type(), storage))
                .plus(OpCosts.pageMinMaxAppend(to, from, rowWidth, pageSize, storage, storage));
    }

    /** Views of keys, values and summaries for one published length (see the class comment). */
    public Snapshot snapshot() {
        long n = length;
        long pages = OpArgs.ceilDiv(n, pageSize);
        return new Snapshot(n, pageSize, keys.view().rowSlice(0, n), values.view().rowSlice(0, n),
                pageMin.view().rowSlice(0, pages), pageMax.view().rowSlice(0, pages));
    }

    /** Tokens held (the published length). */
    public long length() {
        return length;
    }

    /** K {@code [length, Hkv*d]}; take a {@link #snapshot} for several views of the same length. */
    public Tensor keys() {
        return snapshot().keys();
    }

    /** V {@code [length, Hkv*d]}. */
    public Tensor values() {
        return snapshot().values();
    }

    /** min {@code [ceil(length/P), Hkv*d]}. */
    public Tensor pageMin() {
        return snapshot().pageMin();
    }

    /** max {@code [ceil(length/P), Hkv*d]}. */
    public Tensor pageMax() {
        return snapshot().pageMax();
    }

    public long capacity() {
        return capacity;
    }

    public int kvHeads() {
        return kvHeads;
    }

    public int headDim() {
        return headDim;
    }

    public int pageSize() {
        return pageSize;
    }

    public ElementType storage() {
        return keys.host().type();
    }

    /**
     * The memory at one published length: keys and values {@code [length, Hkv*d]}, page summaries
     * {@code [ceil(length/P), Hkv*d]}. Rows and full pages are immutable; a partial last page may widen
     * (see {@link PagedKvMemory}).
     */
    public record Snapshot(long length, int pageSize, Tensor keys, Tensor values, Tensor pageMin, Tensor pageMax) {
        /** Pages summarized, {@code ceil(length / P)}. */
        public long pages() {
            return pageMin.rows();
        }

        /** Whether the last page is partial (and may still widen as the memory grows). */
        public boolean lastPagePartial() {
            return length % pageSize != 0;
        }
    }
}
