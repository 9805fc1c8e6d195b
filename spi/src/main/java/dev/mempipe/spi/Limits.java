package dev.mempipe.spi;

/**
 * The sizes one op of a backend handles: what a hardware unit's field widths, on-chip buffers and sorters
 * allow. A call beyond a limit fails before it writes anything, with the limit in the message
 * ({@link OpArgs}); the planner never places a step beyond them.
 *
 * @param maxCols   longest row (d, or n for a score vector) an input or output may have
 * @param maxRows   most rows an input tensor may have (keys, pages, documents)
 * @param maxK      largest k of a top-k (the sorter's size)
 * @param maxTermId largest term id a BM25 op accepts (a device's term-id field width)
 */
public record Limits(int maxCols, long maxRows, int maxK, int maxTermId) {
    /** No limit beyond the contract's own (int columns, long rows). */
    public static final Limits NONE = new Limits(Integer.MAX_VALUE, Long.MAX_VALUE, Integer.MAX_VALUE,
            Integer.MAX_VALUE);

    public Limits {
        if (maxCols < 1 || maxRows < 1 || maxK < 1 || maxTermId < 0) {
            throw new IllegalArgumentException("limits must be positive, got " + this);
        }
    }

    public Limits withMaxCols(int value) {
        return new Limits(value, maxRows, maxK, maxTermId);
    }

    public Limits withMaxRows(long value) {
        return new Limits(maxCols, value, maxK, maxTermId);
    }

    public Limits withMaxK(int value) {
        return new Limits(maxCols, maxRows, value, maxTermId);
    }

    public Limits withMaxTermId(int value) {
        return new Limits(maxCols, maxRows, maxK, value);
    }

    @Override
    public String toString() {
        if (this.equals(NONE)) {
            return "no limits";
        }
        StringBuilder b = new StringBuilder();
        if (maxCols != Integer.MAX_VALUE) {
            b.append("maxCols=").append(maxCols).append(' ');
        }
        if (maxRows != Long.MAX_VALUE) {
            b.append("maxRows=").append(maxRows).append(' ');
        }
        if (maxK != Integer.MAX_VALUE) {
            b.append("maxK=").append(maxK).append(' ');
        }
        if (maxTermId != Integer.MAX_VALUE) {
            b.append("maxTermId=").append(maxTermId).append(' ');
        }
        return b.toString().trim();
    }
}
