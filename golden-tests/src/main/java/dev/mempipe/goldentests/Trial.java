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
        inputs.add(new Snapshot(name, t.data(), t.data().toArray(ValueLayout.JAVA_BYTE), t.scales(),
                t.scales() == null ? null : t.scales().toArray(ValueLayout.JAVA_BYTE)));
        return t;
    }

    /** Registers an index input (described, must be unchanged). */
    public Indices input(String name, Indices i) {
        shapes.add(name + "=" + describe(i));
        inputs.add(new Snapshot(name, i.data(), i.data().toArray(ValueLayout.JAVA_BYTE), null, null));
        return i;
    }

    /** Registers a bitmap input (described, must be unchanged). */
    public Bitmap input(String name, Bitmap b) {
        shapes.add(name + "=Bitmap[" + b.length() + "]");
        inputs.add(new Snapshot(name, b.words(), b.words().toArray(ValueLayout.JAVA_BYTE), null, null));
        return b;
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
            long at = mismatch(s.data(), s.dataBytes());
            if (at >= 0) {
                throw new AssertionError("input '" + s.name() + "' was modified (byte " + at + " of its memory)");
            }
            if (s.scales() != null && mismatch(s.scales(), s.scaleBytes()) >= 0) {
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

    private record Snapshot(String name, MemorySegment data, byte[] dataBytes, MemorySegment scales,
                            byte[] scaleBytes) {
    }

    /** An output allocation: bytes outside the element rows (and outside the scales) must keep the sentinel. */
    private record Guarded(String name, MemorySegment base, long offset, long stride, long rowBytes, long rows,
                           MemorySegment scaleBase, long scaleOffset) {
        void checkGuards() {
            long size = base.byteSize();
            long rowIndex = 0;
            for (long at = 0; at < size; at++) {
                long rel = at - offset;
                boolean inside = false;
                if (rel >= 0 && rows > 0 && stride > 0) {
                    rowIndex = rel / stride;
                    inside = rowIndex < rows && rel - rowIndex * stride < rowBytes;
                }
                if (!inside && base.get(ValueLayout.JAVA_BYTE, at) != SENTINEL) {
                    String where = rel < 0 ? (-rel) + " byte(s) before its start"
                            : rowIndex < rows ? "in the padding after row " + rowIndex
                            + " (byte " + (rel - rowIndex * stride) + " of the row stride " + stride + ")"
                            : (rel - ((rows - 1) * stride + rowBytes) + 1) + " byte(s) past its end";
                    throw new AssertionError("output '" + name + "' was written outside its elements: " + where);
                }
            }
            if (scaleBase != null) {
                for (long at = 0; at < scaleBase.byteSize(); at++) {
                    long rel = at - scaleOffset;
                    boolean inside = rel >= 0 && rel < rows * Float.BYTES;
                    if (!inside && scaleBase.get(ValueLayout.JAVA_BYTE, at) != SENTINEL) {
                        throw new AssertionError("the scales of output '" + name + "' were written outside their "
                                + rows + " entries");
                    }
                }
            }
        }
    }
}
