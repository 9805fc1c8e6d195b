package dev.mempipe.fpga;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Hand-written FFM downcalls to the part of XRT's C API (XRT 2.13: {@code xrt_device.h}, {@code xrt_bo.h},
 * {@code xrt_kernel.h}) the backend uses, bound from one library: the real {@code libxrt_coreutil.so.2} or the
 * csim device's {@code libmempipe_xrt_csim.so}, which exports the same functions. {@code size_t} is bound as a
 * Java long, enums and {@code xrtMemoryGroup} as int. {@code xrtRunSetArg} is variadic: one handle per argument
 * kind, with {@link Linker.Option#firstVariadicArg(int) firstVariadicArg(2)}; a float argument is passed as
 * double (C's default argument promotion), as XRT reads it.
 *
 * <p>Loading the library is the caller's risk: the real XRT aborts the process when {@code XILINX_XRT} is unset or
 * its core library is missing, which {@link XrtBackendProvider} checks first. Thread-safety: the handles are
 * stateless; XRT's own calls are thread-safe, and {@link XrtBackend} serializes its use anyway.
 */
final class XrtApi {
    /** {@code ert_cmd_state} values {@code xrtRunWait} returns. */
    static final int COMPLETED = 4, ERROR = 5, ABORT = 6, TIMEOUT = 8;
    /** {@code xclBOSyncDirection}. */
    static final int SYNC_TO_DEVICE = 0, SYNC_FROM_DEVICE = 1;

    final Path library;
    final MethodHandle deviceOpen, deviceClose, loadXclbinFile, getXclbinUuid;
    final MethodHandle kernelOpen, kernelClose, kernelArgGroupId;
    final MethodHandle boAlloc, boFree, boWrite, boRead, boSync;
    final MethodHandle runOpen, runSetBuffer, runSetInt, runSetLong, runSetDouble, runStart, runWait, runClose;
    private final SymbolLookup symbols;

    private XrtApi(Path library, SymbolLookup symbols) {
        this.library = library;
        this.symbols = symbols;
        deviceOpen = bind("xrtDeviceOpen", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        deviceClose = bind("xrtDeviceClose", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        loadXclbinFile = bind("xrtDeviceLoadXclbinFile", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        getXclbinUuid = bind("xrtDeviceGetXclbinUUID", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        kernelOpen = bind("xrtPLKernelOpen", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        kernelClose = bind("xrtKernelClose", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        kernelArgGroupId = bind("xrtKernelArgGroupId", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        boAlloc = bind("xrtBOAlloc", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT));
        boFree = bind("xrtBOFree", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        boWrite = bind("xrtBOWrite", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG));
        boRead = bind("xrtBORead", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG));
        boSync = bind("xrtBOSync", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG));
        runOpen = bind("xrtRunOpen", FunctionDescriptor.of(ADDRESS, ADDRESS));
        runSetBuffer = bindSetArg(ADDRESS);
        runSetInt = bindSetArg(JAVA_INT);
        runSetLong = bindSetArg(JAVA_LONG);
        runSetDouble = bindSetArg(JAVA_DOUBLE);
        runStart = bind("xrtRunStart", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        runWait = bind("xrtRunWait", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        runClose = bind("xrtRunClose", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    /**
     * Loads {@code library} (for the process's lifetime: XRT is not unloadable) and binds every function.
     *
     * @throws IllegalStateException naming the library and the missing symbol when one is absent
     */
    static XrtApi load(Path library) {
        SymbolLookup lookup = SymbolLookup.libraryLookup(library, Arena.global());
        return new XrtApi(library, lookup);
    }

    /** An optional extra symbol of the same library (the csim device's test hooks). */
    MethodHandle optional(String name, FunctionDescriptor descriptor) {
        return symbols.find(name).map(s -> Linker.nativeLinker().downcallHandle(s, descriptor)).orElse(null);
    }

    private MethodHandle bind(String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = symbols.find(name).orElseThrow(() -> new IllegalStateException(
                library + " does not export " + name + " (not XRT 2.13's C API, or not the mempipe csim device)"));
        return Linker.nativeLinker().downcallHandle(symbol, descriptor);
    }

    private MethodHandle bindSetArg(ValueLayout value) {
        MemorySegment symbol = symbols.find("xrtRunSetArg").orElseThrow(() -> new IllegalStateException(
                library + " does not export xrtRunSetArg"));
        return Linker.nativeLinker().downcallHandle(symbol, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, value),
                Linker.Option.firstVariadicArg(2));
    }
}
