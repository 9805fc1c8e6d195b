package dev.mempipe.core.memory;

/**
 * Parameters of an {@link HnswIndex} (Lucene HNSW; see {@code HnswGraph} for the algorithm): the approximate search
 * of {@link EmbeddingMemory} and of the LangChain4j store.
 *
 * @param maxConn         M: neighbours per node on upper levels (2M on level 0), {@code >= 1}
 * @param beamWidth       candidates kept while inserting a node, {@code >= 1}
 * @param searchBeamWidth candidates kept while searching (at least k is used), {@code >= 1}
 * @param seed            seed of the level assignment, so that a graph built on one thread is reproducible (a
 *                        graph built on several threads depends on their timing, and Lucene's concurrent builder
 *                        draws its levels from its own seed)
 * @param buildThreads    threads that insert a large batch of rows into the graph ({@code >= 1}), or
 *                        {@link #ALL_CORES} for one per available processor; batches smaller than
 *                        {@link HnswIndex#PARALLEL_MIN_ROWS} rows go in on the calling thread
 * @param quantization    what the search walks the graph with: the stored rows ({@link HnswQuantization#NONE}), or
 *                        Lucene's quantized codes, the candidates then rescored with exact cosines
 */
public record HnswSettings(int maxConn, int beamWidth, int searchBeamWidth, long seed, int buildThreads,
                           HnswQuantization quantization) {
    /** {@link #buildThreads}: one thread per processor the JVM may use ({@code Runtime.availableProcessors()}). */
    public static final int ALL_CORES = 0;

    /** Lucene's defaults (M = 16, beam 100), a search beam of 100, seed 42, built with every core, no codes. */
    public static final HnswSettings DEFAULT = new HnswSettings(16, 100, 100, 42);

    public HnswSettings {
        MemoryArgs.positive("maxConn", maxConn);
        MemoryArgs.positive("beamWidth", beamWidth);
        MemoryArgs.positive("searchBeamWidth", searchBeamWidth);
        if (buildThreads < 0) {
            throw new IllegalArgumentException("buildThreads must be >= 1, or ALL_CORES (0), got " + buildThreads);
        }
        if (quantization == null) {
            throw new IllegalArgumentException("quantization must not be null (HnswQuantization.NONE for none)");
        }
    }

    /** Built with every core ({@link #ALL_CORES}), walked with the stored rows. */
    public HnswSettings(int maxConn, int beamWidth, int searchBeamWidth, long seed) {
        this(maxConn, beamWidth, searchBeamWidth, seed, ALL_CORES);
    }

    /** Walked with the stored rows ({@link HnswQuantization#NONE}). */
    public HnswSettings(int maxConn, int beamWidth, int searchBeamWidth, long seed, int buildThreads) {
        this(maxConn, beamWidth, searchBeamWidth, seed, buildThreads, HnswQuantization.NONE);
    }

    /** These settings with another {@link #buildThreads} ({@link #ALL_CORES} or {@code >= 1}). */
    public HnswSettings withBuildThreads(int threads) {
        return new HnswSettings(maxConn, beamWidth, searchBeamWidth, seed, threads, quantization);
    }

    /** These settings with another {@link #quantization}. */
    public HnswSettings withQuantization(HnswQuantization codes) {
        return new HnswSettings(maxConn, beamWidth, searchBeamWidth, seed, buildThreads, codes);
    }

    /** The threads a large insertion uses: {@link #buildThreads}, or the available processors for ALL_CORES. */
    public int resolvedBuildThreads() {
        return buildThreads == ALL_CORES ? Runtime.getRuntime().availableProcessors() : buildThreads;
    }
}
