package dev.mempipe.goldentests;

import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One case of a property: its seeded random source, a shared arena for its memory (closed after the case),
 * the shrink level, and a record of what the case passed to the backend so that a failure can be reported.
 *
 * <p>Shapes are drawn first and then shrunk ({@link #rows}, {@link #cols}): the same seed at a deeper shrink
 * level gives a smaller case of the same kind. Inputs registered with {@link #input} must come back
 * unchanged; outputs made by {@link #output} are filled with a sentinel (all bytes {@code 0xFF}: NaN in every
 * float type, -1 in every integer type) and surrounded by guard bytes that must stay untouched.
 *
 * <p>Not thread-safe: one trial belongs to one test thread (its memory is shared so that a backend may use
 * worker threads).
 */
public final class Trial implements AutoCloseable {
    /** The sentinel byte of outputs and guards. */
    public static final byte SENTINEL = (byte) 0xFF;

    private final long seed;
    private final SplittableRandom random;
    private final Arena arena = Arena.ofShared();
    private final int rowShrink;
    private final int colShrink;
    private boolean rowsReducible;
    private boolean colsReducible;
    private final List<String> shapes = new ArrayList<>();
    private final Map<String, Object> params = new LinkedHashMap<>();
    private final List<Snapshot> inputs = new ArrayList<>();
    private final List<Guarded> outputs = new ArrayList<>();
    private final Map<Object, Layout> layouts = new IdentityHashMap<>();

    Trial(long seed, int rowShrink, int colShrink) {
        this.seed = seed;
        this.random = new SplittableRandom(seed);
        this.rowShrink = rowShrink;
        this.colShrink = colShrink;
    }

    public long seed() {
        return seed;
    }

    public SplittableRandom random() {
        return random;
    }

    /** The case's memory; shared so that a backend may read it from worker threads. */
    public Arena arena() {
        return arena;
    }

    /** A row count (or any "how many" size) drawn as {@code drawn}, shrunk; never below 1. */
    public int rows(int drawn) {
        return rows(drawn, 1);
    }

    /** A row count drawn as {@code drawn}, shrunk, never below {@code min}. */
    public int rows(int drawn, int min) {
        int v = shrunk(drawn, min, rowShrink);
        rowsReducible |= v > min;
        return v;
    }

    /** A row width (d) drawn as {@code drawn}, shrunk; never below 1. */
    public int cols(int drawn) {
        return cols(drawn, 1);
    }

    public int cols(int drawn, int min) {
        int v = shrunk(drawn, min, colShrink);
        colsReducible |= v > min;
        return v;
    }

    private static int shrunk(int drawn, int min, int shifts) {
        if (drawn <= min) {
            return drawn;
        }
        return Math.max(min, drawn >> shifts);
    }

    /** Records a scalar parameter for the report and returns it. */
    public <T> T param(String name, T value) {
        params.put(name, value);
        return value;
    }

    /** Registers an input tensor: it is described in a report and must be unchanged after the case. */
    public Tensor input(String name, Tensor t) {
        shapes.add(name + "=" + describe(t));
        inputs.add(new Snapshot(name, t.data(), keep(t.data()), t.scales(), keep(t.scales())));
        return t;
    }

    /** Registers an index input (described, must be unchanged). */
    public Indices input(String name, Indices i) {
        shapes.add(name + "=" + describe(i));
        inputs.add(new Snapshot(name, i.data(), keep(i.data()), null, null));
        return i;
    }

    /** Registers a bitmap input (described, must be unchanged). */
    public Bitmap input(String name, Bitmap b) {
        shapes.add(name + "=Bitmap[" + b.length() + "]");
        inputs.add(new Snapshot(name, b.words(), keep(b.words()), null, null));
        return b;
    }

    /** Inputs up to this size are kept as a copy (a failure names the changed byte); larger ones as a checksum. */
    private static final long COPY_LIMIT = 1 << 20;

    /**
     * What an input held when registered: an off-heap copy of a small one; a checksum of a large one (inputs of
     * the hardware-edge cases reach 64 MiB, and a copy costs fresh memory, a write and a compare of that size,
     * where a checksum costs two reads).
     */
    private Kept keep(MemorySegment data) {
        if (data == null) {
            return null;
        }
        if (data.byteSize() > COPY_LIMIT) {
            return new Kept(null, checksum(data));
        }
        MemorySegment c = arena.allocate(Math.max(1, data.byteSize()), 1);
        MemorySegment.copy(data, 0, c, 0, data.byteSize());
        return new Kept(c.asSlice(0, data.byteSize()), 0);
    }

    /** An order-sensitive 64-bit checksum of every byte. */
    private static long checksum(MemorySegment data) {
        long size = data.byteSize();
        long h = size;
        long i = 0;
        for (; i + Long.BYTES <= size; i += Long.BYTES) {
            h = (h ^ (data.get(ValueLayout.JAVA_LONG_UNALIGNED, i) + i * 0x632BE59BD9B4E019L)) * 0x9E3779B97F4A7C15L;
        }
        for (; i < size; i++) {
            h = (h ^ (data.get(ValueLayout.JAVA_BYTE, i) + i * 0x632BE59BD9B4E019L)) * 0x9E3779B97F4A7C15L;
        }
        return h ^ (h >>> 31);
    }

    /** An input as registered: a copy, or its checksum {@code sum} when {@code copy} is null. */
    private record Kept(MemorySegment copy, long sum) {
        /** Null when {@code now} holds what was kept, otherwise where it changed. */
        String change(MemorySegment now) {
            if (copy == null) {
                return Trial.checksum(now) == sum ? null : "its checksum over " + now.byteSize() + " bytes changed";
            }
            long at = now.mismatch(copy);
            return at < 0 ? null : "byte " + at + " of its memory";
        }
    }

    /**
     * Fails unless entries {@code [count, length)} of an index output still hold the sentinel: an op that writes
     * a prefix ({@code topK}, {@code bitmapToIndices}, {@code expandBlocks}, the fused top-k ops) returns how
     * many entries it wrote and must leave the rest of the caller's buffer as it was.
     */
    public void requireUnwrittenPast(String op, String name, Indices out, long count) {
        for (long e = Math.max(0, count); e < out.length(); e++) {
            int v = out.data().get(ValueLayout.JAVA_INT_UNALIGNED, 4 * e);
            if (v != -1) {
                throw new AssertionError(op + " returned " + count + " but wrote " + name + "[" + e + "] = " + v
                        + " past it (entries [" + count + ", " + out.length() + ") of the caller's buffer must keep "
                        + "their bytes; the kit fills them with 0xFF)");
            }
        }
    }

    /** As {@link #requireUnwrittenPast(String, String, Indices, long)} for columns {@code [fromCol, cols)} of every row. */
    public void requireUnwrittenColumns(String op, String name, Tensor out, int fromCol) {
        int size = out.type().byteSize();
        for (long row = 0; row < out.rows(); row++) {
            for (int c = Math.max(0, fromCol); c < out.cols(); c++) {
                for (int b = 0; b < size; b++) {
                    if (out.data().get(ValueLayout.JAVA_BYTE, out.offset(row, c) + b) != SENTINEL) {
                        throw new AssertionError(op + " wrote " + name + "[" + row + ", " + c + "] = "
                                + Compare.num(out.get(row, c)) + " past the " + fromCol + " entries per row it "
                                + "returned (the rest of the caller's buffer must keep its bytes)");
                    }
                }
            }
        }
    }

    /** Adds a line to the shapes of the report for something that is neither a tensor nor indices. */
    public void describe(String name, String what) {
        shapes.add(name + "=" + what);
    }

    /**
     * A backend output tensor: random layout (padding, odd byte offset), every byte the sentinel, guard bytes
     * around it.
     */
    public Tensor output(String name, ElementType type, long rows, int cols) {
        Tensor t = Gen.layout(this, type, rows, cols, SENTINEL);
        shapes.add(name + "=" + describe(t) + " (out)");
        Layout l = layouts.get(t);
        outputs.add(new Guarded(name, l.base(), l.offset(), t.rowStride(), (long) cols * type.byteSize(), rows,
                l.scaleBase(), l.scaleOffset()));
        return t;
    }

    /** A backend index output of {@code length} entries, sentinel -1, with guards. */
    public Indices outputIndices(String name, int length) {
        int lead = Gen.lead(random);
        MemorySegment base = arena.allocate(lead + (long) length * Integer.BYTES + Gen.TAIL, 1);
        base.fill(SENTINEL);
        Indices i = Indices.wrap(base.asSlice(lead, (long) length * Integer.BYTES), length);
        layouts.put(i, new Layout(base, lead, null, 0));
        shapes.add(name + "=" + describe(i) + " (out)");
        outputs.add(new Guarded(name, base, lead, (long) length * Integer.BYTES, (long) length * Integer.BYTES,
                1, null, 0));
        return i;
    }

    /** A backend bitmap output of {@code bits} bits, every word all ones, with guards. */
    public Bitmap outputBitmap(String name, long bits) {
        int lead = Gen.lead(random);
        long bytes = Bitmap.wordCount(bits) * Long.BYTES;
        MemorySegment base = arena.allocate(lead + bytes + Gen.TAIL, 1);
        base.fill(SENTINEL);
        Bitmap b = Bitmap.wrap(base.asSlice(lead, bytes), bits);
        layouts.put(b, new Layout(base, lead, null, 0));
        shapes.add(name + "=Bitmap[" + bits + "] (out)");
        outputs.add(new Guarded(name, base, lead, bytes, bytes, 1, null, 0));
        return b;
    }

    /** A plain zeroed tensor for the oracle's output (not checked, not described). */
    public Tensor reference(ElementType type, long rows, int cols) {
        return Tensor.allocate(arena, type, rows, cols);
    }

    void layout(Object view, Layout layout) {
        layouts.put(view, layout);
    }

    /** Tensor shape, type and layout as a report shows it, e.g. {@code [3, 17] F16 (row stride 40 B, byte offset 3)}. */
    public String describe(Tensor t) {
        StringBuilder s = new StringBuilder(t.shapeString());
        Layout l = layouts.get(t);
        boolean padded = t.rowStride() != (long) t.cols() * t.type().byteSize();
        if (padded || (l != null && l.offset() != 0)) {
            s.append(" (");
            if (padded) {
                s.append("row stride ").append(t.rowStride()).append(" B");
            }
            if (l != null && l.offset() != 0) {
                s.append(padded ? ", " : "").append("byte offset ").append(l.offset());
            }
            s.append(')');
        }
        return s.toString();
    }

    private String describe(Indices i) {
        Layout l = layouts.get(i);
        return "int[" + i.length() + "]" + (l != null && l.offset() != 0 ? " (byte offset " + l.offset() + ")" : "");
    }

    /**
     * Snapshots every registered output's whole allocation (guards included), for checking that a rejected
     * call wrote nothing.
     */
    List<byte[]> snapshotOutputs() {
        List<byte[]> out = new ArrayList<>();
        for (Guarded g : outputs) {
            out.add(g.base().toArray(ValueLayout.JAVA_BYTE));
            out.add(g.scaleBase() == null ? null : g.scaleBase().toArray(ValueLayout.JAVA_BYTE));
        }
        return out;
    }

    /** Fails naming the first output byte that differs from {@code before} (from {@link #snapshotOutputs}). */
    void verifyOutputsEqual(List<byte[]> before, String why) {
        for (int k = 0; k < outputs.size(); k++) {
            Guarded g = outputs.get(k);
            long at = mismatch(g.base(), before.get(2 * k));
            if (at >= 0) {
                throw new AssertionError(why + ": output '" + g.name() + "' was written (byte " + (at - g.offset())
                        + " relative to its start changed from the sentinel)");
            }
            if (g.scaleBase() != null) {
                at = mismatch(g.scaleBase(), before.get(2 * k + 1));
                if (at >= 0) {
                    throw new AssertionError(why + ": the scales of output '" + g.name() + "' were written (byte "
                            + (at - g.scaleOffset()) + ")");
                }
            }
        }
    }

    private static long mismatch(MemorySegment now, byte[] before) {
        return now.mismatch(MemorySegment.ofArray(before));
    }

    /** Checks that inputs are unchanged and that no output was written outside its elements. */
    void verifyUntouched() {
        for (Snapshot s : inputs) {
            String change = s.dataBytes().change(s.data());
            if (change != null) {
                throw new AssertionError("input '" + s.name() + "' was modified (" + change + ")");
            }
            if (s.scales() != null && s.scaleBytes().change(s.scales()) != null) {
                throw new AssertionError("the scales of input '" + s.name() + "' were modified");
            }
        }
        for (Guarded g : outputs) {
            g.checkGuards();
        }
    }

    Outcome outcome(Throwable failure) {
        StringBuilder p = new StringBuilder();
        params.forEach((k, v) -> p.append(p.isEmpty() ? "" : ", ").append(k).append('=').append(v));
        return new Outcome(rowShrink, colShrink, rowsReducible, colsReducible, String.join(", ", shapes),
                p.toString(), failure);
    }

    @Override
    public void close() {
        arena.close();
    }

    /** What a failed case was and why it failed; immutable, outlives the trial's memory. */
    record Outcome(int rowShrink, int colShrink, boolean rowsReducible, boolean colsReducible, String shapes,
                   String params, Throwable failure) {
    }

    /** Where a view sits in its allocation (for guards and reports). */
    record Layout(MemorySegment base, long offset, MemorySegment scaleBase, long scaleOffset) {
    }

    private record Snapshot(String name, MemorySegment data, Kept dataBytes, MemorySegment scales,
                            Kept scaleBytes) {
    }

    /** An output allocation: bytes outside the element rows (and outside the scales) must keep the sentinel. */
    private record Guarded(String name, MemorySegment base, long offset, long stride, long rowBytes, long rows,
                           MemorySegment scaleBase, long scaleOffset) {
        void checkGuards() {
            long size = base.byteSize();
            // only the bytes outside the rows: a contiguous 64 MiB output costs its lead and tail, not a scan
            long end = rows == 0 ? offset : offset + (rows - 1) * stride + rowBytes;
            checkRange(0, Math.min(offset, size), -1);
            if (stride > rowBytes) {
                for (long row = 0; row + 1 < rows; row++) {
                    checkRange(offset + row * stride + rowBytes, offset + (row + 1) * stride, row);
                }
            }
            checkRange(Math.max(end, 0), size, rows);
            if (scaleBase != null) {
                for (long at = 0; at < scaleBase.byteSize(); at++) {
                    if (at == scaleOffset && rows > 0) {
                        at += rows * Float.BYTES - 1; // skip the scales themselves
                        continue;
                    }
                    if (scaleBase.get(ValueLayout.JAVA_BYTE, at) != SENTINEL) {
                        throw new AssertionError("the scales of output '" + name + "' were written outside their "
                                + rows + " entries");
                    }
                }
            }
        }

        /** Bytes {@code [from, to)} of the allocation, all outside the rows ({@code row}: the row before them). */
        private void checkRange(long from, long to, long row) {
            for (long at = from; at < to; at++) {
                if (base.get(ValueLayout.JAVA_BYTE, at) != SENTINEL) {
                    long rel = at - offset;
                    String where = rel < 0 ? (-rel) + " byte(s) before its start"
                            : row < rows ? "in the padding after row " + row + " (byte " + (rel - row * stride)
                            + " of the row stride " + stride + ")"
                            : (rel - ((rows - 1) * stride + rowBytes) + 1) + " byte(s) past its end";
                    throw new AssertionError("output '" + name + "' was written outside its elements: " + where);
                }
            }
        }
    }
}
