package dev.mempipe.gpu.check;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * GPU 0's total energy counter through NVML ({@code libnvidia-ml.so.1}, installed with the NVIDIA driver):
 * {@code nvmlDeviceGetTotalEnergyConsumption} in millijoules since the driver loaded (Volta and newer).
 * {@link #open()} says why when there is none.
 *
 * <p>Not thread-safe; {@link #close()} shuts NVML down.
 */
final class Nvml implements AutoCloseable {
    private static final Linker LINKER = Linker.nativeLinker();
    private final Arena arena = Arena.ofConfined();
    private final MethodHandle energy;
    private final MethodHandle shutdown;
    private final MemorySegment device;
    private final String driverVersion;

    private Nvml(SymbolLookup lib) throws Throwable {
        MethodHandle init = handle(lib, "nvmlInit_v2", FunctionDescriptor.of(JAVA_INT));
        int rc = (int) init.invokeExact();
        if (rc != 0) {
            throw new IllegalStateException("nvmlInit_v2 returned " + rc);
        }
        shutdown = handle(lib, "nvmlShutdown", FunctionDescriptor.of(JAVA_INT));
        MemorySegment out = arena.allocate(ADDRESS);
        rc = (int) handle(lib, "nvmlDeviceGetHandleByIndex_v2", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS))
                .invokeExact(0, out);
        if (rc != 0) {
            int ignored = (int) shutdown.invokeExact();
            throw new IllegalStateException("nvmlDeviceGetHandleByIndex_v2(0) returned " + rc);
        }
        device = out.get(ADDRESS, 0);
        energy = handle(lib, "nvmlDeviceGetTotalEnergyConsumption", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        MemorySegment version = arena.allocate(96);
        rc = (int) handle(lib, "nvmlSystemGetDriverVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT))
                .invokeExact(version, 96);
        driverVersion = rc == 0 ? version.getString(0) : "unknown (nvmlSystemGetDriverVersion returned " + rc + ")";
    }

    /** A result: the meter, or why there is none. */
    record Opened(Nvml nvml, String reason) {
    }

    static Opened open() {
        SymbolLookup lib;
        try {
            lib = SymbolLookup.libraryLookup("libnvidia-ml.so.1", Arena.global());
        } catch (IllegalArgumentException e) {
            return new Opened(null, "no libnvidia-ml.so.1 on the loader path (no NVIDIA driver): " + e.getMessage());
        }
        try {
            return new Opened(new Nvml(lib), null);
        } catch (Throwable t) {
            return new Opened(null, "NVML did not start: " + t.getMessage());
        }
    }

    String driverVersion() {
        return driverVersion;
    }

    /** Joules since the driver loaded, or NaN with the code when the device does not report it. */
    double joules() {
        MemorySegment mj = arena.allocate(JAVA_LONG);
        try {
            int rc = (int) energy.invokeExact(device, mj);
            return rc == 0 ? mj.get(JAVA_LONG, 0) / 1000.0 : Double.NaN;
        } catch (Throwable t) {
            return Double.NaN;
        }
    }

    @Override
    public void close() {
        try {
            int ignored = (int) shutdown.invokeExact();
        } catch (Throwable t) {
            // shutting down: nothing to do about it
        } finally {
            arena.close();
        }
    }

    private static MethodHandle handle(SymbolLookup lib, String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(lib.find(name).orElseThrow(
                () -> new IllegalStateException("libnvidia-ml.so.1 has no " + name)), descriptor);
    }
}
