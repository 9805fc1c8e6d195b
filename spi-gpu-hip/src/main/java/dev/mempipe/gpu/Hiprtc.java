package dev.mempipe.gpu;

import java.lang.foreign.SymbolLookup;
import java.util.List;

/**
 * hiprtc through FFM: compiles the kernel source for an AMD arch ({@code gfx90a}, the MI210) into a code
 * object (an ELF that {@code hipModuleLoadData} takes). Found through {@link Hip#hiprtc()}; the sequence of
 * calls is NVRTC's ({@link RuntimeCompiler}).
 *
 * <p>Thread-safety: each {@link #compile} creates and destroys its own program.
 */
public final class Hiprtc {
    private final RuntimeCompiler compiler;

    /**
     * @throws java.util.NoSuchElementException when {@code library} lacks one of hiprtc's functions
     */
    public Hiprtc(SymbolLookup library) {
        this.compiler = new RuntimeCompiler(library, "hiprtc", "hiprtc");
    }

    /**
     * Compiles {@code source} for {@code arch}; no fast-math.
     *
     * @throws GpuDriverException with hiprtc's log when compilation fails
     */
    public Nvrtc.Compiled compile(String source, String name, String arch) {
        if (!arch.matches("gfx[0-9a-f]+")) {
            throw new IllegalArgumentException("arch must look like gfx90a, got '" + arch + "'");
        }
        return compiler.compile(source, name, List.of("--offload-arch=" + arch, "-std=c++17"), "Code", false,
                name + ", " + arch);
    }
}
