package dev.mempipe.spi;

/**
 * A backend failed to run an op on valid input: a device fault, a lost device, a native error code.
 * The engine reacts by re-running the step on the CPU backend. Bad input is never reported this way
 * (it gets {@link IllegalArgumentException}).
 */
public class BackendException extends RuntimeException {
    private final String backend;

    public BackendException(String backend, String message) {
        super(backend + ": " + message);
        this.backend = backend;
    }

    public BackendException(String backend, String message, Throwable cause) {
        super(backend + ": " + message, cause);
        this.backend = backend;
    }

    /** The name of the backend that failed. */
    public String backend() {
        return backend;
    }
}
