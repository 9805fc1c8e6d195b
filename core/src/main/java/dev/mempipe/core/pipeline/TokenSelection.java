package dev.mempipe.core.pipeline;

import dev.mempipe.spi.Indices;

import java.util.Objects;

/**
 * The KV rows a decode step attends, as Retrieval chose them: every row (dense), one list shared by all heads
 * (DSA), or one list per KV head (Quest and SeerAttention-R select per head; the query heads of a GQA group
 * share their KV head's list). Lists are ascending row numbers ({@code expandBlocks} output).
 *
 * <p>The lists are views of the pipeline's scratch: valid until its next Retrieval.
 */
public final class TokenSelection {
    private final long length;
    private final Indices[] rows; // null: every row; one entry: shared; else one per KV head

    private TokenSelection(long length, Indices[] rows) {
        this.length = length;
        this.rows = rows;
    }

    /** Every row of a context of {@code length} tokens. */
    public static TokenSelection all(long length) {
        return new TokenSelection(length, null);
    }

    /** One list of rows for every head. */
    public static TokenSelection shared(long length, Indices rows) {
        return new TokenSelection(length, new Indices[] {Objects.requireNonNull(rows, "rows")});
    }

    /** One list of rows per KV head, {@code rows[g]} for KV head g. */
    public static TokenSelection perKvHead(long length, Indices... rows) {
        if (rows.length == 0) {
            throw new IllegalArgumentException("perKvHead needs a list for at least one KV head");
        }
        for (int g = 0; g < rows.length; g++) {
            Objects.requireNonNull(rows[g], "rows[" + g + "]");
        }
        return new TokenSelection(length, rows.clone());
    }

    /** The context length the selection was made over. */
    public long length() {
        return length;
    }

    /** Whether every row is selected (no index list: dense attention). */
    public boolean isAll() {
        return rows == null;
    }

    /** Whether one list serves every head. */
    public boolean isShared() {
        return rows != null && rows.length == 1;
    }

    /** The rows KV head {@code kvHead} attends, or null when every row is selected. */
    public Indices rowsOf(int kvHead) {
        if (rows == null) {
            return null;
        }
        if (rows.length == 1) {
            return rows[0];
        }
        return rows[Objects.checkIndex(kvHead, rows.length)];
    }

    /** Rows KV head {@code kvHead} attends. */
    public long count(int kvHead) {
        Indices r = rowsOf(kvHead);
        return r == null ? length : r.length();
    }

    /** Mean rows attended per KV head, over {@code kvHeads} heads. */
    public double meanCount(int kvHeads) {
        double sum = 0;
        for (int g = 0; g < kvHeads; g++) {
            sum += count(g);
        }
        return sum / kvHeads;
    }

    @Override
    public String toString() {
        if (rows == null) {
            return "TokenSelection[all " + length + "]";
        }
        return "TokenSelection[" + (rows.length == 1 ? "shared " + rows[0].length() : rows.length + " heads") + " of "
                + length + "]";
    }
}
