package dev.mempipe.core.memory;

import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.MemorySegment;

/**
 * The arguments of a graph walk's per-node op calls ({@code dotRows}, {@code codeDotRows}): the row ids of a call,
 * copied into an array of its own, and one float result per row, with their heap views made once per length, so a
 * call allocates nothing. (The caller's arrays change from call to call: Lucene's diversity checks pass each node's
 * own neighbour array, so views of them could not be kept.)
 *
 * <p>Not safe for concurrent use: one per scorer, one scorer per walk.
 */
final class RowCallBuffers {
    /** A node's neighbours (2M = 32 for M = 16) and a search's batches fit without growing. */
    private static final int FIRST_CAPACITY = 64;

    private int[] ids;              // (capacity) the row ids of a call
    private float[] results;        // (capacity) one result per row
    private Indices[] idsViews;     // idsViews[n]: the first n ids, made on first use
    private Tensor[] resultViews;   // resultViews[n]: (1, n) over the first n results

    RowCallBuffers() {
        grow(FIRST_CAPACITY);
    }

    /** Takes the ids of a call of {@code count} rows ({@code count <= rowIds.length}). */
    void load(int[] rowIds, int count) {
        if (count > ids.length) {
            grow(count);
        }
        System.arraycopy(rowIds, 0, ids, 0, count);
    }

    /** Takes a call of one row. */
    void load(int row) {
        ids[0] = row;
    }

    /** The ids taken by the last {@link #load}. */
    int[] ids() {
        return ids;
    }

    /** The results the last call wrote, one per id. */
    float[] results() {
        return results;
    }

    /** The first {@code count} ids as the op's index list. */
    Indices idsView(int count) {
        Indices view = idsViews[count];
        if (view == null) {
            view = Indices.wrap(MemorySegment.ofArray(ids), count);
            idsViews[count] = view;
        }
        return view;
    }

    /** {@code (1, count)} F32 over the first {@code count} results: the op's output. */
    Tensor resultView(int count) {
        Tensor view = resultViews[count];
        if (view == null) {
            view = Tensor.wrap(MemorySegment.ofArray(results), ElementType.F32, 1, count);
            resultViews[count] = view;
        }
        return view;
    }

    private void grow(int capacity) {
        ids = new int[capacity];
        results = new float[capacity];
        idsViews = new Indices[capacity + 1];
        resultViews = new Tensor[capacity + 1];
    }
}
