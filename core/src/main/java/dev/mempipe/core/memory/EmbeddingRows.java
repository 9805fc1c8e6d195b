package dev.mempipe.core.memory;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.BackendException;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.FloatFormats;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.RelevancyOps;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Embeddings as mempipe keeps them, for {@link EmbeddingMemory} and the LangChain4j store alike: rows
 * {@code [capacity, d]} of a storage type (F32, F16, BF16, or I8/I16 with an f32 scale per row) and one f32 inverse
 * L2 norm per row.
 *
 * <p><b>The one rule for cosines.</b> Rows are stored as given, converted to the storage type by the backend's
 * {@code convert} (round to nearest even, per-row symmetric quantization), never normalized: an F32 row comes back
 * bit for bit. The inverse norm is that of the <em>stored</em> row, {@code 1 / sqrt(dot(row, row))} (0 for a zero
 * row), computed once on append by the backend: for float rows its {@code dotRows} of the decoded row with the stored
 * one (on the CPU the kernel and sum of {@code dot}), for integer rows its {@code dot} (summed exactly). A cosine with
 * a unit query is then {@code dot(query, row) * inverseNorm(row)}, clamped to {@code [-1, 1]} (which absorbs f32
 * rounding); the exact scan ({@link EmbeddingScan}) computes exactly that, with the backend's fused {@code dotTopK}
 * and these norms as its weights.
 *
 * <p><b>Residency.</b> The rows tensor is a {@link ResidentTensor} pinned on the backend the engine's plan chooses
 * for the Relevancy step ({@link Backend#pin(Tensor)}; the identity on the CPU) and refreshed after every append;
 * {@link #vectors} hands out views that carry the pin. Only the rows an append wrote are uploaded, before they are
 * published. The host copy stays authoritative: should a refresh fail, the pin is dropped and ops read the host
 * memory from then on. A growable instance that outgrows its capacity moves to a new, larger arena and pins that.
 *
 * <p><b>Ops.</b> Appends run {@code convert} and the norms ({@code dotRows} or {@code dot}) through the {@link Engine}
 * (placed, recorded, rerun on the CPU when a device fails). The graph scorers ({@link HnswVectors#graphScorer}) run the
 * backend's {@code dotRows} inside the engine step the caller opened for the HNSW walk or build.
 *
 * <p>Thread-safety: one writer. {@link #rows()} is a published (volatile) count: readers that use only rows below it
 * may run during an append of a {@link #fixed} instance, which never moves its memory. A {@link #growable} instance
 * may move its memory on append, and compaction rewrites rows, so its owner must keep readers out while it mutates
 * (the store's read-write lock).
 */
public final class EmbeddingRows implements HnswVectors, AutoCloseable {
    /** Java arrays and id tables index rows with int; stay clear of the array size limit. */
    public static final int MAX_ROWS = Integer.MAX_VALUE - 16;

    private static final System.Logger LOG = System.getLogger(EmbeddingRows.class.getName());
    // tensors are little-endian whatever the platform (the spi's rule)
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int FIRST_CAPACITY = 64;
    /** Rows encoded per {@code convert} call from Java arrays: bounds the f32 staging memory of a large add. */
    private static final int ENCODE_CHUNK_ROWS = 4096;

    private final Engine engine;
    private final ElementType type;
    private final int dimension;
    private final boolean growable;
    private Arena owned;               // growable: the arena of the current buffers (null until the first row)
    private Tensor vectors;            // [capacity, d] of type, host memory (resident.host())
    private ResidentTensor resident;   // the rows and their pin on the Relevancy step's backend
    private MemorySegment inverseNorms; // capacity f32
    private int capacity;
    private volatile int rows;

    private EmbeddingRows(Engine engine, ElementType type, int dimension, boolean growable) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.type = Objects.requireNonNull(type, "type");
        this.dimension = MemoryArgs.positive("dimension", dimension);
        this.growable = growable;
    }

    /**
     * Rows in {@code arena}, at most {@code capacity} of them (an append beyond fails); the memory never moves.
     */
    public static EmbeddingRows fixed(Engine engine, Arena arena, ElementType type, int dimension, int capacity) {
        EmbeddingRows r = new EmbeddingRows(engine, type, dimension, false);
        MemoryArgs.arena(arena);
        r.allocate(arena, MemoryArgs.positive("capacity", capacity));
        return r;
    }

    /**
     * Rows in arenas of their own (shared, so that the CPU backend can split a scan over its threads), whose
     * capacity doubles when full; {@link #close()} frees them.
     */
    public static EmbeddingRows growable(Engine engine, ElementType type, int dimension) {
        return new EmbeddingRows(engine, type, dimension, true);
    }

    public ElementType type() {
        return type;
    }

    @Override
    public int dimension() {
        return dimension;
    }

    /** Rows written and published. */
    @Override
    public int rows() {
        return rows;
    }

    public int capacity() {
        return capacity;
    }

    /**
     * Rows {@code [from, to)} as a view that carries the pin (pass it to ops); {@code to <= rows()}. A growable
     * instance's view is valid until the next append.
     */
    public Tensor vectors(int from, int to) {
        if (from < 0 || from > to || to > rows) {
            throw new IndexOutOfBoundsException("rows [" + from + ", " + to + ") of " + rows);
        }
        return resident.view().rowSlice(from, to);
    }

    /**
     * The inverse norms of rows {@code [from, to)} as an F32 {@code [1, to - from]} view (the weights of
     * {@code dotTopK} that turn a unit query's dots into cosines); valid as {@link #vectors} is.
     */
    public Tensor inverseNorms(int from, int to) {
        if (from < 0 || from > to || to > rows) {
            throw new IndexOutOfBoundsException("rows [" + from + ", " + to + ") of " + rows);
        }
        return Tensor.wrap(inverseNorms.asSlice((long) from * Float.BYTES, (long) (to - from) * Float.BYTES),
                ElementType.F32, 1, to - from);
    }

    /** {@code 1 / ||row||} of the stored row; 0 for a zero row. */
    public float inverseNorm(int row) {
        return inverseNorms.getAtIndex(F32, row);
    }

    /** The work of appending n rows of {@code from}: the conversion and the norms. */
    public OpCost appendCost(long n, ElementType from) {
        return OpCosts.convert(n, dimension, from, type).plus(OpCosts.dot(1, 1, dimension, type, type).times(n));
    }

    /**
     * Appends {@code newRows [n, d]} (any element type), converted to the storage type, and their inverse norms;
     * one engine step ({@code convert}). Publishes the rows, then refreshes the pin.
     *
     * @throws IllegalArgumentException when the width is not d
     * @throws IllegalStateException    when a fixed instance has no room for n more rows
     */
    public void append(Tensor newRows) {
        MemoryArgs.rowsOf("rows", newRows, dimension, "the embeddings' dimension");
        int n = Math.toIntExact(newRows.rows());
        if (n == 0) {
            return;
        }
        int from = rows;
        reserve((long) from + n);
        engine.runVoid(Op.CONVERT, appendCost(n, newRows.type()), b -> {
            b.prepare().convert(newRows, vectors.rowSlice(from, from + n));
            computeInverseNorms(b, from, from + n);
        });
        publish(from, from + n);
    }

    /**
     * Appends vectors from Java arrays (each of d elements, finite: the caller checked them), staged through f32
     * chunks of at most 4096 rows.
     */
    public void append(float[][] raw) {
        if (raw.length == 0) {
            return;
        }
        // room for the whole batch at once: chunk by chunk, a growable instance would double (allocate, copy, free)
        // once per power of two on the way, and end up to twice the size the batch needs
        reserve((long) rows + raw.length);
        try (Arena scratch = Arena.ofShared()) { // shared: the backend may convert from its pool threads
            Tensor staging = Tensor.allocate(scratch, ElementType.F32, Math.min(raw.length, ENCODE_CHUNK_ROWS),
                    dimension);
            for (int first = 0; first < raw.length; first += ENCODE_CHUNK_ROWS) {
                int count = Math.min(ENCODE_CHUNK_ROWS, raw.length - first);
                Tensor source = staging.rowSlice(0, count);
                for (int r = 0; r < count; r++) {
                    MemorySegment.copy(raw[first + r], 0, source.data(), F32, source.offset(r, 0), dimension);
                }
                append(source);
            }
        }
    }

    /**
     * Makes room for {@code count} rows whose bytes (and scales) the caller writes straight into the returned host
     * view, as a load does; {@link #finishRawAppend} then computes their norms and publishes them.
     */
    public Tensor beginRawAppend(int count) {
        reserve((long) rows + count);
        return vectors.rowSlice(rows, rows + count);
    }

    /** Publishes the {@code count} rows written after {@link #beginRawAppend}, with their inverse norms. */
    public void finishRawAppend(int count) {
        int from = rows;
        if (count < 0 || (long) from + count > capacity) {
            throw new IllegalArgumentException("count must be in [0, " + (capacity - from) + "], got " + count);
        }
        if (count == 0) {
            return;
        }
        engine.runVoid(Step.PREPARE, "inverseNorms", OpCosts.dot(1, 1, dimension, type, type).times(count),
                b -> computeInverseNorms(b, from, from + count));
        publish(from, from + count);
    }

    /** Decodes row {@code row} into {@code into[0, d)}. */
    public void read(int row, float[] into) {
        Objects.checkIndex(row, capacity);
        MemorySegment data = vectors.data();
        long at = vectors.offset(row, 0);
        // a loop per type, decoding as Tensor.get does: every search decodes its k results (Tensor.get's checks and
        // type switch per element were most of a BF16 store search's own cost)
        switch (type) {
            case F32 -> MemorySegment.copy(data, F32, at, into, 0, dimension);
            case BF16 -> {
                for (int c = 0; c < dimension; c++) {
                    into[c] = FloatFormats.bf16ToFloat(data.get(I16, at + 2L * c));
                }
            }
            case I8 -> {
                float scale = vectors.scale(row);
                for (int c = 0; c < dimension; c++) {
                    into[c] = data.get(ValueLayout.JAVA_BYTE, at + c) * scale;
                }
            }
            default -> {
                for (int c = 0; c < dimension; c++) {
                    into[c] = vectors.get(row, c);
                }
            }
        }
    }

    /** Row {@code row} decoded into a new array. */
    public float[] read(int row) {
        float[] out = new float[dimension];
        read(row, out);
        return out;
    }

    /** Row {@code row} decoded and scaled to unit length (a zero row stays zero). */
    @Override
    public void readUnit(int row, float[] into) {
        read(row, into);
        float inverseNorm = inverseNorm(row);
        for (int i = 0; i < dimension; i++) {
            into[i] *= inverseNorm;
        }
    }

    /**
     * The cosines of a unit query with rows of {@code [0, rows())}: the backend's {@code dotRows} over the pinned rows
     * (the CPU backend reads four rows at a time, so that their cache misses overlap), times each row's inverse norm,
     * clamped to {@code [-1, 1]}. Every call is a {@code dotRows} call; what does not change between the calls of one
     * walk (the rows' pinned view, the query's tensor, the views of the scorer's id and score arrays) is made once.
     */
    @Override
    public GraphScorer graphScorer(Backend backend, float[] unitQuery) {
        Objects.requireNonNull(backend, "backend");
        if (unitQuery.length < dimension) {
            throw new IllegalArgumentException("unitQuery has " + unitQuery.length + " elements, the rows "
                    + dimension);
        }
        return new DotRowsScorer(backend.relevancy(), unitQuery, vectors(0, rows));
    }
    /** Copies row {@code from} over row {@code to} (bytes, scale and norm), for compaction; {@code to < from}. */
    public void moveRow(int from, int to) {
        long rowBytes = (long) dimension * type.byteSize();
        MemorySegment.copy(vectors.data(), vectors.offset(from, 0), vectors.data(), vectors.offset(to, 0), rowBytes);
        if (type.isQuantized()) {
            vectors.setScale(to, vectors.scale(from));
        }
        inverseNorms.setAtIndex(F32, to, inverseNorms.getAtIndex(F32, from));
    }

    /**
     * Keeps rows {@code [0, newRows)} and forgets the rest; rows rewritten by {@link #moveRow} below
     * {@code newRows} are uploaded again from {@code firstChanged}.
     */
    public void truncate(int newRows, int firstChanged) {
        if (newRows < 0 || newRows > rows) {
            throw new IllegalArgumentException("newRows must be in [0, " + rows + "], got " + newRows);
        }
        if (firstChanged < newRows) {
            refresh(firstChanged, newRows);
        }
        rows = newRows;
    }

    /** Forgets every row; a growable instance releases its memory (the next append allocates afresh). */
    public void clear() {
        rows = 0;
        if (growable) {
            close();
            capacity = 0;
            vectors = null;
            resident = null;
            inverseNorms = null;
        }
    }

    /** Frees the device copy and, for a growable instance, the memory. Idempotent. */
    @Override
    public void close() {
        if (resident != null) {
            resident.close();
        }
        if (owned != null) {
            owned.close();
            owned = null;
        }
    }

    private void computeInverseNorms(Backend b, int from, int to) {
        float[] square = new float[1];
        Tensor out = Tensor.wrap(MemorySegment.ofArray(square), ElementType.F32, 1, 1);
        if (type.isQuantized() || !b.capabilities().supports(Op.DOT_ROWS, type)) {
            // dot(row, row), one row at a time: integer rows summed exactly
            for (int r = from; r < to; r++) {
                Tensor row = vectors.rowSlice(r, r + 1);
                b.relevancy().dot(row, row, out);
                setInverseNorm(r, square[0]);
            }
            return;
        }
        // float rows: dotRows of the decoded row (exact: f32, or f16/bf16 widened) with the stored row, one row at a
        // time; the same kernel and sum as dot(row, row) on the CPU, without dot's per-call decoding and checks
        // (on a 100k-row add they allocated 4-5 KB a row: most of the bytes the add allocated beside the graph)
        float[] decoded = new float[dimension];
        Tensor query = Tensor.wrap(MemorySegment.ofArray(decoded), ElementType.F32, 1, dimension);
        int[] id = new int[1];
        Indices ids = Indices.wrap(MemorySegment.ofArray(id), 1);
        for (int r = from; r < to; r++) {
            read(r, decoded);
            id[0] = r;
            b.relevancy().dotRows(query, vectors, ids, out);
            setInverseNorm(r, square[0]);
        }
    }

    private void setInverseNorm(int row, double squaredNorm) {
        inverseNorms.setAtIndex(F32, row, squaredNorm > 0 ? (float) (1 / Math.sqrt(squaredNorm)) : 0f);
    }

    /** Uploads the new rows, then publishes them: a reader of the published rows on the device never sees them stale. */
    private void publish(int from, int to) {
        refresh(from, to);
        rows = to;
    }

    private void refresh(int from, int to) {
        try {
            resident.refresh(from, to);
        } catch (BackendException e) {
            // The host copy is authoritative: without the pin every backend reads it, and the answers stay right.
            LOG.log(System.Logger.Level.WARNING, () -> "unpinning " + vectors.shapeString() + " from "
                    + e.backend() + " after a failed refresh; ops read host memory from now on", e);
            resident.close();
        }
    }

    private void reserve(long needed) {
        if (needed <= capacity) {
            return;
        }
        if (!growable) {
            MemoryArgs.room("EmbeddingRows", capacity, rows, needed - rows, "rows");
        }
        if (needed > MAX_ROWS) {
            throw new IllegalStateException("at most " + MAX_ROWS + " rows, " + needed + " requested");
        }
        int grown = (int) Math.min(MAX_ROWS, Math.max(needed, Math.max(FIRST_CAPACITY, 2L * capacity)));
        Arena next = engine.memoryBudget().arena();
        try {
            // the whole new buffer is taken from the engine's memory budget before any of it is allocated (the old
            // one stays counted until the copy is done: that is the peak this growth needs)
            MemoryBudget.claim(next, bytes(grown), "growing " + dimension + "-d " + type + " embeddings to " + grown
                    + " rows");
            Tensor nextVectors = Tensor.allocate(next, type, grown, dimension);
            MemorySegment nextNorms = next.allocate((long) grown * Float.BYTES, 64);
            int held = rows;
            if (held > 0) {
                long rowBytes = (long) dimension * type.byteSize();
                MemorySegment.copy(vectors.data(), 0, nextVectors.data(), 0, held * rowBytes);
                if (type.isQuantized()) {
                    MemorySegment.copy(vectors.scales(), 0, nextVectors.scales(), 0, (long) held * Float.BYTES);
                }
                MemorySegment.copy(inverseNorms, 0, nextNorms, 0, (long) held * Float.BYTES);
            }
            close(); // the old pin and arena
            owned = next;
            use(nextVectors, nextNorms);
            if (held > 0) {
                refresh(0, held);
            }
        } catch (RuntimeException | Error e) {
            if (owned != next) {
                next.close();
            }
            throw e;
        }
    }

    /** Buffers of {@code rowCount} rows in {@code arena} (a fixed instance's only buffers). */
    private void allocate(Arena arena, int rowCount) {
        MemoryBudget.claim(arena, bytes(rowCount), rowCount + " " + dimension + "-d " + type + " embeddings");
        use(Tensor.allocate(arena, type, rowCount, dimension), arena.allocate((long) rowCount * Float.BYTES, 64));
    }

    /** Bytes of {@code rowCount} rows with their scales and inverse norms. */
    private long bytes(long rowCount) {
        return Math.addExact(MemoryArgs.tensorBytes(type, rowCount, dimension), rowCount * Float.BYTES);
    }

    /** Takes these buffers and pins the rows on the Relevancy step's backend. */
    private void use(Tensor newVectors, MemorySegment newNorms) {
        vectors = newVectors;
        inverseNorms = newNorms;
        capacity = Math.toIntExact(newVectors.rows());
        resident = new ResidentTensor(newVectors);
        try {
            resident.placeOn(engine.backendFor(Step.RELEVANCY));
        } catch (BackendException e) {
            LOG.log(System.Logger.Level.WARNING, () -> "cannot pin " + newVectors.shapeString() + " on "
                    + e.backend() + "; ops read host memory", e);
        }
    }

    /**
     * {@link #graphScorer}: one {@code dotRows} call per {@link #cosine} or {@link #cosines}, its ids and scores in
     * the scorer's {@link RowCallBuffers} (a call allocates nothing).
     */
    private final class DotRowsScorer implements GraphScorer {
        private final RelevancyOps ops;
        private final Tensor query;   // (1, d) over the caller's array, read at every call
        private final Tensor keys;    // (rows, d), the pinned view as the rows are now
        private final RowCallBuffers call = new RowCallBuffers();

        DotRowsScorer(RelevancyOps ops, float[] unitQuery, Tensor keys) {
            this.ops = ops;
            this.query = Tensor.wrap(MemorySegment.ofArray(unitQuery), ElementType.F32, 1, dimension);
            this.keys = keys;
        }

        @Override
        public float cosine(int row) {
            call.load(row);
            ops.dotRows(query, keys, call.idsView(1), call.resultView(1));
            return Math.clamp(call.results()[0] * inverseNorm(row), -1f, 1f);
        }

        @Override
        public void cosines(int[] rowIds, int count, float[] out) {
            if (count == 0) {
                return;
            }
            call.load(rowIds, count);
            ops.dotRows(query, keys, call.idsView(count), call.resultView(count));
            float[] scores = call.results();
            int[] ids = call.ids();
            for (int i = 0; i < count; i++) {
                out[i] = Math.clamp(scores[i] * inverseNorm(ids[i]), -1f, 1f);
            }
        }
    }
}
