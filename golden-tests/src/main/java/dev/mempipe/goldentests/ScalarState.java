package dev.mempipe.goldentests;

/** Whether a {@link ScalarBackend} has been closed; shared by its four op families. */
final class ScalarState {
    private volatile boolean closed;

    void close() {
        closed = true;
    }

    /** Fails when the backend is closed; called first in every op. */
    void ensureOpen(String op) {
        if (closed) {
            throw new IllegalStateException("scalar-oracle: " + op + " called after close()");
        }
    }
}
