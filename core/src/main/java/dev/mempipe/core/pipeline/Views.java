package dev.mempipe.core.pipeline;

import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;

/**
 * Views the pipelines name by what they hold: one KV head's band of columns of a token row, and the first columns
 * of a scratch row sized for the memory's capacity. Views share the memory they view.
 */
public final class Views {
    private Views() {
    }

    /**
     * Columns {@code [fromCol, fromCol + cols)} of every row (with the row scales of an integer tensor), keeping a
     * device pin so that a device reads its copy of the band; {@link Tensor#columns} checks the range.
     */
    public static Tensor columns(Tensor t, int fromCol, int cols) {
        return t.columns(fromCol, cols);
    }

    /** KV head {@code head}'s band {@code [L, d]} of keys or values {@code [L, Hkv*d]}. */
    public static Tensor kvHead(Tensor kv, int head, int headDim) {
        return columns(kv, head * headDim, headDim);
    }

    /** The first {@code cols} columns of each row of a float tensor. */
    public static Tensor firstColumns(Tensor t, int cols) {
        return columns(t, 0, cols);
    }

    /** Row {@code row} as a vector {@code [1, cols]}. */
    public static Tensor row(Tensor t, long row) {
        return t.rowSlice(row, row + 1);
    }

    /** A new F32 scratch tensor; shape checks are the caller's. */
    static Tensor f32(java.lang.foreign.Arena arena, long rows, long cols) {
        return Tensor.allocate(arena, ElementType.F32, rows, Math.toIntExact(cols));
    }
}
