package dev.mempipe.spi;

import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static java.lang.Math.addExact;
import static java.lang.Math.multiplyExact;

/**
 * The sizes (SPEC.md's symbols: {@code m}, {@code n}, {@code d}, parameters such as {@code P}) and element
 * types (by argument name) of one call, as its descriptor's cost formula reads them:
 * {@code Op.DOT.descriptor().sizes().size("m", 1).size("n", n).size("d", d).type("Q", F32).type("M", BF16)
 * .type("S", F32)}. Formulas may also read data-dependent counts under names of their own (bm25Score's
 * {@code postings}). Not thread-safe; one per call.
 */
public final class OpSizes {
    /** Bytes per index list entry (int32). */
    public static final int INDEX_BYTES = Integer.BYTES;
    /** Bytes of the per-row f32 scale of an integer tensor. */
    public static final int SCALE_BYTES = Float.BYTES;

    private final OpDescriptor op;
    private final Map<String, Long> sizes = new HashMap<>();
    private final Map<String, ElementType> types = new HashMap<>();
    private final Set<String> absent = new HashSet<>();
    private final Map<String, String> params = new HashMap<>();

    OpSizes(OpDescriptor op) {
        this.op = op;
    }

    /**
     * Binds {@code symbol}; fails naming it when negative, or below an integer parameter's minimum
     * ({@code P must be >= 1, got 0}).
     */
    public OpSizes size(String symbol, long value) {
        OpDescriptor.Arg param = op.arg(symbol);
        long min = param != null && param.role() == OpDescriptor.Role.PARAM ? param.min() : 0;
        if (value < min) {
            throw new IllegalArgumentException(op + ": " + symbol + " must be >= " + min + ", got " + value);
        }
        sizes.put(symbol, value);
        return this;
    }

    /** The element type of tensor argument {@code arg}. */
    public OpSizes type(String arg, ElementType type) {
        types.put(arg, type);
        return this;
    }

    /** A parameter that is not a size (pagePool's {@code mode}), as text. */
    public OpSizes param(String name, String value) {
        params.put(name, value);
        return this;
    }

    /** A parameter set with {@link #param(String, String)}; null when not set. */
    public String param(String name) {
        return params.get(name);
    }

    /** Marks optional argument {@code arg} as not given (an absent kScale, dense attention's idx). */
    public OpSizes absent(String arg) {
        absent.add(arg);
        return this;
    }

    /** Marks optional argument {@code arg} as given or not. */
    public OpSizes present(String arg, boolean given) {
        if (given) {
            absent.remove(arg);
        } else {
            absent.add(arg);
        }
        return this;
    }

    public long get(String symbol) {
        Long v = sizes.get(symbol);
        if (v == null) {
            throw new IllegalStateException(op + ": size '" + symbol + "' is not set");
        }
        return v;
    }

    public ElementType type(String arg) {
        ElementType t = types.get(arg);
        if (t == null) {
            throw new IllegalStateException(op + ": element type of '" + arg + "' is not set");
        }
        return t;
    }

    /** Whether argument {@code arg} is given (every argument is, unless marked {@link #absent}). */
    public boolean has(String arg) {
        return !absent.contains(arg);
    }

    /** Rows of argument {@code arg}'s 2-D view, from its SPEC.md shape. */
    public long rows(String arg) {
        return spec(arg).rows().eval(sizes);
    }

    /** Columns of argument {@code arg}'s 2-D view ({@code Hkv*d} for {@code [L, Hkv, d]}). */
    public long cols(String arg) {
        OpDescriptor.Arg a = spec(arg);
        if (a.dims().size() == 1) {
            return 1;
        }
        long cols = a.dims().get(1).eval(sizes);
        return a.threeD() ? multiplyExact(cols, a.dims().get(2).eval(sizes)) : cols;
    }

    /** Bytes of argument {@code arg}: a tensor's {@link #tensorBytes}, 4 per index list entry; 0 when absent. */
    public long bytes(String arg) {
        if (!has(arg)) {
            return 0;
        }
        OpDescriptor.Arg a = spec(arg);
        return switch (a.role()) {
            case INDICES, INDEX_OUTPUT -> multiplyExact(a.rows().eval(sizes), INDEX_BYTES);
            case BITMAP, BITMAP_OUTPUT -> multiplyExact(Math.ceilDiv(a.rows().eval(sizes), 64), Long.BYTES);
            default -> tensorBytes(type(arg), rows(arg), cols(arg));
        };
    }

    /** The work the op's cost formula counts for these sizes and types. */
    public WorkCount cost() {
        return op.cost(this);
    }

    /** The sizes bound so far. */
    public Map<String, Long> asMap() {
        return Collections.unmodifiableMap(sizes);
    }

    /** Bytes of a {@code [rows, cols]} tensor: {@code rows*cols*size}, plus {@code 4*rows} scale bytes for I8/I16. */
    public static long tensorBytes(ElementType type, long rows, long cols) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException((rows < 0 ? "rows" : "cols") + " must be >= 0, got "
                    + (rows < 0 ? rows : cols));
        }
        long data = multiplyExact(multiplyExact(rows, cols), type.byteSize());
        return type.isQuantized() ? addExact(data, multiplyExact(rows, SCALE_BYTES)) : data;
    }

    private OpDescriptor.Arg spec(String arg) {
        OpDescriptor.Arg a = op.arg(arg);
        if (a == null) {
            throw new IllegalArgumentException(op + " has no argument '" + arg + "'");
        }
        return a;
    }
}
