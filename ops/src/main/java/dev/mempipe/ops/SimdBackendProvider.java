package dev.mempipe.ops;

import dev.mempipe.spi.Availability;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.BackendProvider;

/**
 * Registers {@link SimdBackend} with {@link java.util.ServiceLoader}. Available whenever the
 * {@code jdk.incubator.vector} module is present (the JVM needs {@code --add-modules jdk.incubator.vector}).
 */
public final class SimdBackendProvider implements BackendProvider {

    @Override
    public String name() {
        return SimdBackend.NAME;
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public Availability availability() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return Availability.unavailable("module jdk.incubator.vector is not resolved; start the JVM with "
                    + "--add-modules jdk.incubator.vector");
        }
        return Availability.available("Vector API present");
    }

    @Override
    public Backend create() {
        Availability a = availability();
        if (!a.available()) {
            throw new IllegalStateException(SimdBackend.NAME + " is unavailable: " + a.reason());
        }
        return new SimdBackend();
    }
}
