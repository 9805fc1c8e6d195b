package dev.mempipe.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.HashMap;
import java.util.Map;
import java.util.NoSuchElementException;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * {@link GpuDriver} over the CUDA driver API ({@code libcuda.so.1}), bound by hand-written FFM downcalls to the
 * versioned symbols ({@code cuMemAlloc_v2}, ...) and using the device's primary context. The same binding
 * drives gsim ({@link GsimDriver}), whose library exports these names.
 *
 * <p>Thread-safety: see {@link GpuDriver}; the context is made current by {@link #makeCurrent()}.
 */
public class CudaDriver implements GpuDriver {
    private static final Linker LINKER = Linker.nativeLinker();
    // CUdevice_attribute values (cuda.h)
    private static final int WARP_SIZE = 10;
    private static final int CLOCK_RATE = 13;
    private static final int MULTIPROCESSOR_COUNT = 16;
    private static final int MEMORY_CLOCK_RATE = 36;
    private static final int GLOBAL_MEMORY_BUS_WIDTH = 37;
    private static final int COMPUTE_CAPABILITY_MAJOR = 75;
    private static final int COMPUTE_CAPABILITY_MINOR = 76;

    private final SymbolLookup library;
    private final String api;
    private final Map<String, MethodHandle> handles = new HashMap<>();
    private final Arena arena = Arena.ofShared();
    private final int device;
    private final MemorySegment context;
    private final DeviceInfo info;
    private MemorySegment module = MemorySegment.NULL;
    private boolean closed;

    /**
     * Initializes the driver ({@code cuInit}), takes device {@code ordinal} and retains its primary context.
     *
     * @param library the loaded driver library ({@code libcuda.so.1}, or gsim's)
     * @param api     what to call it in descriptions ({@code cuda}, {@code gsim})
     * @throws GpuDriverException when the driver fails (no device: {@code cuDeviceGet} fails; see the message)
     * @throws NoSuchElementException when the library lacks one of the symbols bound here
     */
    protected CudaDriver(SymbolLookup library, String api, int ordinal) {
        this.library = library;
        this.api = api;
        check("cuInit", call("cuInit", FunctionDescriptor.of(JAVA_INT, JAVA_INT), 0));
        try (Arena local = Arena.ofConfined()) {
            MemorySegment count = local.allocate(JAVA_INT);
            check("cuDeviceGetCount", call("cuDeviceGetCount", FunctionDescriptor.of(JAVA_INT, ADDRESS), count));
            if (count.get(JAVA_INT, 0) <= ordinal) {
                throw new GpuDriverException("cuDeviceGetCount", 100, "no CUDA device " + ordinal + " (the driver reports "
                        + count.get(JAVA_INT, 0) + ")");
            }
            MemorySegment dev = local.allocate(JAVA_INT);
            check("cuDeviceGet", call("cuDeviceGet", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), dev, ordinal));
            device = dev.get(JAVA_INT, 0);
            MemorySegment ctx = local.allocate(ADDRESS);
            check("cuDevicePrimaryCtxRetain", call("cuDevicePrimaryCtxRetain",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), ctx, device));
            context = ctx.get(ADDRESS, 0);
            makeCurrent();
            MemorySegment name = local.allocate(256);
            check("cuDeviceGetName", call("cuDeviceGetName", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                    name, 256, device));
            MemorySegment bytes = local.allocate(JAVA_LONG);
            check("cuDeviceTotalMem_v2", call("cuDeviceTotalMem_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT),
                    bytes, device));
            info = new DeviceInfo(api, name.getString(0), attribute(local, COMPUTE_CAPABILITY_MAJOR),
                    attribute(local, COMPUTE_CAPABILITY_MINOR), attribute(local, WARP_SIZE), bytes.get(JAVA_LONG, 0),
                    attribute(local, MULTIPROCESSOR_COUNT), attribute(local, CLOCK_RATE),
                    attribute(local, MEMORY_CLOCK_RATE), attribute(local, GLOBAL_MEMORY_BUS_WIDTH));
        }
    }

    /** Opens device {@code ordinal} through the system's CUDA driver library. */
    public static CudaDriver open(SymbolLookup libcuda, int ordinal) {
        return new CudaDriver(libcuda, "cuda", ordinal);
    }

    @Override
    public DeviceInfo info() {
        return info;
    }

    @Override
    public void makeCurrent() {
        check("cuCtxSetCurrent", call("cuCtxSetCurrent", FunctionDescriptor.of(JAVA_INT, ADDRESS), context));
    }

    @Override
    public long alloc(long bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("alloc: bytes must be >= 1, got " + bytes);
        }
        try (Arena local = Arena.ofConfined()) {
            MemorySegment out = local.allocate(JAVA_LONG);
            check("cuMemAlloc_v2", call("cuMemAlloc_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), out, bytes));
            return out.get(JAVA_LONG, 0);
        }
    }

    @Override
    public void free(long devicePointer) {
        check("cuMemFree_v2", call("cuMemFree_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG), devicePointer));
    }

    @Override
    public void copyToDevice(MemorySegment host, long devicePointer, long bytes) {
        if (bytes == 0) {
            return;
        }
        try (Arena local = Arena.ofConfined()) {
            MemorySegment src = nativeCopy(local, host, bytes);
            check("cuMemcpyHtoD_v2", call("cuMemcpyHtoD_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG),
                    devicePointer, src, bytes));
        }
    }

    @Override
    public void copyFromDevice(long devicePointer, MemorySegment host, long bytes) {
        if (bytes == 0) {
            return;
        }
        if (host.isNative()) {
            check("cuMemcpyDtoH_v2", call("cuMemcpyDtoH_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG),
                    host, devicePointer, bytes));
            return;
        }
        try (Arena local = Arena.ofConfined()) { // a heap segment cannot be handed to native code: bounce
            MemorySegment bounce = local.allocate(bytes, 16);
            check("cuMemcpyDtoH_v2", call("cuMemcpyDtoH_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG),
                    bounce, devicePointer, bytes));
            MemorySegment.copy(bounce, 0, host, 0, bytes);
        }
    }

    @Override
    public void loadModule(byte[] image) {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment data = local.allocate(image.length + 1L, 16); // PTX must end with a NUL
            MemorySegment.copy(image, 0, data, JAVA_BYTE, 0, image.length);
            MemorySegment out = local.allocate(ADDRESS);
            check("cuModuleLoadData", call("cuModuleLoadData", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), out, data));
            module = out.get(ADDRESS, 0);
        }
    }

    @Override
    public long function(String name) {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment out = local.allocate(ADDRESS);
            check("cuModuleGetFunction(" + name + ")", call("cuModuleGetFunction",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS), out, module, local.allocateFrom(name)));
            return out.get(ADDRESS, 0).address();
        }
    }

    @Override
    public void launch(long function, int gridX, int blockX, KernelArgs args) {
        check("cuLaunchKernel", call("cuLaunchKernel", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT,
                        JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS),
                function, gridX, 1, 1, blockX, 1, 1, 0, MemorySegment.NULL, args.array(), MemorySegment.NULL));
    }

    @Override
    public void synchronize() {
        check("cuCtxSynchronize", call("cuCtxSynchronize", FunctionDescriptor.of(JAVA_INT)));
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            makeCurrent();
            if (!module.equals(MemorySegment.NULL)) {
                call("cuModuleUnload", FunctionDescriptor.of(JAVA_INT, ADDRESS), module);
            }
            call("cuDevicePrimaryCtxRelease_v2", FunctionDescriptor.of(JAVA_INT, JAVA_INT), device);
        } catch (GpuDriverException e) {
            // a lost device cannot release anything more; the process exit reclaims it
        } finally {
            arena.close();
        }
    }

    /** The library this driver is bound to. */
    protected final SymbolLookup library() {
        return library;
    }

    /** The driver's text for {@code code}, or a placeholder when it has none. */
    protected final String errorText(int code) {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment out = local.allocate(ADDRESS);
            int rc = (int) handle("cuGetErrorString", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS))
                    .invokeExact(code, out);
            MemorySegment text = out.get(ADDRESS, 0);
            return rc != 0 || text.equals(MemorySegment.NULL) ? "unknown error"
                    : text.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            return "unknown error (cuGetErrorString failed: " + t + ")";
        }
    }

    /** Fails with the driver's code and text unless {@code rc} is CUDA_SUCCESS. */
    protected final void check(String what, int rc) {
        if (rc != 0) {
            throw new GpuDriverException(what, rc, errorText(rc));
        }
    }

    /** Calls an int-returning driver function bound on first use. */
    protected final int call(String symbol, FunctionDescriptor descriptor, Object... args) {
        try {
            return (int) handle(symbol, descriptor).invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("calling " + symbol + " failed", t);
        }
    }

    private synchronized MethodHandle handle(String symbol, FunctionDescriptor descriptor) {
        return handles.computeIfAbsent(symbol, s -> LINKER.downcallHandle(library.find(s).orElseThrow(
                () -> new NoSuchElementException("the " + api + " driver library has no symbol " + s)), descriptor));
    }

    private int attribute(Arena local, int attribute) {
        MemorySegment out = local.allocate(JAVA_INT);
        int rc = call("cuDeviceGetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), out,
                attribute, device);
        return rc == 0 ? out.get(JAVA_INT, 0) : 0; // 0: not reported (newer drivers drop some attributes)
    }

    private static MemorySegment nativeCopy(Arena local, MemorySegment host, long bytes) {
        if (host.isNative()) {
            return host;
        }
        MemorySegment copy = local.allocate(bytes, 16);
        MemorySegment.copy(host, 0, copy, 0, bytes);
        return copy;
    }

}
