package dev.mempipe.spi;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * A row-major matrix view {@code [rows, cols]} over a {@link MemorySegment}: element type, row stride in
 * bytes and, for the integer types, one f32 scale per row in a second segment. A vector {@code s[n]} is a
 * tensor of one row ({@code [1, n]}).
 *
 * <p>A tensor owns nothing: the segments belong to the {@link Arena} the caller allocated them from, and
 * closing that arena invalidates the view (ops then fail with {@link IllegalStateException} naming the
 * argument). Rows may start at any byte offset and be padded (stride larger than a row); all values are
 * little-endian.
 *
 * <p>Thread-safety: a tensor is an immutable view; concurrent reads are safe, concurrent writes to the
 * same elements are the caller's to order, as with any memory.
 */
public final class Tensor {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final long ALIGNMENT = 64;

    private final MemorySegment data;
    private final MemorySegment scales;
    private final ElementType type;
    private final long rows;
    private final int cols;
    private final long rowStride;
    private final PinnedTensor pin;

    private Tensor(MemorySegment data, MemorySegment scales, ElementType type, long rows, int cols, long rowStride) {
        this(data, scales, type, rows, cols, rowStride, null);
    }

    private Tensor(MemorySegment data, MemorySegment scales, ElementType type, long rows, int cols, long rowStride,
                   PinnedTensor pin) {
        this.data = data;
        this.scales = scales;
        this.type = type;
        this.rows = rows;
        this.cols = cols;
        this.rowStride = rowStride;
        this.pin = pin;
    }

    /**
     * Views existing memory as a tensor.
     *
     * @param data      the elements; row r starts at byte {@code r * rowStride}
     * @param type      element type
     * @param rows      row count, {@code >= 0}
     * @param cols      elements per row, {@code >= 0}
     * @param rowStride bytes from one row's start to the next, {@code >= cols * type.byteSize()}
     * @param scales    one little-endian f32 per row for I8/I16; must be null for float types
     * @throws IllegalArgumentException naming the argument when a size, stride or segment does not fit
     */
    public static Tensor wrap(MemorySegment data, ElementType type, long rows, int cols, long rowStride,
                              MemorySegment scales) {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(type, "type");
        if (rows < 0) {
            throw new IllegalArgumentException("rows must be >= 0, got " + rows);
        }
        if (cols < 0) {
            throw new IllegalArgumentException("cols must be >= 0, got " + cols);
        }
        long rowBytes = (long) cols * type.byteSize();
        if (rowStride < rowBytes) {
            throw new IllegalArgumentException("rowStride " + rowStride + " is smaller than a row of " + cols
                    + " " + type + " elements (" + rowBytes + " bytes)");
        }
        long needed = rows == 0 ? 0 : Math.addExact(Math.multiplyExact(rows - 1, rowStride), rowBytes);
        if (data.byteSize() < needed) {
            throw new IllegalArgumentException("data segment holds " + data.byteSize() + " bytes but a ["
                    + rows + ", " + cols + "] " + type + " tensor with row stride " + rowStride + " needs " + needed);
        }
        if (type.isQuantized()) {
            if (scales == null) { // not requireNonNull(scales, message): that builds the message on every call
                throw new NullPointerException("scales (required for " + type + ")");
            }
            if (scales.byteSize() < rows * Float.BYTES) {
                throw new IllegalArgumentException("scales segment holds " + scales.byteSize() + " bytes but "
                        + rows + " rows need " + rows * Float.BYTES);
            }
        } else if (scales != null) {
            throw new IllegalArgumentException("scales must be null for float type " + type);
        }
        return new Tensor(data, scales, type, rows, cols, rowStride);
    }

    /** Views a contiguous segment (row stride = one row) as a tensor of a float type. */
    public static Tensor wrap(MemorySegment data, ElementType type, long rows, int cols) {
        return wrap(data, type, rows, cols, (long) cols * type.byteSize(), null);
    }

