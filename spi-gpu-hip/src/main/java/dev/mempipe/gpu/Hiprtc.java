package dev.mempipe.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * hiprtc through FFM: compiles the kernel source for an AMD arch ({@code gfx90a}, the MI210) into a code
 * object (an ELF that {@code hipModuleLoadData} takes). Found through {@link Hip#hiprtc()}.
 *
 * <p>Thread-safety: each {@link #compile} creates and destroys its own program.
 */
public final class Hiprtc {
    private final SymbolLookup library;

    public Hiprtc(SymbolLookup library) {
        this.library = library;
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
        try (Arena local = Arena.ofConfined()) {
            MemorySegment program = local.allocate(ADDRESS);
            check("hiprtcCreateProgram", call("hiprtcCreateProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
                    ADDRESS, JAVA_INT, ADDRESS, ADDRESS), program, local.allocateFrom(source), local.allocateFrom(name),
                    0, MemorySegment.NULL, MemorySegment.NULL));
            MemorySegment prog = program.get(ADDRESS, 0);
            try {
                String[] options = {"--offload-arch=" + arch, "-std=c++17"};
                MemorySegment opts = local.allocate(ADDRESS, options.length);
                for (int i = 0; i < options.length; i++) {
                    opts.setAtIndex(ADDRESS, i, local.allocateFrom(options[i]));
                }
                int rc = call("hiprtcCompileProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS), prog,
                        options.length, opts);
                String log = log(local, prog);
                if (rc != 0) {
                    throw new GpuDriverException("hiprtcCompileProgram(" + name + ", " + arch + ")", rc,
                            errorText(rc) + "; log:\n" + log);
                }
                MemorySegment size = local.allocate(JAVA_LONG);
                check("hiprtcGetCodeSize", call("hiprtcGetCodeSize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS),
                        prog, size));
                MemorySegment code = local.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
                check("hiprtcGetCode", call("hiprtcGetCode", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), prog, code));
                return new Nvrtc.Compiled(code.asSlice(0, size.get(JAVA_LONG, 0)).toArray(JAVA_BYTE), log);
            } finally {
                call("hiprtcDestroyProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS), program);
            }
        }
    }

    private String log(Arena local, MemorySegment prog) {
        MemorySegment size = local.allocate(JAVA_LONG);
        check("hiprtcGetProgramLogSize", call("hiprtcGetProgramLogSize",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), prog, size));
        if (size.get(JAVA_LONG, 0) <= 1) {
            return "";
        }
        MemorySegment text = local.allocate(size.get(JAVA_LONG, 0) + 1); // + 1: ROCm 5 leaves out the NUL
        check("hiprtcGetProgramLog", call("hiprtcGetProgramLog", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), prog,
                text));
        return text.getString(0).strip();
    }

    private String errorText(int code) {
        try {
            MemorySegment text = (MemorySegment) handle("hiprtcGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT))
                    .invokeExact(code);
            return text.equals(MemorySegment.NULL) ? "unknown hiprtc error" : text.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "unknown hiprtc error";
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
                () -> new IllegalStateException("hiprtc has no symbol " + symbol)), descriptor);
    }
}
