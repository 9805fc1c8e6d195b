package dev.mempipe.spi;

/**
 * A BM25 index also held on a device ({@link Backend#pin(Bm25Index)}). An index is immutable: a memory that
 * grows builds a new one and pins that (closing the old pin), so there is nothing to refresh. The owning
 * backend recognizes the pinned index by identity; every other backend reads it from the heap.
 *
 * <p>Thread-safety: as {@link PinnedTensor}.
 */
public interface PinnedBm25Index extends AutoCloseable {

    Bm25Index index();

    Backend backend();

    boolean isOpen();

    /** Frees the device copy. Idempotent. */
    @Override
    void close();
}
