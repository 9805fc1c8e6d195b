package dev.mempipe.ops;

/**
 * Whether a {@link SimdBackend} has been closed; shared by its four op families, each of which checks it first
 * in every op (one volatile read: the CPU backend holds nothing to release, but the {@link dev.mempipe.spi.Backend}
 * contract says ops after {@code close()} fail, and the conformance kit holds every backend to it).
 */
final class SimdState {
    private volatile boolean closed;

    void close() {
        closed = true;
    }

    /** Fails with {@link IllegalStateException} naming the op when the backend is closed. */
    void ensureOpen(String op) {
        if (closed) {
            throw new IllegalStateException(SimdBackend.NAME + ": " + op + " called after close()");
        }
    }
}
