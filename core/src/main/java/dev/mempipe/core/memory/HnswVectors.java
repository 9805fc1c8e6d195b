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
 * <p>Thread-safety: the index calls the scoring methods from several threads at once (concurrent searches, and the
 * workers of a parallel extension), so they must be safe for concurrent reads; the owner keeps the rows still while
 * the index reads them. {@link #rows()} must return a count whose rows are fully written (a published length).
 */
public interface HnswVectors {
    /** Rows that exist now; each search first extends the graph to this count. */
    int rows();

    int dimension();

    /**
     * Decodes row {@code row} into {@code into[0, d)} as a query for {@link #graphCosine}: of unit length, or as near
     * to it as the rows are stored (the builder scores every other row against it).
     */
    void readUnit(int row, float[] into);

    /**
     * The cosine the graph ranks neighbours by, of a unit query (a caller's, or one from {@link #readUnit}) with row
     * {@code row}. The build calls it many times per row, so it may take a shortcut that keeps the order, such as
     * a plain dot product over rows stored at unit length.
     *
     * @param scratch {@code d} floats the method may overwrite
     */
    float graphCosine(Backend backend, float[] unitQuery, int row, float[] scratch);

    /**
     * {@link #graphCosine} of {@code unitQuery} with each of {@code rows[0, count)} into {@code out[0, count)}: the
     * values one call each would give, up to rounding (the graph needs the order, not the last bit). The graph scores a node's neighbours together: an implementation may
     * read several rows at once, so that their cache misses overlap instead of queueing one row behind the other.
     *
     * @param scratch {@code d} floats the method may overwrite
     */
    default void graphCosines(Backend backend, float[] unitQuery, int[] rows, int count, float[] out,
                              float[] scratch) {
        for (int i = 0; i < count; i++) {
            out[i] = graphCosine(backend, unitQuery, rows[i], scratch);
        }
    }

    /**
     * The cosine reported for a hit, once per returned row: {@link #graphCosine} unless that takes a shortcut.
     *
     * @param scratch {@code d} floats the method may overwrite
     */
    default float cosine(Backend backend, float[] unitQuery, int row, float[] scratch) {
        return graphCosine(backend, unitQuery, row, scratch);
    }
}
