package dev.mempipe.core.memory;

import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.Objects;

/** Argument checks shared by the memories, so that bad input fails with the same kind of message everywhere. */
final class MemoryArgs {
    private MemoryArgs() {
    }

    static Arena arena(Arena arena) {
        return Objects.requireNonNull(arena, "arena");
    }

    /** Bytes of a {@code [rows, cols]} tensor of {@code type}, with its per-row scales when quantized. */
    static long tensorBytes(ElementType type, long rows, long cols) {
        long data = Math.multiplyExact(Math.multiplyExact(rows, cols), type.byteSize());
        return type.isQuantized() ? Math.addExact(data, Math.multiplyExact(rows, Float.BYTES)) : data;
    }

    static int positive(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, got " + value);
        }
        return value;
    }

    static long positive(String name, long value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, got " + value);
        }
        return value;
    }

    /**
     * Checks that {@code t} is a live tensor of {@code cols} columns.
     *
     * @param expected how the caller derives {@code cols}, e.g. {@code "Hkv*d = 8*128"}, for the message
     */
    static void rowsOf(String name, Tensor t, int cols, String expected) {
        Objects.requireNonNull(t, name);
        if (t.cols() != cols) {
            throw new IllegalArgumentException(name + " must have " + cols + " columns (" + expected + "), got "
                    + t.shapeString());
        }
        if (!t.isAlive()) {
            throw new IllegalStateException(name + " " + t.shapeString() + " is backed by a closed arena");
        }
    }

    /** Checks that a vector argument (a query) is {@code [1, cols]}. */
    static void vectorOf(String name, Tensor t, int cols) {
        rowsOf(name, t, cols, "the memory's dimension");
        if (t.rows() != 1) {
            throw new IllegalArgumentException(name + " must be one row [1, " + cols + "], got " + t.shapeString());
        }
    }

    /** Fails when appending {@code adding} rows to {@code held} would exceed {@code capacity}. */
    static void room(String memory, long capacity, long held, long adding, String unit) {
        if (adding > capacity - held) {
            throw new IllegalStateException(memory + " is full: capacity " + capacity + " " + unit + ", holds " + held
                    + ", cannot append " + adding + " more");
        }
    }

    static void k(int k) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1, got " + k);
        }
    }
}
