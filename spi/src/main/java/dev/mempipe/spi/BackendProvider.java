package dev.mempipe.spi;

/**
 * Makes a {@link Backend}; found through {@link java.util.ServiceLoader} (register the implementation in
 * {@code META-INF/services/dev.mempipe.spi.BackendProvider}).
 *
 * <p>A provider must load even when its device or native library is missing: it reports that through
 * {@link #availability()} instead of failing at class-load, and only {@link #create()} touches the device.
 */
public interface BackendProvider {

    /** The backend's name, as {@link Backend#name()} will return it. */
    String name();

    /**
     * Preference among available providers: the highest wins. The CPU reference uses 0; device backends
     * use more so that they are chosen when present.
     */
    int priority();

    /** Probes the machine without side effects that could crash the JVM (no native library loads that abort). */
    Availability availability();

    /**
     * Creates the backend.
     *
     * @throws IllegalStateException when {@link #availability()} says it is unavailable, with that reason
     */
    Backend create();
}
