package dev.mempipe.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The HIP runtime ({@code libamdhip64}) through FFM, as far as this module uses it today: loading it
 * ({@code -Dmempipe.hip.library=}, then {@code libamdhip64.so.7}, {@code .6}, {@code .5} on the loader path),
 * {@code hipInit}, {@code hipGetDeviceCount} with {@code hipGetErrorString}, and finding hiprtc (in
 * {@code libhiprtc.so.7/6/5}, or inside {@code libamdhip64} on ROCm 5). The device itself is driven by
 * {@link HipDriver}.
 *
 * <p>Thread-safety: immutable after {@link #load()}; the HIP calls made here are thread-safe.
 */
public final class Hip {
    /** System property naming the HIP runtime library. */
    public static final String LIBRARY_PROPERTY = "mempipe.hip.library";
    private static final String[] NAMES = {"libamdhip64.so.7", "libamdhip64.so.6", "libamdhip64.so.5"};
    private static final String[] RTC_NAMES = {"libhiprtc.so.7", "libhiprtc.so.6", "libhiprtc.so.5"};

    private final SymbolLookup library;
    private final String where;

    private Hip(SymbolLookup library, String where) {
        this.library = library;
        this.where = where;
    }

    /**
     * Loads the HIP runtime.
     *
     * @throws IllegalStateException listing what was tried when none loads
     */
    public static Hip load() {
        List<String> tried = new ArrayList<>();
        String property = System.getProperty(LIBRARY_PROPERTY);
        if (property != null && !property.isBlank()) {
            try {
                return new Hip(SymbolLookup.libraryLookup(Path.of(property), Arena.global()), property);
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("no HIP runtime: -D" + LIBRARY_PROPERTY + "=" + property
                        + " does not load (" + e.getMessage() + ")");
            }
        }
        for (String name : NAMES) {
            try {
                return new Hip(SymbolLookup.libraryLookup(name, Arena.global()), name);
            } catch (IllegalArgumentException e) {
                tried.add(name);
            }
        }
        throw new IllegalStateException("no " + String.join(", ", tried) + " on the loader path (ROCm not installed)");
    }

    /** The loaded runtime. */
    SymbolLookup library() {
        return library;
    }

    /** Which library was loaded. */
    public String where() {
        return where;
    }

    /**
     * How many AMD GPUs HIP sees, or why it sees none: {@code hipInit}'s error, then {@code hipGetDeviceCount}'s
     * ({@code hipErrorNoDevice} (100) on a machine without a GPU).
     *
     * @return the count (>= 1) or, as a failure, the reason
     */
    public DeviceCount deviceCount() {
        int init = call("hipInit", FunctionDescriptor.of(JAVA_INT, JAVA_INT), 0);
        try (Arena local = Arena.ofConfined()) {
            MemorySegment count = local.allocate(JAVA_INT);
            int rc = call("hipGetDeviceCount", FunctionDescriptor.of(JAVA_INT, ADDRESS), count);
            if (rc != 0) {
                return new DeviceCount(0, "no device: hipGetDeviceCount returned " + errorName(rc) + " (" + rc + ")"
                        + (init == 0 ? "" : "; hipInit returned " + errorName(init) + " (" + init + ")"));
            }
            if (init != 0) {
                return new DeviceCount(0, "hipInit error: " + errorName(init) + " (" + init + ")");
            }
            int n = count.get(JAVA_INT, 0);
            return new DeviceCount(n, n == 0 ? "no device: hipGetDeviceCount reports 0" : n + " device(s)");
        }
    }

    /** A device count and what it rests on. */
    public record DeviceCount(int count, String reason) {
    }

    /** hiprtc: {@code libhiprtc} when present, else the runtime itself (ROCm 5 ships hiprtc inside it). */
    public SymbolLookup hiprtc() {
        for (String name : RTC_NAMES) {
            try {
                return SymbolLookup.libraryLookup(name, Arena.global());
            } catch (IllegalArgumentException e) {
                // next
            }
        }
        Optional<MemorySegment> inside = library.find("hiprtcCreateProgram");
        if (inside.isPresent()) {
            return library;
        }
        throw new IllegalStateException("no hiprtc: none of " + String.join(", ", RTC_NAMES) + " loads and " + where
                + " has no hiprtcCreateProgram");
    }

    private String errorName(int code) {
        try {
            MemorySegment text = (MemorySegment) handle("hipGetErrorName", FunctionDescriptor.of(ADDRESS, JAVA_INT))
                    .invokeExact(code);
            return text.equals(MemorySegment.NULL) ? "hipError " + code : text.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "hipError " + code;
        }
    }

    private int call(String symbol, FunctionDescriptor descriptor, Object... args) {
        try {
            return (int) handle(symbol, descriptor).invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("calling " + symbol + " failed", t);
        }
    }

    private MethodHandle handle(String symbol, FunctionDescriptor descriptor) {
        return Linker.nativeLinker().downcallHandle(library.find(symbol).orElseThrow(
                () -> new IllegalStateException(where + " has no symbol " + symbol)), descriptor);
    }
}
