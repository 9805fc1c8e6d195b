package dev.mempipe.gpu;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

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

    private final RuntimeCompiler compiler;
    private final String where;

    /** A compiled image and NVRTC's log. */
    public record Compiled(byte[] image, String log) {
    }

    /** NVRTC could not be found or loaded; the message lists what was tried. */
    public static final class UnavailableException extends Exception {
        public UnavailableException(String message) {
            super(message);
        }
    }

    private Nvrtc(SymbolLookup library, String where) {
        this.compiler = new RuntimeCompiler(library, "nvrtc", where);
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
            } catch (java.util.NoSuchElementException e) {
                tried.add(name + " on the loader path (" + e.getMessage() + ")");
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
        } catch (IllegalArgumentException | java.util.NoSuchElementException e) {
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
            int rc = (int) compiler.library().bind("nvrtcVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS))
                    .invokeExact(major, minor);
            compiler.check("nvrtcVersion", rc);
            return major.get(JAVA_INT, 0) + "." + minor.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw Downcalls.failed("nvrtcVersion", t);
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
        return compiler.compile(source, name, List.of("--gpu-architecture=" + target, "--std=c++17"),
                cubin ? "CUBIN" : "PTX", !cubin, name + ", " + target);
    }
}
