package dev.mempipe.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A kernel's parameters as {@code cuLaunchKernel} takes them: an array of pointers, one per parameter, each to
 * the parameter's value. Values must match the kernel's C types: {@link #pointer} and {@link #int64} for
 * pointers and {@code long long}, {@link #int32} for {@code int}, {@link #f32} for {@code float}.
 *
 * <p>Memory comes from the caller's arena, which must outlive the launch. Not thread-safe.
 */
public final class KernelArgs {
    private static final int MAX = 24;
    private final MemorySegment values;
    private final MemorySegment pointers;
    private int count;

    public KernelArgs(Arena arena) {
        values = arena.allocate(8L * MAX, 8);
        pointers = arena.allocate(ValueLayout.ADDRESS.byteSize() * MAX, 8);
    }

    public KernelArgs pointer(long devicePointer) {
        return int64(devicePointer);
    }

    public KernelArgs int64(long value) {
        values.set(ValueLayout.JAVA_LONG, slot(), value);
        return this;
    }

    public KernelArgs int32(int value) {
        values.set(ValueLayout.JAVA_INT, slot(), value);
        return this;
    }

    public KernelArgs f32(float value) {
        values.set(ValueLayout.JAVA_FLOAT, slot(), value);
        return this;
    }

    /** The {@code void**} array. */
    public MemorySegment array() {
        return pointers;
    }

    public int count() {
        return count;
    }

    private long slot() {
        if (count == MAX) {
            throw new IllegalStateException("a kernel takes at most " + MAX + " parameters here");
        }
        long at = 8L * count;
        pointers.setAtIndex(ValueLayout.ADDRESS, count, values.asSlice(at, 8));
        count++;
        return at;
    }
}
