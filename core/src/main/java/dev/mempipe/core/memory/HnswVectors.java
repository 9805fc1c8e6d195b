package dev.mempipe.core.memory;

import dev.mempipe.spi.Backend;

/**
 * The vectors an {@link HnswIndex} is built over: rows {@code [0, rows())} of {@code dimension()} floats, wherever
 * and however they are stored, and the cosines the graph is built, walked and ranked with. Row numbers are the
 * graph's node numbers: a row once indexed must keep its number and its values until the index is
 * {@link HnswIndex#reset() reset}.
 *
 * <p>The scoring methods run inside the engine step that walks or builds the graph: {@code backend} is the one the
 * engine gave that step, and an implementation scores with its ops.
 *
 * <p>Thread-safety: the index calls {@link #readUnit} and {@link #graphScorer} from several threads at once
 * (concurrent searches, and the workers of a parallel extension), so they must be safe for concurrent reads; each
 * {@link GraphScorer} is used by one thread. The owner keeps the rows still while the index reads them.
 * {@link #rows()} must return a count whose rows are fully written (a published length).
 */
public interface HnswVectors {
    /** Rows that exist now; each search first extends the graph to this count. */
    int rows();

    int dimension();

    /**
     * Decodes row {@code row} into {@code into[0, d)} as a query for a {@link GraphScorer}: of unit length, or as near
     * to it as the rows are stored (the builder scores every other row against it).
     */
    void readUnit(int row, float[] into);

    /**
     * A scorer of {@code unitQuery} against rows {@code [0, rows())} as they are now, on {@code backend}: set up once
     * for the thousands of small calls of one graph walk or one build worker (a build scores millions of sets of a
     * few dozen rows, many of them single rows: what a call costs beside its dot products is paid millions of times).
     * {@code unitQuery} is read at every call, not copied: the builder rewrites it in place for each node it inserts.
     * Valid until the rows change (an append may move them).
     */
    GraphScorer graphScorer(Backend backend, float[] unitQuery);

    /**
     * The cosines of one unit query with rows: what the graph is built and walked with, and what a hit reports.
     *
     * <p>Thread-safety: not safe for concurrent use (it may keep scratch state); one per walk or build worker.
     */
    interface GraphScorer {
        /** The cosine of the query with row {@code row}. */
        float cosine(int row);

        /**
         * {@link #cosine} of each of {@code rows[0, count)} into {@code out[0, count)}: the values one call each would
         * give, up to rounding (the graph needs the order, not the last bit). The graph scores a node's neighbours
         * together: an implementation may read several rows at once, so that their cache misses overlap instead of
         * queueing one row behind the other.
         */
        void cosines(int[] rows, int count, float[] out);
    }
}
