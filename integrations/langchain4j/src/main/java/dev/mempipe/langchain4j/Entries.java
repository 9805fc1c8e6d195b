package dev.mempipe.langchain4j;

import dev.langchain4j.data.segment.TextSegment;
import dev.mempipe.core.memory.EmbeddingRows;
import org.apache.lucene.util.FixedBitSet;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the store keeps beside each vector row: its id, its segment (or null) and whether it is live. Row numbers
 * follow insertion order; a removed row stays as a tombstone (dead) until the store compacts, which keeps the
 * order of the survivors, so ties in score always go to the entry added first.
 *
 * <p>Not thread-safe: guarded by the store's lock like its {@link EmbeddingRows}.
 */
final class Entries {
    private String[] ids = new String[0];
    private TextSegment[] segments = new TextSegment[0];
    private FixedBitSet live = new FixedBitSet(0);
    private final Map<String, Integer> rowOfId = new HashMap<>();
    private int rows;
    private int deadCount;
    private long version; // bumped by every change: caches of per-row facts compare it

    /** Rows in the table, live or dead. */
    /** A number that changes whenever an entry is added, removed, moved or cleared. */
    long version() {
        return version;
    }

    int rows() {
        return rows;
    }

    int liveCount() {
        return rows - deadCount;
    }

    int deadCount() {
        return deadCount;
    }

    boolean isLive(int row) {
        return live.get(row);
    }

    /**
     * The live rows as bits over {@code [0, rows)}; shared and valid until the next mutation, so callers read it
     * under the store's read lock and never write it.
     */
    FixedBitSet liveRows() {
        return live;
    }

    String id(int row) {
        return ids[row];
    }

    /** The segment of row {@code row}, or null when it was added without one. */
    TextSegment segment(int row) {
        return segments[row];
    }

    /** The row of a live entry, or -1. */
    int rowOf(String id) {
        Integer row = rowOfId.get(id);
        return row == null ? -1 : row;
    }

    boolean contains(String id) {
        return rowOfId.containsKey(id);
    }

    /** Appends entries (already validated: unique, non-blank ids); {@code segs} may be null. */
    void append(List<String> newIds, List<TextSegment> segs) {
        version++;
        int n = newIds.size();
        reserve(rows + n);
        for (int i = 0; i < n; i++) {
            int row = rows + i;
            ids[row] = newIds.get(i);
            segments[row] = segs == null ? null : segs.get(i);
            live.set(row);
            rowOfId.put(ids[row], row);
        }
        rows += n;
    }

    /** Marks a live row dead. */
    void kill(int row) {
        version++;
        assert live.get(row) : "row " + row + " is already dead";
        live.clear(row);
        rowOfId.remove(ids[row]);
        segments[row] = null; // the text may be large: let it go now rather than at compaction
        deadCount++;
    }

    /** Moves entry {@code from} to row {@code to} (a dead row or itself), for compaction; {@code to <= from}. */
    void moveRow(int from, int to) {
        version++;
        ids[to] = ids[from];
        segments[to] = segments[from];
        rowOfId.put(ids[to], to);
        if (to != from) {
            live.set(to);
            live.clear(from);
            ids[from] = null;
            segments[from] = null;
        }
    }

    /** Ends a compaction that moved every live row to {@code [0, liveCount)}. */
    void truncateToLive() {
        version++;
        int newRows = liveCount();
        Arrays.fill(ids, newRows, rows, null);
        Arrays.fill(segments, newRows, rows, null);
        rows = newRows;
        deadCount = 0;
        assert live.cardinality() == rows && (rows == 0 || live.prevSetBit(live.length() - 1) == rows - 1);
    }

    void clear() {
        version++;
        ids = new String[0];
        segments = new TextSegment[0];
        live = new FixedBitSet(0);
        rowOfId.clear();
        rows = 0;
        deadCount = 0;
    }

    private void reserve(int needed) {
        if (needed <= ids.length) {
            return;
        }
        int grown = (int) Math.min(EmbeddingRows.MAX_ROWS, Math.max(needed, Math.max(64L, 2L * ids.length)));
        ids = Arrays.copyOf(ids, grown);
        segments = Arrays.copyOf(segments, grown);
        live = FixedBitSet.ensureCapacity(live, grown);
    }
}
