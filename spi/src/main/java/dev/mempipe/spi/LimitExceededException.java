package dev.mempipe.spi;

/**
 * A call the op contract allows that goes past a limit the backend declares in its {@link Limits}: a device's top-k
 * sorter size, its widest row, its BM25 term table. Another backend can still run it (the CPU declares no such
 * limits), so the engine reruns the step on the CPU instead of failing it; called directly on this backend it is bad
 * input for this backend, hence an {@link IllegalArgumentException}. {@link OpArgs} throws it for every limit it
 * checks, with a message naming the op, the argument, its value and the limit.
 */
public final class LimitExceededException extends IllegalArgumentException {
    private final Op op;
    private final String limit;
    private final long value;
    private final long max;

    /**
     * @param op      the op called
     * @param limit   the name of the {@link Limits} component exceeded ({@code "maxK"}, {@code "maxCols"}, ...)
     * @param value   the call's size
     * @param max     the backend's limit, below {@code value}
     * @param message the whole message, naming the op, the argument, its value and the limit
     */
    public LimitExceededException(Op op, String limit, long value, long max, String message) {
        super(message);
        this.op = op;
        this.limit = limit;
        this.value = value;
        this.max = max;
    }

    public Op op() {
        return op;
    }

    /** The name of the {@link Limits} component exceeded, as {@code Limits.toString()} spells it. */
    public String limit() {
        return limit;
    }

    /** The size the call asked for. */
    public long value() {
        return value;
    }

    /** The backend's limit. */
    public long max() {
        return max;
    }
}
