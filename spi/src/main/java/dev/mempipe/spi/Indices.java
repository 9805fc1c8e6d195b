package dev.mempipe.spi;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * A list of {@code int} row numbers (little-endian int32) over a {@link MemorySegment}: the index inputs
 * and outputs of the contract ({@code idx}, {@code blocks}, {@code positions}, BM25 offsets and tokens).
 *
 * <p>The length is the capacity of the view; ops that produce a variable number of indices write a prefix
 * and return its length. Thread-safety as for {@link Tensor}: a view over memory the caller owns.
 */
public final class Indices {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;

    private final MemorySegment data;
    private final int length;

    private Indices(MemorySegment data, int length) {
        this.data = data;
        this.length = length;
    }

    /** Views {@code length} ints at the start of {@code data}. */
    public static Indices wrap(MemorySegment data, int length) {
        Objects.requireNonNull(data, "data");
        if (length < 0) {
            throw new IllegalArgumentException("length must be >= 0, got " + length);
        }
        if (data.byteSize() < (long) length * Integer.BYTES) {
            throw new IllegalArgumentException("data segment holds " + data.byteSize() + " bytes but " + length
                    + " ints need " + (long) length * Integer.BYTES);
        }
        return new Indices(data, length);
    }

    /** Allocates {@code length} zeroed ints in {@code arena}. */
    public static Indices allocate(Arena arena, int length) {
        if (length < 0) {
            throw new IllegalArgumentException("length must be >= 0, got " + length);
        }
        return new Indices(arena.allocate(Math.max(1, (long) length * Integer.BYTES), 64), length);
    }

    /** Copies {@code values} into a new list in {@code arena}. */
    public static Indices of(Arena arena, int... values) {
        Indices out = allocate(arena, values.length);
        MemorySegment.copy(values, 0, out.data, I32, 0, values.length);
        return out;
    }

    public MemorySegment data() {
        return data;
    }

    public int length() {
        return length;
    }

    public boolean isAlive() {
        return data.scope().isAlive();
    }

    public int get(int i) {
        Objects.checkIndex(i, length);
        return data.getAtIndex(I32, i);
    }

    public void set(int i, int value) {
        Objects.checkIndex(i, length);
        data.setAtIndex(I32, i, value);
    }

    /** The first {@code n} entries as a view. */
    public Indices prefix(int n) {
        Objects.checkFromToIndex(0, n, length);
        return new Indices(data, n);
    }

    /** Entries {@code [from, to)} as a view. */
    public Indices slice(int from, int to) {
        Objects.checkFromToIndex(from, to, length);
        return new Indices(data.asSlice((long) from * Integer.BYTES, (long) (to - from) * Integer.BYTES), to - from);
    }

    public int[] toArray() {
        int[] out = new int[length];
        MemorySegment.copy(data, I32, 0, out, 0, length);
        return out;
    }

    @Override
    public String toString() {
        return "Indices[" + length + "]";
    }
}
