package dev.mempipe.langchain4j;

import dev.mempipe.core.memory.HnswVectors;
import dev.mempipe.core.memory.MemoryBudget;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.FloatFormats;
import dev.mempipe.spi.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.apache.lucene.util.VectorUtil;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The store's vectors, off-heap: {@code [capacity, d]} of the storage type (with one f32 scale per row for I8 and
 * I16) and one f32 inverse L2 norm per row, in an {@link Arena#ofShared() shared} arena so that the CPU backend can
 * split a scan over its thread pool (a confined arena would keep it on the calling thread).
 *
 * <p>Vectors are kept as given, not normalized, so that an F32 store returns every embedding bit for bit; the
 * cosine is {@code dot(unit query, row) * inverseNorm(row)}, which lets a search use the backend's plain
 * {@code dot} scan (and the HNSW graph the same cosine, decoded per comparison). Capacity doubles when full: a new
 * arena receives the rows and the old one is closed.
 *
 * <p>Not thread-safe: the store calls mutators under its write lock and readers under its read lock (growth
 * closes the old arena, so no reader may be inside it).
 */
final class StoredRows implements HnswVectors, AutoCloseable {
    private static final VectorSpecies<Float> LANES = FloatVector.SPECIES_PREFERRED;
    // tensors are little-endian whatever the platform (the spi's rule, and the store file's)
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int FIRST_CAPACITY = 64;
    /** Rows encoded per {@code convert} call: bounds the f32 staging memory of a large add to 4096 rows. */
    private static final int ENCODE_CHUNK_ROWS = 4096;
    /** Java arrays and the id table index rows with int; stay clear of the array size limit. */
    static final int MAX_ROWS = Integer.MAX_VALUE - 16;

    private final Backend backend;
    private final MemoryBudget budget;
    private final ElementType type;
    private final int dimension;
    private Arena arena;               // null until the first row, and after clear()
    private Tensor vectors;            // [capacity, d] of type
    private MemorySegment inverseNorms; // capacity f32
    private int capacity;
    private int rows;

    StoredRows(Backend backend, ElementType type, int dimension, MemoryBudget budget) {
        this.backend = backend;
        this.budget = budget;
        this.type = type;
        this.dimension = dimension;
    }

    ElementType type() {
        return type;
    }

    @Override
    public int dimension() {
        return dimension;
    }

    /** Rows written (live or not: the store tracks which are live). */
    @Override
    public int rows() {
        return rows;
    }

    int capacity() {
        return capacity;
    }

    /** Rows {@code [from, to)} as a tensor view, {@code to <= rows()}; valid until the next mutation. */
    Tensor vectors(int from, int to) {
        return vectors.rowSlice(from, to);
    }

    /** {@code 1 / ||row||} of the stored (decoded) row; 0 for a zero row. */
    /** The inverse norms of every row (f32, row order), for vectorized cosine passes; valid until the next add. */
    MemorySegment inverseNorms() {
        return inverseNorms;
    }

    float inverseNorm(int row) {
        return inverseNorms.getAtIndex(F32, row);
    }

    /**
     * Appends vectors already validated by the store (finite, of this dimension, norm in range): they are encoded to
     * the storage type with the backend's {@code convert} (round to nearest even, per-row symmetric quantization).
     */
    void append(float[][] raw) {
        if (raw.length == 0) {
            return;
        }
        reserve(rows + raw.length);
        try (Arena scratch = Arena.ofShared()) { // shared: the backend may convert from its pool threads
            Tensor staging = Tensor.allocate(scratch, ElementType.F32, Math.min(raw.length, ENCODE_CHUNK_ROWS),
                    dimension);
            for (int from = 0; from < raw.length; from += ENCODE_CHUNK_ROWS) {
                int count = Math.min(ENCODE_CHUNK_ROWS, raw.length - from);
                Tensor source = staging.rowSlice(0, count);
                for (int r = 0; r < count; r++) {
                    MemorySegment.copy(raw[from + r], 0, source.data(), F32, source.offset(r, 0), dimension);
                }
                backend.prepare().convert(source, vectors.rowSlice(rows + from, rows + from + count));
            }
        }
        float[] decoded = new float[dimension];
        for (int r = rows; r < rows + raw.length; r++) {
            read(r, decoded);
            inverseNorms.setAtIndex(F32, r, inverseNorm(decoded));
        }
        rows += raw.length;
    }

    /**
     * Appends {@code count} rows whose bytes (and scales) the caller writes straight into the returned view, as a
     * load does; the inverse norms are computed by {@link #finishRawAppend}.
     */
    Tensor beginRawAppend(int count) {
        reserve(rows + count);
        return vectors.rowSlice(rows, rows + count);
    }

    void finishRawAppend(int count) {
        float[] decoded = new float[dimension];
        for (int r = rows; r < rows + count; r++) {
            read(r, decoded);
            inverseNorms.setAtIndex(F32, r, inverseNorm(decoded));
        }
        rows += count;
    }

    /** Decodes row {@code row} into {@code into[0, d)}. */
    void read(int row, float[] into) {
        MemorySegment data = vectors.data();
        long at = vectors.offset(row, 0);
        switch (type) {
            case F32 -> MemorySegment.copy(data, F32, at, into, 0, dimension);
            case BF16 -> {
                for (int c = 0; c < dimension; c++) {
                    into[c] = FloatFormats.bf16ToFloat(data.get(I16, at + 2L * c));
                }
            }
            case F16 -> {
                for (int c = 0; c < dimension; c++) {
                    into[c] = FloatFormats.f16ToFloat(data.get(I16, at + 2L * c));
                }
            }
            case I8 -> {
                float scale = vectors.scale(row);
                for (int c = 0; c < dimension; c++) {
                    into[c] = data.get(ValueLayout.JAVA_BYTE, at + c) * scale;
                }
            }
            case I16 -> {
                float scale = vectors.scale(row);
                for (int c = 0; c < dimension; c++) {
                    into[c] = data.get(I16, at + 2L * c) * scale;
                }
            }
        }
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

    /** The cosine of a unit query with row {@code row}, decoded into {@code scratch}, clamped to {@code [-1, 1]}. */
    @Override
    public float graphCosine(float[] unitQuery, int row, float[] scratch) {
        if (type == ElementType.F32) {
            // Straight from the segment: copying each visited row to the heap first cost a quarter of the walk.
            return Math.clamp(f32Dot(unitQuery, vectors.data(), vectors.offset(row, 0)) * inverseNorm(row), -1f, 1f);
        }
        read(row, scratch);
        return Math.clamp(VectorUtil.dotProduct(unitQuery, scratch) * inverseNorm(row), -1f, 1f);
    }

    /**
     * {@link #graphCosine} of each of {@code rows[0, count)}: F32 rows four at a time (a random-row probe over 100k
     * rows: 106 ns a row against 142 ns one at a time, as their cache misses overlap); the values one call each
     * gives, up to the order {@code reduceLanes} adds the lanes in.
     */
    @Override
    public void graphCosines(float[] unitQuery, int[] rows, int count, float[] out, float[] scratch) {
        int i = 0;
        if (type == ElementType.F32) {
            MemorySegment data = vectors.data();
            for (; i + 4 <= count; i += 4) {
                f32Dots4(unitQuery, data, vectors.offset(rows[i], 0), vectors.offset(rows[i + 1], 0),
                        vectors.offset(rows[i + 2], 0), vectors.offset(rows[i + 3], 0), out, i);
                for (int k = i; k < i + 4; k++) {
                    out[k] = Math.clamp(out[k] * inverseNorm(rows[k]), -1f, 1f);
                }
            }
        }
        for (; i < count; i++) {
            out[i] = graphCosine(unitQuery, rows[i], scratch);
        }
    }

    /** {@link #f32Dot} of {@code q} with the four f32 rows at bytes {@code o0..o3} into {@code out[o, o + 4)}. */
    private void f32Dots4(float[] q, MemorySegment data, long o0, long o1, long o2, long o3, float[] out, int o) {
        FloatVector a0 = FloatVector.zero(LANES);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int i = 0;
        for (int bound = LANES.loopBound(dimension); i < bound; i += LANES.length()) {
            FloatVector qv = FloatVector.fromArray(LANES, q, i);
            long b = 4L * i;
            a0 = FloatVector.fromMemorySegment(LANES, data, o0 + b, ByteOrder.LITTLE_ENDIAN).fma(qv, a0);
            a1 = FloatVector.fromMemorySegment(LANES, data, o1 + b, ByteOrder.LITTLE_ENDIAN).fma(qv, a1);
            a2 = FloatVector.fromMemorySegment(LANES, data, o2 + b, ByteOrder.LITTLE_ENDIAN).fma(qv, a2);
            a3 = FloatVector.fromMemorySegment(LANES, data, o3 + b, ByteOrder.LITTLE_ENDIAN).fma(qv, a3);
        }
        float s0 = a0.reduceLanes(VectorOperators.ADD);
        float s1 = a1.reduceLanes(VectorOperators.ADD);
        float s2 = a2.reduceLanes(VectorOperators.ADD);
        float s3 = a3.reduceLanes(VectorOperators.ADD);
        for (; i < dimension; i++) {
            float qi = q[i];
            long b = 4L * i;
            s0 = Math.fma(qi, data.get(F32, o0 + b), s0);
            s1 = Math.fma(qi, data.get(F32, o1 + b), s1);
            s2 = Math.fma(qi, data.get(F32, o2 + b), s2);
            s3 = Math.fma(qi, data.get(F32, o3 + b), s3);
        }
        out[o] = s0;
        out[o + 1] = s1;
        out[o + 2] = s2;
        out[o + 3] = s3;
    }

    /**
     * Dot product of {@code q} with the f32 row at byte {@code at}, one accumulator. Four accumulators, as
     * Lucene's {@code VectorUtil.dotProduct} unrolls over arrays, were 1.5x slower here: with segment offsets
     * C2 kept a bounds check per load (a random-row probe: 211 ns against 137 ns a row).
     */
    private float f32Dot(float[] q, MemorySegment data, long at) {
        FloatVector acc = FloatVector.zero(LANES);
        int i = 0;
        for (int bound = LANES.loopBound(dimension); i < bound; i += LANES.length()) {
            acc = FloatVector.fromMemorySegment(LANES, data, at + 4L * i, ByteOrder.LITTLE_ENDIAN)
                    .fma(FloatVector.fromArray(LANES, q, i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < dimension; i++) {
            sum = Math.fma(q[i], data.get(F32, at + 4L * i), sum);
        }
        return sum;
    }

    /** Row {@code row} decoded into a new array. */
    float[] read(int row) {
        float[] out = new float[dimension];
        read(row, out);
        return out;
    }

    /** Copies row {@code from} over row {@code to} (bytes, scale and norm), for compaction; {@code to < from}. */
    void moveRow(int from, int to) {
        long rowBytes = (long) dimension * type.byteSize();
        MemorySegment.copy(vectors.data(), vectors.offset(from, 0), vectors.data(), vectors.offset(to, 0), rowBytes);
        if (type.isQuantized()) {
            vectors.setScale(to, vectors.scale(from));
        }
        inverseNorms.setAtIndex(F32, to, inverseNorms.getAtIndex(F32, from));
    }

    /** Forgets rows {@code [newRows, rows)}. */
    void truncate(int newRows) {
        rows = newRows;
    }

    /** Forgets every row and releases the memory (the next append allocates afresh). */
    void clear() {
        close();
        rows = 0;
        capacity = 0;
        vectors = null;
        inverseNorms = null;
    }

    @Override
    public void close() {
        if (arena != null) {
            arena.close();
            arena = null;
        }
    }

    private void reserve(int needed) {
        if (needed < 0 || needed > MAX_ROWS) {
            throw new IllegalStateException("a store holds at most " + MAX_ROWS + " rows, " + needed + " requested");
        }
        if (needed <= capacity) {
            return;
        }
        int grown = (int) Math.min(MAX_ROWS, Math.max((long) needed, Math.max(FIRST_CAPACITY, 2L * capacity)));
        Arena next = budget.arena();
        try {
            // the whole new buffer is taken from the budget before any of it is allocated (the old one stays counted
            // until the copy is done: that is the peak this growth needs)
            MemoryBudget.claim(next, Math.addExact(Math.multiplyExact(Math.multiplyExact((long) grown, dimension),
                    type.byteSize()), (type.isQuantized() ? 2L : 1L) * grown * Float.BYTES),
                    "MempipeEmbeddingStore growing to " + grown + " rows of " + dimension + " " + type);
            Tensor nextVectors = Tensor.allocate(next, type, grown, dimension);
            MemorySegment nextNorms = next.allocate((long) grown * Float.BYTES, 64);
            if (rows > 0) {
                long rowBytes = (long) dimension * type.byteSize();
                MemorySegment.copy(vectors.data(), 0, nextVectors.data(), 0, rows * rowBytes);
                if (type.isQuantized()) {
                    MemorySegment.copy(vectors.scales(), 0, nextVectors.scales(), 0, (long) rows * Float.BYTES);
                }
                MemorySegment.copy(inverseNorms, 0, nextNorms, 0, (long) rows * Float.BYTES);
            }
            close();
            arena = next;
            vectors = nextVectors;
            inverseNorms = nextNorms;
            capacity = grown;
        } catch (RuntimeException | Error e) {
            next.close();
            throw e;
        }
    }

    private static float inverseNorm(float[] row) {
        double sum = 0;
        for (float x : row) {
            sum += (double) x * x;
        }
        return sum == 0 ? 0f : (float) (1 / Math.sqrt(sum));
    }
}
