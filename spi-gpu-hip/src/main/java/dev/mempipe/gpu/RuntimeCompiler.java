package dev.mempipe.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The compile-and-log sequence NVRTC and hiprtc share (hiprtc copies NVRTC's API under another prefix):
 * create a program from the source, compile it with options, read the log, fetch the code, destroy the
 * program. {@link Nvrtc} and {@link Hiprtc} differ only in the prefix, the options and which code they fetch.
 *
 * <p>Thread-safety: each {@link #compile} creates and destroys its own program; the handles are immutable.
 */
final class RuntimeCompiler {
    private static final FunctionDescriptor STATUS_OF_PROGRAM_AND_POINTER = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);

    private final String prefix;
    private final Downcalls library;
    private final MethodHandle create;
    private final MethodHandle compileProgram;
    private final MethodHandle logSize;
    private final MethodHandle log;
    private final MethodHandle destroy;
    private final MethodHandle errorString;

    /**
     * @param library the loaded compiler library
     * @param prefix  {@code nvrtc} or {@code hiprtc}
     * @param where   the library's name in messages
     * @throws java.util.NoSuchElementException when the library lacks a function of the sequence
     */
    RuntimeCompiler(SymbolLookup library, String prefix, String where) {
        this.prefix = prefix;
        this.library = new Downcalls(library, where);
        create = this.library.bind(prefix + "CreateProgram",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        compileProgram = this.library.bind(prefix + "CompileProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        logSize = this.library.bind(prefix + "GetProgramLogSize", STATUS_OF_PROGRAM_AND_POINTER);
        log = this.library.bind(prefix + "GetProgramLog", STATUS_OF_PROGRAM_AND_POINTER);
        destroy = this.library.bind(prefix + "DestroyProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        errorString = this.library.bind(prefix + "GetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    /**
     * Compiles {@code source} with {@code options} and fetches the code through {@code <prefix>Get<code>Size}
     * and {@code <prefix>Get<code>} ({@code code}: {@code CUBIN}, {@code PTX}, {@code Code}).
     *
     * @param what  the compile's name in messages ({@code nvrtcCompileProgram(<what>)})
     * @param text  whether the code is text ending in a NUL, which is dropped (PTX)
     * @throws GpuDriverException with the compiler's log when compilation fails
     */
    Nvrtc.Compiled compile(String source, String name, List<String> options, String code, boolean text, String what) {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment program = local.allocate(ADDRESS);
            check(prefix + "CreateProgram", (int) create.invokeExact(program, local.allocateFrom(source),
                    local.allocateFrom(name), 0, MemorySegment.NULL, MemorySegment.NULL));
            MemorySegment prog = program.get(ADDRESS, 0);
            try {
                MemorySegment opts = local.allocate(ADDRESS, Math.max(1, options.size()));
                for (int i = 0; i < options.size(); i++) {
                    opts.setAtIndex(ADDRESS, i, local.allocateFrom(options.get(i)));
                }
                int rc = (int) compileProgram.invokeExact(prog, options.size(), opts);
                String logText = log(local, prog);
                if (rc != 0) {
                    throw new GpuDriverException(prefix + "CompileProgram(" + what + ")", rc, errorText(rc)
                            + "; log:\n" + logText);
                }
                MemorySegment size = local.allocate(JAVA_LONG);
                String sizeCall = prefix + "Get" + code + "Size";
                check(sizeCall, (int) library.bind(sizeCall, STATUS_OF_PROGRAM_AND_POINTER).invokeExact(prog, size));
                MemorySegment image = local.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
                String getCall = prefix + "Get" + code;
                check(getCall, (int) library.bind(getCall, STATUS_OF_PROGRAM_AND_POINTER).invokeExact(prog, image));
                byte[] bytes = image.asSlice(0, size.get(JAVA_LONG, 0)).toArray(JAVA_BYTE);
                if (text && bytes.length > 0 && bytes[bytes.length - 1] == 0) {
                    bytes = Arrays.copyOf(bytes, bytes.length - 1);
                }
                return new Nvrtc.Compiled(bytes, logText);
            } finally {
                int ignored = (int) destroy.invokeExact(program);
            }
        } catch (Throwable t) {
            throw Downcalls.failed(prefix + " compile", t);
        }
    }

    private String log(Arena local, MemorySegment prog) throws Throwable {
        MemorySegment size = local.allocate(JAVA_LONG);
        check(prefix + "GetProgramLogSize", (int) logSize.invokeExact(prog, size));
        if (size.get(JAVA_LONG, 0) <= 1) {
            return "";
        }
        MemorySegment text = local.allocate(size.get(JAVA_LONG, 0) + 1); // zeroed; + 1: ROCm 5 leaves out the NUL
        check(prefix + "GetProgramLog", (int) log.invokeExact(prog, text));
        return text.getString(0).strip();
    }

    /** The compiler's text for a status code. */
    String errorText(int code) {
        try {
            MemorySegment text = (MemorySegment) errorString.invokeExact(code);
            return text.equals(MemorySegment.NULL) ? "unknown " + prefix + " error" : text.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "unknown " + prefix + " error (" + prefix + "GetErrorString failed: " + t + ")";
        }
    }

    /** Fails with the compiler's code and text unless {@code rc} is 0 (success). */
    void check(String what, int rc) {
        if (rc != 0) {
            throw new GpuDriverException(what, rc, errorText(rc));
        }
    }

    /** The library, for calls outside the shared sequence ({@code nvrtcVersion}). */
    Downcalls library() {
        return library;
    }
}
