package dev.mempipe.core.memory;

/**
 * Parameters of an {@link HnswIndex} (Lucene HNSW; see {@code HnswGraph} for the algorithm): the approximate search
 * of {@link EmbeddingMemory} and of the LangChain4j store.
 *
 * @param maxConn         M: neighbours per node on upper levels (2M on level 0), {@code >= 1}
 * @param beamWidth       candidates kept while inserting a node, {@code >= 1}
 * @param searchBeamWidth candidates kept while searching (at least k is used), {@code >= 1}
 * @param seed            seed of the level assignment, so that a graph is reproducible
 */
public record HnswSettings(int maxConn, int beamWidth, int searchBeamWidth, long seed) {
    /** Lucene's defaults (M = 16, beam 100), a search beam of 100, seed 42. */
    public static final HnswSettings DEFAULT = new HnswSettings(16, 100, 100, 42);

    public HnswSettings {
        MemoryArgs.positive("maxConn", maxConn);
        MemoryArgs.positive("beamWidth", beamWidth);
        MemoryArgs.positive("searchBeamWidth", searchBeamWidth);
    }
}
