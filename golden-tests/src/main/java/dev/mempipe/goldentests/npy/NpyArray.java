package dev.mempipe.goldentests.npy;

import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * The contents of one .npy file: dtype, C-order shape of rank 0 to 2, and the raw little-endian element bytes.
 * Conversions to the contract's {@link Tensor}, {@link Indices} and {@link Bitmap} map rank 0 to
 * {@code [1, 1]} and rank 1 {@code [n]} to {@code [1, n]}.
 *
 * @param name  where the array came from or is going (a file name), used in error messages
 * @param dtype element type
 * @param shape dimensions, rank 0 to 2
 * @param data  {@code product(shape) * dtype.itemSize()} bytes, little-endian, C order; held, not copied
 */
public record NpyArray(String name, NpyDtype dtype, long[] shape, byte[] data) {
    public NpyArray {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(data, "data");
        if (shape.length > 3) {
            throw new IllegalArgumentException(name + ": rank " + shape.length + " shape "
                    + Arrays.toString(shape) + " is not supported (rank 0 to 3 only)");
        }
        long count = 1;
        for (long dim : shape) {
            if (dim < 0) {
                throw new IllegalArgumentException(name + ": negative dimension in shape " + Arrays.toString(shape));
            }
            count = Math.multiplyExact(count, dim);
        }
        if (Math.multiplyExact(count, dtype.itemSize()) != data.length) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " of " + dtype
                    + " needs " + count * dtype.itemSize() + " bytes, got " + data.length);
        }
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements. */
    public long size() {
        long count = 1;
        for (long dim : shape) {
            count *= dim;
        }
        return count;
    }

    /** Rows of the contract view: 1 for rank 0 and 1; the first dimension otherwise. */
    public long rows() {
        return shape.length >= 2 ? shape[0] : 1;
    }

    /** Columns of the contract view: 1 for rank 0; a rank 3 {@code [L, H, d]} array (C order) is {@code [L, H*d]}. */
    public int cols() {
        long cols = switch (shape.length) {
            case 0 -> 1;
            case 1 -> shape[0];
            case 2 -> shape[1];
            default -> Math.multiplyExact(shape[1], shape[2]);
        };
        if (cols > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + ": row width " + cols + " exceeds " + Integer.MAX_VALUE);
        }
        return (int) cols;
    }

    /** The same bytes under another shape of the same size, e.g. a {@code [1, n]} tensor as {@code [n]}. */
    public NpyArray reshape(long... newShape) {
        return new NpyArray(name, dtype, newShape, data);
    }

    /** The same array under another name. */
    public NpyArray named(String newName) {
        return new NpyArray(newName, dtype, shape, data);
    }

    // ---- to the contract's types ----

    /**
     * A new contiguous float tensor in {@code arena}.
     *
     * @param type F32, F16 or BF16; must match the dtype ({@code <f4}, {@code <f2}, {@code <u2})
     */
    public Tensor toTensor(Arena arena, ElementType type) {
        if (type.isQuantized()) {
            throw new IllegalArgumentException(name + ": " + type + " tensors need their per-row scales: use "
                    + "toTensor(arena, type, scales) with the '<name>_scale' array");
        }
        return toTensor(arena, type, null);
    }

    /**
     * A new contiguous tensor in {@code arena}; for I8/I16 the separate {@code <name>_scale} f32 array gives
     * one scale per row.
     *
     * @param scales {@code <f4} with one element per row for I8/I16; null for float types
     */
    public Tensor toTensor(Arena arena, ElementType type, NpyArray scales) {
        if (NpyDtype.of(type) != dtype) {
            throw new IllegalArgumentException(name + ": dtype " + dtype + " cannot be read as a " + type
                    + " tensor (expected " + NpyDtype.of(type) + ")");
        }
        Tensor t = Tensor.allocate(arena, type, rows(), cols());
        MemorySegment.copy(MemorySegment.ofArray(data), 0, t.data(), 0, data.length);
        if (type.isQuantized()) {
            if (scales == null) {
                throw new IllegalArgumentException(name + ": a " + type + " tensor needs its scales array");
            }
            if (scales.dtype != NpyDtype.F32 || scales.size() != rows()) {
                throw new IllegalArgumentException(scales.name + ": scales of " + name + " must be " + NpyDtype.F32
                        + " with one element per row (" + rows() + "), got " + scales.dtype + " "
                        + Arrays.toString(scales.shape));
            }
            MemorySegment.copy(MemorySegment.ofArray(scales.data), 0, t.scales(), 0, scales.data.length);
        } else if (scales != null) {
            throw new IllegalArgumentException(name + ": scales given for float type " + type);
        }
        return t;
    }

    /** A new index list in {@code arena} from {@code <i4} or {@code <i8} (every value must fit an int). */
    public Indices toIndices(Arena arena) {
        if (dtype != NpyDtype.I32 && dtype != NpyDtype.I64) {
            throw new IllegalArgumentException(name + ": indices must be <i4 or <i8, got " + dtype);
        }
        long[] values = toLongs();
        if (values.length > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + ": " + values.length + " indices do not fit an Indices");
        }
        Indices out = Indices.allocate(arena, values.length);
        for (int i = 0; i < values.length; i++) {
            if (values[i] < Integer.MIN_VALUE || values[i] > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(name + ": index " + values[i] + " at position " + i
                        + " does not fit an int");
            }
            out.set(i, (int) values[i]);
        }
        return out;
    }

    /** A new bitmap in {@code arena} from {@code |u1} holding one 0 or 1 per bit. */
    public Bitmap toBitmap(Arena arena) {
        if (dtype != NpyDtype.U8) {
            throw new IllegalArgumentException(name + ": a bitmap must be |u1 with one 0/1 per element, got " + dtype);
        }
        Bitmap out = Bitmap.allocate(arena, data.length);
        for (int i = 0; i < data.length; i++) {
            if (data[i] != 0 && data[i] != 1) {
                throw new IllegalArgumentException(name + ": bitmap element " + i + " is " + (data[i] & 0xFF)
                        + ", expected 0 or 1");
            }
            out.set(i, data[i] == 1);
        }
        return out;
    }

    /** Every element as a double: float dtypes decoded (BF16 bits as BF16), integer dtypes as their value. */
    public double[] toDoubles() {
        ByteBuffer b = buffer();
        int n = (int) size();
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = switch (dtype) {
                case F32 -> b.getFloat();
                case F16 -> Float.float16ToFloat(b.getShort());
                case BF16_BITS -> Float.intBitsToFloat((b.getShort() & 0xFFFF) << 16);
                case I8 -> b.get();
                case I16 -> b.getShort();
                case I32 -> b.getInt();
                case I64 -> b.getLong();
                case U8 -> b.get() & 0xFF;
                case F64 -> b.getDouble();
            };
        }
        return out;
    }

    /** Every element of an integer dtype as a long ({@code <u2} as unsigned bits). */
    public long[] toLongs() {
        ByteBuffer b = buffer();
        int n = (int) size();
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = switch (dtype) {
                case I8 -> b.get();
                case I16 -> b.getShort();
                case BF16_BITS -> b.getShort() & 0xFFFF;
                case I32 -> b.getInt();
                case I64 -> b.getLong();
                case U8 -> b.get() & 0xFF;
                case F32, F16, F64 -> throw new IllegalArgumentException(name + ": " + dtype
                        + " is not an integer dtype");
            };
        }
        return out;
    }

    private ByteBuffer buffer() {
        return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    }

    // ---- from the contract's types ----

    /** The elements (codes for I8/I16) of {@code t} as a {@code [rows, cols]} array; see {@link #scalesOf}. */
    public static NpyArray of(String name, Tensor t) {
        int rowBytes = Math.multiplyExact(t.cols(), t.type().byteSize());
        byte[] bytes = new byte[Math.multiplyExact(Math.toIntExact(t.rows()), rowBytes)];
        for (long r = 0; r < t.rows(); r++) {
            MemorySegment.copy(t.data(), t.offset(r, 0), MemorySegment.ofArray(bytes), r * rowBytes, rowBytes);
        }
        return new NpyArray(name, NpyDtype.of(t.type()), new long[] {t.rows(), t.cols()}, bytes);
    }

    /** The per-row scales of an I8/I16 tensor as an f32 {@code [rows]} array. */
    public static NpyArray scalesOf(String name, Tensor t) {
        if (!t.type().isQuantized()) {
            throw new IllegalArgumentException(name + ": a " + t.type() + " tensor has no scales");
        }
        byte[] bytes = new byte[Math.toIntExact(t.rows() * Float.BYTES)];
        MemorySegment.copy(t.scales(), 0, MemorySegment.ofArray(bytes), 0, bytes.length);
        return new NpyArray(name, NpyDtype.F32, new long[] {t.rows()}, bytes);
    }

    /** An index list as {@code <i4 [n]}. */
    public static NpyArray of(String name, Indices idx) {
        byte[] bytes = new byte[Math.multiplyExact(idx.length(), Integer.BYTES)];
        MemorySegment.copy(idx.data(), 0, MemorySegment.ofArray(bytes), 0, bytes.length);
        return new NpyArray(name, NpyDtype.I32, new long[] {idx.length()}, bytes);
    }

    /** A bitmap as {@code |u1 [n]} holding 0 or 1 per bit. */
    public static NpyArray of(String name, Bitmap bits) {
        byte[] bytes = new byte[Math.toIntExact(bits.length())];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (bits.get(i) ? 1 : 0);
        }
        return new NpyArray(name, NpyDtype.U8, new long[] {bytes.length}, bytes);
    }

    /** Doubles as {@code <f8} of the given shape. */
    public static NpyArray ofDoubles(String name, double[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(values.length, Double.BYTES))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (double v : values) {
            b.putDouble(v);
        }
        return new NpyArray(name, NpyDtype.F64, shape, b.array());
    }

    /** Ints as {@code <i4 [n]}. */
    public static NpyArray ofInts(String name, int... values) {
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(values.length, Integer.BYTES))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putInt(v);
        }
        return new NpyArray(name, NpyDtype.I32, new long[] {values.length}, b.array());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NpyArray a && dtype == a.dtype && Arrays.equals(shape, a.shape)
                && Arrays.equals(data, a.data);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * dtype.hashCode() + Arrays.hashCode(shape)) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + Arrays.toString(shape);
    }
}
