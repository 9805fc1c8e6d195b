package dev.mempipe.gpu;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * NVRTC through FFM: compiles the kernel source for one {@code sm_XX} at run time, to a cubin (loaded as is)
 * or PTX. Found, in this order: the file named by {@code -Dmempipe.nvrtc.library}, {@code $CUDA_HOME/lib64}
 * ({@code libnvrtc.so.13}, then {@code .12}), then the loader path. {@code libnvrtc-builtins} is loaded first by
 * absolute path from the same folder: NVRTC opens it by name at compile time and fails (its error 7) when the
 * loader cannot find it.
 *
 * <p>Thread-safety: NVRTC programs are independent; each {@link #compile} creates and destroys its own.
 */
public final class Nvrtc {
    /** System property naming the NVRTC library file. */
    public static final String LIBRARY_PROPERTY = "mempipe.nvrtc.library";
    private static final String[] NAMES = {"libnvrtc.so.13", "libnvrtc.so.12"};

    private final SymbolLookup library;
    private final String where;

    /** A compiled image and NVRTC's log. */
    public record Compiled(byte[] image, String log) {
    }

    /** NVRTC could not be found or loaded; the message lists what was tried. */
    public static final class UnavailableException extends Exception {
        UnavailableException(String message) {
            super(message);
        }
    }

    private Nvrtc(SymbolLookup library, String where) {
        this.library = library;
        this.where = where;
    }

    /** Finds and loads NVRTC as the class javadoc says. */
    public static Nvrtc load() throws UnavailableException {
        List<String> tried = new ArrayList<>();
        String property = System.getProperty(LIBRARY_PROPERTY);
        if (property != null && !property.isBlank()) {
            return loadFile(Path.of(property), tried);
        }
        String cudaHome = System.getenv("CUDA_HOME");
        if (cudaHome != null && !cudaHome.isBlank()) {
            for (String name : NAMES) {
                Path candidate = Path.of(cudaHome, "lib64", name);
                if (Files.isRegularFile(candidate)) {
                    return loadFile(candidate, tried);
                }
                tried.add(candidate + " (missing)");
            }
        } else {
            tried.add("$CUDA_HOME (unset)");
        }
        for (String name : NAMES) {
            try {
                return new Nvrtc(SymbolLookup.libraryLookup(name, Arena.global()), name + " (loader path)");
            } catch (IllegalArgumentException e) {
                tried.add(name + " on the loader path (not found)");
            }
        }
        throw new UnavailableException("no NVRTC library: tried -D" + LIBRARY_PROPERTY + " (unset), " + String.join(", ", tried));
    }

    /** Loads NVRTC from {@code file}, after the builtins library beside it. */
    public static Nvrtc loadFile(Path file) throws UnavailableException {
        return loadFile(file, new ArrayList<>());
    }

    private static Nvrtc loadFile(Path file, List<String> tried) throws UnavailableException {
        if (!Files.isRegularFile(file)) {
            tried.add(file + " (missing)");
            throw new UnavailableException("no NVRTC library: tried " + String.join(", ", tried));
        }
        Path dir = file.toAbsolutePath().getParent();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path builtins : files.filter(p -> p.getFileName().toString().startsWith("libnvrtc-builtins.so"))
                    .sorted().toList()) {
                SymbolLookup.libraryLookup(builtins, Arena.global());
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new UnavailableException("cannot load libnvrtc-builtins beside " + file + ": " + e.getMessage());
        }
        try {
            return new Nvrtc(SymbolLookup.libraryLookup(file, Arena.global()), file.toString());
        } catch (IllegalArgumentException e) {
            throw new UnavailableException("cannot load " + file + ": " + e.getMessage());
        }
    }

    /** Where the library was found. */
    public String where() {
        return where;
    }

    /** NVRTC's version, e.g. {@code 13.0}. */
    public String version() {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment major = local.allocate(JAVA_INT);
            MemorySegment minor = local.allocate(JAVA_INT);
            check("nvrtcVersion", call("nvrtcVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), major, minor));
            return major.get(JAVA_INT, 0) + "." + minor.get(JAVA_INT, 0);
        }
    }

    /**
     * Compiles {@code source} for {@code arch} ({@code sm_90}): a cubin when {@code cubin}, else PTX for the
     * matching {@code compute_XX}. No fast-math: NVRTC's defaults keep IEEE division, square root and denormals.
     *
     * @throws GpuDriverException with NVRTC's log when compilation fails
     */
    public Compiled compile(String source, String name, String arch, boolean cubin) {
        if (!arch.matches("sm_[0-9]+[a-z]?")) {
            throw new IllegalArgumentException("arch must look like sm_90, got '" + arch + "'");
        }
        String target = cubin ? arch : arch.replace("sm_", "compute_");
        try (Arena local = Arena.ofConfined()) {
            MemorySegment program = local.allocate(ADDRESS);
            check("nvrtcCreateProgram", call("nvrtcCreateProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
                    ADDRESS, JAVA_INT, ADDRESS, ADDRESS), program, local.allocateFrom(source), local.allocateFrom(name),
                    0, MemorySegment.NULL, MemorySegment.NULL));
            MemorySegment prog = program.get(ADDRESS, 0);
            try {
                String[] options = {"--gpu-architecture=" + target, "--std=c++17"};
                MemorySegment opts = local.allocate(ADDRESS, options.length);
                for (int i = 0; i < options.length; i++) {
                    opts.setAtIndex(ADDRESS, i, local.allocateFrom(options[i]));
                }
                int rc = call("nvrtcCompileProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS), prog,
                        options.length, opts);
                String log = log(local, prog);
                if (rc != 0) {
                    throw new GpuDriverException("nvrtcCompileProgram(" + name + ", " + target + ")", rc,
                            errorText(rc) + "; log:\n" + log);
                }
                String sizeCall = cubin ? "nvrtcGetCUBINSize" : "nvrtcGetPTXSize";
                MemorySegment size = local.allocate(JAVA_LONG);
                check(sizeCall, call(sizeCall, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), prog, size));
                MemorySegment image = local.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
                String getCall = cubin ? "nvrtcGetCUBIN" : "nvrtcGetPTX";
                check(getCall, call(getCall, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), prog, image));
                byte[] bytes = image.asSlice(0, size.get(JAVA_LONG, 0)).toArray(JAVA_BYTE);
                if (!cubin && bytes.length > 0 && bytes[bytes.length - 1] == 0) {
                    bytes = java.util.Arrays.copyOf(bytes, bytes.length - 1); // PTX comes NUL-terminated
                }
                return new Compiled(bytes, log);
            } finally {
                call("nvrtcDestroyProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS), program);
            }
        }
    }

    private String log(Arena local, MemorySegment prog) {
        MemorySegment size = local.allocate(JAVA_LONG);
        check("nvrtcGetProgramLogSize", call("nvrtcGetProgramLogSize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS),
                prog, size));
        MemorySegment text = local.allocate(size.get(JAVA_LONG, 0) + 1); // zeroed: a NUL even if not counted
        check("nvrtcGetProgramLog", call("nvrtcGetProgramLog", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), prog, text));
        return text.getString(0).strip();
    }

    private String errorText(int code) {
        try {
            MemorySegment text = (MemorySegment) handle("nvrtcGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT))
                    .invokeExact(code);
            return text.equals(MemorySegment.NULL) ? "unknown NVRTC error" : text.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "unknown NVRTC error (nvrtcGetErrorString failed: " + t + ")";
        }
    }

    private void check(String what, int rc) {
        if (rc != 0) {
            throw new GpuDriverException(what, rc, errorText(rc));
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
