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
 * @param maxQueryTerms most distinct term ids a BM25 query may hold (a device's per-query term table; the U55C's
 *                  bm25 kernel holds 256)
 */
public record Limits(int maxCols, long maxRows, int maxK, int maxTermId, int maxQueryTerms) {
    /** No limit beyond the contract's own (int columns, long rows). */
    public static final Limits NONE = new Limits(Integer.MAX_VALUE, Long.MAX_VALUE, Integer.MAX_VALUE,
            Integer.MAX_VALUE, Integer.MAX_VALUE);

    public Limits {
        if (maxCols < 1 || maxRows < 1 || maxK < 1 || maxTermId < 0 || maxQueryTerms < 1) {
            throw new IllegalArgumentException("limits must be positive, got " + this);
        }
    }

    public Limits withMaxCols(int value) {
        return new Limits(value, maxRows, maxK, maxTermId, maxQueryTerms);
    }

    public Limits withMaxRows(long value) {
        return new Limits(maxCols, value, maxK, maxTermId, maxQueryTerms);
    }

    public Limits withMaxK(int value) {
        return new Limits(maxCols, maxRows, value, maxTermId, maxQueryTerms);
    }

    public Limits withMaxTermId(int value) {
        return new Limits(maxCols, maxRows, maxK, value, maxQueryTerms);
    }

    public Limits withMaxQueryTerms(int value) {
        return new Limits(maxCols, maxRows, maxK, maxTermId, value);
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
        if (maxQueryTerms != Integer.MAX_VALUE) {
            b.append("maxQueryTerms=").append(maxQueryTerms).append(' ');
        }
        return b.toString().trim();
    }
}
