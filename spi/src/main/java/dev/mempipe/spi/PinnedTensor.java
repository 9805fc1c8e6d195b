package dev.mempipe.spi;

/**
 * A host tensor also held on a device ({@link Backend#pin(Tensor)}): the handle a memory keeps for as long as
 * the device should hold its data. The host copy stays authoritative, so any backend (the CPU fallback
 * included) that is handed {@link #tensor()} and does not own the pin reads the host memory and gets the
 * same answer.
 *
 * <p>Protocol: the owner writes host rows, then calls {@link #refresh(long)} for the rows it wrote before any
 * op reads them through this pin; the device's copy of rows not refreshed may be stale. {@link #close()}
 * frees the device copy; {@link #tensor()} then still works as plain host memory (the pin is ignored by every
 * backend once closed).
 *
 * <p>Thread-safety: ops may read through the pin from several threads; {@code refresh} and {@code close} are
 * the owner's (a single writer, like the memories that hold pins), and must not run during an op that reads
 * the rows they change.
 */
public interface PinnedTensor extends AutoCloseable {

    /** The pinned host tensor, carrying this pin: pass it (or any view of it) to the owning backend's ops. */
    Tensor tensor();

    /** The backend that holds the device copy. */
    Backend backend();

    /**
     * Uploads rows {@code [fromRow, rows)} of the host tensor (appended or rewritten since the last refresh).
     *
     * @param fromRow in {@code [0, rows]}
     * @throws IllegalArgumentException naming the value when {@code fromRow} is out of range
     * @throws IllegalStateException    when the pin is closed
     * @throws BackendException         when the device fails
     */
    default void refresh(long fromRow) {
        refresh(fromRow, tensor().rows());
    }

    /**
     * Uploads rows {@code [fromRow, toRow)} of the host tensor: what an append wrote into a tensor allocated for
     * the memory's capacity, without the unused rows after it.
     *
     * @throws IllegalArgumentException naming the values unless {@code 0 <= fromRow <= toRow <= rows}
     */
    void refresh(long fromRow, long toRow);

    /** Whether the device still holds the copy (false after {@link #close()} or a lost device). */
    boolean isOpen();

    /** Frees the device copy. Idempotent. */
    @Override
    void close();
}