    /** Allocates a zero-filled contiguous tensor (and its scales for integer types) in {@code arena}. */
    public static Tensor allocate(Arena arena, ElementType type, long rows, int cols) {
        Objects.requireNonNull(arena, "arena");
        Objects.requireNonNull(type, "type");
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("shape must be non-negative, got [" + rows + ", " + cols + "]");
        }
        long rowBytes = (long) cols * type.byteSize();
        MemorySegment data = arena.allocate(Math.max(1, Math.multiplyExact(rows, rowBytes)), ALIGNMENT);
        MemorySegment scales = type.isQuantized() ? arena.allocate(Math.max(1, rows * Float.BYTES), ALIGNMENT) : null;
        return new Tensor(data, scales, type, rows, cols, rowBytes);
    }

    /** Copies row-major f32 values into a new F32 tensor {@code [rows, cols]} in {@code arena}. */
    public static Tensor of(Arena arena, float[] values, long rows, int cols) {
        Objects.requireNonNull(values, "values");
        if (rows * cols != values.length) {
            throw new IllegalArgumentException("values has " + values.length + " elements but shape [" + rows
                    + ", " + cols + "] needs " + rows * cols);
        }
        Tensor t = allocate(arena, ElementType.F32, rows, cols);
        MemorySegment.copy(values, 0, t.data, F32, 0, values.length);
        return t;
    }

    /** Copies f32 values into a new F32 vector {@code [1, n]}. */
    public static Tensor vector(Arena arena, float... values) {
        return of(arena, values, 1, values.length);
    }

    /**
     * Encodes row-major f32 values into a new tensor of {@code type}: float types round to nearest even,
     * integer types are quantized symmetrically per row as the contract says.
     */
    public static Tensor encode(Arena arena, ElementType type, float[] values, long rows, int cols) {
        Tensor source = of(arena, values, rows, cols);
        if (type == ElementType.F32) {
            return source;
        }
        Tensor t = allocate(arena, type, rows, cols);
        for (long r = 0; r < rows; r++) {
            if (type.isQuantized()) {
                float maxAbs = 0;
                for (int c = 0; c < cols; c++) {
                    maxAbs = Math.max(maxAbs, Math.abs(source.get(r, c)));
                }
                t.setScale(r, maxAbs / type.maxCode());
            }
            for (int c = 0; c < cols; c++) {
                t.set(r, c, source.get(r, c));
            }
        }
        return t;
    }

    public MemorySegment data() {
        return data;
    }

    /** The per-row f32 scales of an integer tensor, or null for float types. */
    public MemorySegment scales() {
        return scales;
    }

    public ElementType type() {
        return type;
    }

    public long rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** Bytes between the starts of consecutive rows. */
    public long rowStride() {
        return rowStride;
    }

    /** Elements in the tensor ({@code rows * cols}). */
    public long size() {
        return rows * cols;
    }

    /**
     * The device copy this view's memory is pinned to ({@link Backend#pin(Tensor)}), or null for plain host
     * memory. Views made with {@link #rowSlice}, {@link #columns} and {@link #reshape} keep the pin, so a device
     * backend finds its copy of any part of a pinned tensor from the byte offset of the view's memory within
     * the pinned tensor's memory. The host memory stays authoritative: a backend that does not own the pin
     * (the CPU) simply reads the host memory.
     */
    public PinnedTensor pin() {
        return pin;
    }

    /** This view carrying {@code pin} (for {@link Backend#pin} implementations); the memory is the same. */
    public Tensor withPin(PinnedTensor pin) {
        return new Tensor(data, scales, type, rows, cols, rowStride, pin);
    }

    /** Whether the memory behind this view (and its scales) can still be accessed. */
    public boolean isAlive() {
        return data.scope().isAlive() && (scales == null || scales.scope().isAlive());
    }

    /** Byte offset of element {@code (row, col)} in {@link #data()}. */
    public long offset(long row, int col) {
        return row * rowStride + (long) col * type.byteSize();
    }

    /** The decoded value of element {@code (row, col)} as f32 (integer types: code times the row's scale). */
    public float get(long row, int col) {
        checkIndex(row, col);
        long at = offset(row, col);
        return switch (type) {
            case F32 -> data.get(F32, at);
            case F16 -> FloatFormats.f16ToFloat(data.get(I16, at));
            case BF16 -> FloatFormats.bf16ToFloat(data.get(I16, at));
            case I8 -> data.get(ValueLayout.JAVA_BYTE, at) * scale(row);
            case I16 -> data.get(I16, at) * scale(row);
        };
    }

    /**
     * Stores {@code value} at {@code (row, col)}: float types round to nearest even; integer types quantize
     * with the row's current scale ({@code round_half_even(value / scale)}, clamped; code 0 when the scale is 0).
     */
    public void set(long row, int col, float value) {
        checkIndex(row, col);
        long at = offset(row, col);
        switch (type) {
            case F32 -> data.set(F32, at, value);
            case F16 -> data.set(I16, at, FloatFormats.floatToF16(value));
            case BF16 -> data.set(I16, at, FloatFormats.floatToBf16(value));
            case I8, I16 -> setCode(row, col, quantizeCode(value, scale(row), type.maxCode()));
        }
    }

    /** The raw integer code of an I8/I16 element. */
    public int code(long row, int col) {
        checkIndex(row, col);
        return switch (type) {
            case I8 -> data.get(ValueLayout.JAVA_BYTE, offset(row, col));
            case I16 -> data.get(I16, offset(row, col));
            default -> throw new IllegalStateException("code() needs an integer tensor, this one is " + type);
        };
    }

    /** Stores a raw integer code into an I8/I16 element; fails when it is outside the type's range. */
    public void setCode(long row, int col, int code) {
        checkIndex(row, col);
        int max = type.maxCode();
        if (code < -max - 1 || code > max) {
            throw new IllegalArgumentException("code " + code + " is outside the " + type + " range");
        }
        if (type == ElementType.I8) {
            data.set(ValueLayout.JAVA_BYTE, offset(row, col), (byte) code);
        } else {
            data.set(I16, offset(row, col), (short) code);
        }
    }

    /** The f32 scale of row {@code row} of an integer tensor. */
    public float scale(long row) {
        if (scales == null) {
            throw new IllegalStateException("scale() needs an integer tensor, this one is " + type);
        }
        Objects.checkIndex(row, rows);
        return scales.get(F32, row * Float.BYTES);
    }

    public void setScale(long row, float scale) {
        if (scales == null) {
            throw new IllegalStateException("setScale() needs an integer tensor, this one is " + type);
        }
        Objects.checkIndex(row, rows);
        scales.set(F32, row * Float.BYTES, scale);
    }

    /** A view of rows {@code [from, to)} sharing this tensor's memory. */
    public Tensor rowSlice(long from, long to) {
        Objects.checkFromToIndex(from, to, rows);
        if (from == to) {
            return new Tensor(data.asSlice(0, 0), scales == null ? null : scales.asSlice(0, 0), type, 0, cols,
                    rowStride, pin);
        }
        long bytes = (to - from - 1) * rowStride + (long) cols * type.byteSize();
        MemorySegment d = data.asSlice(from * rowStride, bytes);
        MemorySegment s = scales == null ? null : scales.asSlice(from * Float.BYTES, (to - from) * Float.BYTES);
        return new Tensor(d, s, type, to - from, cols, rowStride, pin);
    }

    /**
     * A view of columns {@code [fromCol, fromCol + count)} of every row (one KV head's band of a token row),
     * sharing this tensor's memory and, for integer types, its row scales (which apply to the whole row).
     */
    public Tensor columns(int fromCol, int count) {
        Objects.checkFromIndexSize(fromCol, count, cols);
        // an empty view may sit on an empty segment, where even the column offset is out of bounds
        long start = rows == 0 ? 0 : (long) fromCol * type.byteSize();
        long bytes = rows == 0 ? 0 : (rows - 1) * rowStride + (long) count * type.byteSize();
        return new Tensor(data.asSlice(start, bytes), scales, type, rows, count, rowStride, pin);
    }

    /** A view of the same memory with another row count and width (contiguous tensors only). */
    public Tensor reshape(long newRows, int newCols) {
        if (rowStride != (long) cols * type.byteSize() || type.isQuantized()) {
            throw new IllegalStateException("reshape needs a contiguous float tensor");
        }
        if (newRows * newCols != rows * cols) {
            throw new IllegalArgumentException("cannot reshape [" + rows + ", " + cols + "] to [" + newRows
                    + ", " + newCols + "]");
        }
        return new Tensor(data, null, type, newRows, newCols, (long) newCols * type.byteSize(), pin);
    }

    /** All elements decoded to f32, row-major (for tests and small tensors). */
    public float[] toFloatArray() {
        if (size() > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("tensor of " + size() + " elements does not fit a Java array");
        }
        float[] out = new float[(int) size()];
        for (long r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[(int) (r * cols + c)] = get(r, c);
            }
        }
        return out;
    }

    /** Shape as the contract writes it, e.g. {@code [16, 128] BF16}. */
    public String shapeString() {
        return "[" + rows + ", " + cols + "] " + type;
    }

    @Override
    public String toString() {
        return "Tensor" + shapeString();
    }

    /**
     * The contract's symmetric quantization of one value: {@code round_half_even(x / scale)} with the division
     * in f32, clamped to {@code [-maxCode, maxCode]}; 0 when the scale is 0.
     */
    public static int quantizeCode(float value, float scale, int maxCode) {
        if (scale == 0) {
            return 0;
        }
        float q = (float) Math.rint(value / scale);
        return (int) Math.max(-maxCode, Math.min(maxCode, q));
    }

    private void checkIndex(long row, int col) {
        Objects.checkIndex(row, rows);
        Objects.checkIndex(col, cols);
    }
}
