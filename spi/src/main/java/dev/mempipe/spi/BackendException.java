package dev.mempipe.spi;

/**
 * A backend failed to run an op on valid input: a device fault, a lost device, a native error code.
 * Bad input is never reported this way (it gets {@link IllegalArgumentException}).
 *
 * <p>The engine reacts by {@link #fault() kind}: a {@link Fault#TRANSIENT} fault reruns the step on the CPU
 * backend and keeps using the device; after a {@link Fault#DEVICE_LOST} fault the engine stops placing steps on
 * that device (and says so once), running them on the CPU from then on. Outputs a failed call may have written
 * are never part of a result: the rerun overwrites them completely.
 */
public class BackendException extends RuntimeException {
    /** How bad a device failure is. */
    public enum Fault {
        /** This call failed (a timeout, an out-of-memory on the device, a launch error); the device is usable. */
        TRANSIENT,
        /** The device is gone or in an unknown state (reset, ECC error, driver lost the context): do not use it again. */
        DEVICE_LOST
    }

    private final String backend;
    private final Fault fault;

    /** A {@link Fault#TRANSIENT} failure. */
    public BackendException(String backend, String message) {
        this(backend, Fault.TRANSIENT, message, null);
    }

    /** A {@link Fault#TRANSIENT} failure with its cause. */
    public BackendException(String backend, String message, Throwable cause) {
        this(backend, Fault.TRANSIENT, message, cause);
    }

    public BackendException(String backend, Fault fault, String message, Throwable cause) {
        super(backend + ": " + (fault == Fault.DEVICE_LOST ? "device lost: " : "") + message, cause);
        this.backend = backend;
        this.fault = java.util.Objects.requireNonNull(fault, "fault");
    }

    /** The name of the backend that failed. */
    public String backend() {
        return backend;
    }

    public Fault fault() {
        return fault;
    }

    /** Whether the device must not be used again. */
    public boolean deviceLost() {
        return fault == Fault.DEVICE_LOST;
    }
}
