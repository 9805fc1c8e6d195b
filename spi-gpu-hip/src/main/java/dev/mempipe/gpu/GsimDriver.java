package dev.mempipe.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * gsim: mempipe's kernel source built for the CPU with g++ ({@code libmempipe-gsim.so}, see
 * {@code src/main/gsim}), driven by the unchanged {@link CudaDriver} binding (the library exports the CUDA driver
 * subset it binds), plus gsim's test hooks: the warp size the device reports, fault injection, counts.
 *
 * <p>The library holds one simulated device per process: drivers opened on it share its memory and faults.
 */
public final class GsimDriver extends CudaDriver {
    /** File name of the gsim library in the native build folder. */
    public static final String LIBRARY = "libmempipe-gsim.so";

    /** Faults gsim can inject into a later driver call. */
    public enum Fault {
        /** The launch fails with CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES (the device stays usable). */
        LAUNCH(1),
        /** The allocation fails with CUDA_ERROR_OUT_OF_MEMORY (the device stays usable). */
        ALLOCATION(2),
        /** The launch fails with CUDA_ERROR_ILLEGAL_ADDRESS and so does every later call: a lost context. */
        STICKY(3);

        final int code;

        Fault(int code) {
            this.code = code;
        }
    }

    private GsimDriver(SymbolLookup library) {
        super(library, "gsim", 0);
    }

    /**
     * Loads gsim from {@code library} and opens its device reporting {@code warpSize} (32 or 64), its GPU threads
     * running as fibers on the launching thread (fast, deterministic).
     *
     * @throws IllegalArgumentException when the file is missing or the warp size is neither 32 nor 64
     */
    public static GsimDriver open(Path library, int warpSize) {
        return open(library, warpSize, false);
    }

    /**
     * As {@link #open(Path, int)}, with one OS thread per GPU thread and {@code std::barrier} for
     * {@code __syncthreads} when {@code osThreads} (real concurrency: atomics race for real; slower).
     */
    public static GsimDriver open(Path library, int warpSize, boolean osThreads) {
        if (!Files.isRegularFile(library)) {
            throw new IllegalArgumentException("gsim library " + library + " does not exist (built by src/build/native.sh)");
        }
        if (warpSize != 32 && warpSize != 64) {
            throw new IllegalArgumentException("warpSize must be 32 or 64, got " + warpSize);
        }
        SymbolLookup lookup = SymbolLookup.libraryLookup(library, Arena.global());
        hook(lookup, "gsim_set_warp_size", FunctionDescriptor.of(JAVA_INT, JAVA_INT), warpSize);
        hook(lookup, "gsim_set_compute_capability", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), 9, 0);
        hook(lookup, "gsim_set_os_threads", FunctionDescriptor.of(JAVA_INT, JAVA_INT), osThreads ? 1 : 0);
        return new GsimDriver(lookup);
    }

    /**
     * Sets the compute capability gsim's device reports to drivers opened later (for tests of code
     * selection); {@code open} resets it to 9.0.
     */
    public static void reportComputeCapability(Path library, int major, int minor) {
        hook(SymbolLookup.libraryLookup(library, Arena.global()), "gsim_set_compute_capability",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), major, minor);
    }

    /** Makes the call of {@code fault}'s kind after {@code after} successful ones fail. */
    public void inject(Fault fault, int after) {
        hook(library(), "gsim_inject_fault", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), fault.code, after);
    }

    /** Clears a sticky error and any pending fault: the simulated device works again. */
    public void reset() {
        hook(library(), "gsim_reset", FunctionDescriptor.of(JAVA_INT));
    }

    /** Device allocations alive in the simulated device (all drivers together). */
    public long liveAllocations() {
        return (long) hook(library(), "gsim_live_allocations", FunctionDescriptor.of(JAVA_LONG));
    }

    /** Kernel launches so far (all drivers together). */
    public long launches() {
        return (long) hook(library(), "gsim_launches", FunctionDescriptor.of(JAVA_LONG));
    }

    private static Object hook(SymbolLookup lookup, String symbol, FunctionDescriptor descriptor, Object... args) {
        try {
            return Linker.nativeLinker().downcallHandle(lookup.find(symbol).orElseThrow(
                    () -> new IllegalStateException("the gsim library lacks " + symbol)), descriptor)
                    .invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(symbol + " failed", t);
        }
    }
}
