package dev.mempipe.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.NoSuchElementException;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * {@link GpuDriver} over the CUDA driver API ({@code libcuda.so.1}), bound by hand-written FFM downcalls to the
 * versioned symbols ({@code cuMemAlloc_v2}, ...) and using the device's primary context. The same binding
 * drives gsim ({@link GsimDriver}), whose library exports these names. Every function is bound once, when the
 * driver opens, and called through {@code invokeExact}: the calls an op makes cost no boxing.
 *
 * <p>Thread-safety: see {@link GpuDriver}; the context is made current by {@link #makeCurrent()}. The
 * out-parameter scratch is shared, so calls must not overlap (the backend's device lock ensures it).
 */
public class CudaDriver implements GpuDriver {
    // CUdevice_attribute values (cuda.h)
    private static final int WARP_SIZE = 10;
    private static final int CLOCK_RATE = 13;
    private static final int MULTIPROCESSOR_COUNT = 16;
    private static final int MEMORY_CLOCK_RATE = 36;
    private static final int GLOBAL_MEMORY_BUS_WIDTH = 37;
    private static final int COMPUTE_CAPABILITY_MAJOR = 75;
    private static final int COMPUTE_CAPABILITY_MINOR = 76;

    private final SymbolLookup library;
    private final Arena arena = Arena.ofShared();
    /** Out-parameters of the calls (8 bytes each is enough): one op's calls never overlap. */
    private final MemorySegment scratch = arena.allocate(16, 8);
    private final int device;
    private final MemorySegment context;
    private final DeviceInfo info;
    private final int driverVersion;
    private MemorySegment module = MemorySegment.NULL;
    private boolean closed;

    private final MethodHandle cuGetErrorString;
    private final MethodHandle cuCtxSetCurrent;
    private final MethodHandle cuMemAlloc;
    private final MethodHandle cuMemFree;
    private final MethodHandle cuMemcpyHtoD;
    private final MethodHandle cuMemcpyDtoH;
    private final MethodHandle cuMemcpyDtoD;
    private final MethodHandle cuModuleLoadData;
    private final MethodHandle cuModuleGetFunction;
    private final MethodHandle cuModuleUnload;
    private final MethodHandle cuLaunchKernel;
    private final MethodHandle cuCtxSynchronize;
    private final MethodHandle cuDeviceGetAttribute;

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
        Downcalls d = new Downcalls(library, "the " + api + " driver library");
        cuGetErrorString = d.bind("cuGetErrorString", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        cuCtxSetCurrent = d.bind("cuCtxSetCurrent", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cuMemAlloc = d.bind("cuMemAlloc_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        cuMemFree = d.bind("cuMemFree_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
        cuMemcpyHtoD = d.bind("cuMemcpyHtoD_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG));
        cuMemcpyDtoH = d.bind("cuMemcpyDtoH_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
        cuMemcpyDtoD = d.bind("cuMemcpyDtoD_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        cuModuleLoadData = d.bind("cuModuleLoadData", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cuModuleGetFunction = d.bind("cuModuleGetFunction", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        cuModuleUnload = d.bind("cuModuleUnload", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cuLaunchKernel = d.bind("cuLaunchKernel", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        cuCtxSynchronize = d.bind("cuCtxSynchronize", FunctionDescriptor.of(JAVA_INT));
        cuDeviceGetAttribute = d.bind("cuDeviceGetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        MethodHandle cuInit = d.bind("cuInit", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        MethodHandle cuDeviceGetCount = d.bind("cuDeviceGetCount", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MethodHandle cuDeviceGet = d.bind("cuDeviceGet", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        MethodHandle retain = d.bind("cuDevicePrimaryCtxRetain", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        MethodHandle getName = d.bind("cuDeviceGetName", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        MethodHandle totalMem = d.bind("cuDeviceTotalMem_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        try (Arena local = Arena.ofConfined()) {
            check("cuInit", (int) cuInit.invokeExact(0));
            MemorySegment count = local.allocate(JAVA_INT);
            check("cuDeviceGetCount", (int) cuDeviceGetCount.invokeExact(count));
            if (count.get(JAVA_INT, 0) <= ordinal) {
                throw new GpuDriverException("cuDeviceGetCount", 100, "no CUDA device " + ordinal + " (the driver reports "
                        + count.get(JAVA_INT, 0) + ")");
            }
            MemorySegment dev = local.allocate(JAVA_INT);
            check("cuDeviceGet", (int) cuDeviceGet.invokeExact(dev, ordinal));
            device = dev.get(JAVA_INT, 0);
            MemorySegment ctx = local.allocate(ADDRESS);
            check("cuDevicePrimaryCtxRetain", (int) retain.invokeExact(ctx, device));
            context = ctx.get(ADDRESS, 0);
            makeCurrent();
            MemorySegment name = local.allocate(256);
            check("cuDeviceGetName", (int) getName.invokeExact(name, 256, device));
            MemorySegment bytes = local.allocate(JAVA_LONG);
            check("cuDeviceTotalMem_v2", (int) totalMem.invokeExact(bytes, device));
            info = new DeviceInfo(api, name.getString(0), attribute(COMPUTE_CAPABILITY_MAJOR),
                    attribute(COMPUTE_CAPABILITY_MINOR), attribute(WARP_SIZE), bytes.get(JAVA_LONG, 0),
                    attribute(MULTIPROCESSOR_COUNT), attribute(CLOCK_RATE), attribute(MEMORY_CLOCK_RATE),
                    attribute(GLOBAL_MEMORY_BUS_WIDTH));
            MemorySegment version = local.allocate(JAVA_INT);
            driverVersion = d.has("cuDriverGetVersion") && (int) d.bind("cuDriverGetVersion",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS)).invokeExact(version) == 0 ? version.get(JAVA_INT, 0) : 0;
        } catch (Throwable t) {
            arena.close();
            throw Downcalls.failed("the " + api + " driver's start-up calls", t);
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

    /** {@code cuDriverGetVersion}'s number (13000 for CUDA 13.0), or 0 when the library does not say. */
    public int driverVersion() {
        return driverVersion;
    }

    @Override
    public void makeCurrent() {
        int rc;
        try {
            rc = (int) cuCtxSetCurrent.invokeExact(context);
        } catch (Throwable t) {
            throw Downcalls.failed("cuCtxSetCurrent", t);
        }
        check("cuCtxSetCurrent", rc);
    }

    @Override
    public long alloc(long bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("alloc: bytes must be >= 1, got " + bytes);
        }
        int rc;
        try {
            rc = (int) cuMemAlloc.invokeExact(scratch, bytes);
        } catch (Throwable t) {
            throw Downcalls.failed("cuMemAlloc_v2", t);
        }
        check("cuMemAlloc_v2", rc);
        return scratch.get(JAVA_LONG, 0);
    }

    @Override
    public void free(long devicePointer) {
        int rc;
        try {
            rc = (int) cuMemFree.invokeExact(devicePointer);
        } catch (Throwable t) {
            throw Downcalls.failed("cuMemFree_v2", t);
        }
        check("cuMemFree_v2", rc);
    }

    @Override
    public void copyToDevice(MemorySegment host, long devicePointer, long bytes) {
        if (bytes == 0) {
            return;
        }
        if (host.isNative()) {
            check("cuMemcpyHtoD_v2", htoD(devicePointer, host, bytes));
            return;
        }
        try (Arena local = Arena.ofConfined()) { // a heap segment cannot be handed to native code: bounce
            MemorySegment bounce = local.allocate(bytes, 16);
            MemorySegment.copy(host, 0, bounce, 0, bytes);
            check("cuMemcpyHtoD_v2", htoD(devicePointer, bounce, bytes));
        }
    }

    private int htoD(long devicePointer, MemorySegment src, long bytes) {
        try {
            return (int) cuMemcpyHtoD.invokeExact(devicePointer, src, bytes);
        } catch (Throwable t) {
            throw Downcalls.failed("cuMemcpyHtoD_v2", t);
        }
    }

    @Override
    public void copyFromDevice(long devicePointer, MemorySegment host, long bytes) {
        if (bytes == 0) {
            return;
        }
        if (host.isNative()) {
            check("cuMemcpyDtoH_v2", dtoH(host, devicePointer, bytes));
            return;
        }
        try (Arena local = Arena.ofConfined()) { // a heap segment cannot be handed to native code: bounce
            MemorySegment bounce = local.allocate(bytes, 16);
            check("cuMemcpyDtoH_v2", dtoH(bounce, devicePointer, bytes));
            MemorySegment.copy(bounce, 0, host, 0, bytes);
        }
    }

    private int dtoH(MemorySegment dst, long devicePointer, long bytes) {
        try {
            return (int) cuMemcpyDtoH.invokeExact(dst, devicePointer, bytes);
        } catch (Throwable t) {
            throw Downcalls.failed("cuMemcpyDtoH_v2", t);
        }
    }

    @Override
    public void copyOnDevice(long from, long to, long bytes) {
        if (bytes == 0) {
            return;
        }
        int rc;
        try {
            rc = (int) cuMemcpyDtoD.invokeExact(to, from, bytes);
        } catch (Throwable t) {
            throw Downcalls.failed("cuMemcpyDtoD_v2", t);
        }
        check("cuMemcpyDtoD_v2", rc);
    }

    @Override
    public void loadModule(byte[] image) {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment data = local.allocate(image.length + 1L, 16); // PTX must end with a NUL
            MemorySegment.copy(image, 0, data, JAVA_BYTE, 0, image.length);
            MemorySegment out = local.allocate(ADDRESS);
            int rc;
            try {
                rc = (int) cuModuleLoadData.invokeExact(out, data);
            } catch (Throwable t) {
                throw Downcalls.failed("cuModuleLoadData", t);
            }
            check("cuModuleLoadData", rc);
            module = out.get(ADDRESS, 0);
        }
    }

    @Override
    public long function(String name) {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment out = local.allocate(ADDRESS);
            int rc;
            try {
                rc = (int) cuModuleGetFunction.invokeExact(out, module, local.allocateFrom(name));
            } catch (Throwable t) {
                throw Downcalls.failed("cuModuleGetFunction", t);
            }
            check("cuModuleGetFunction(" + name + ")", rc);
            return out.get(ADDRESS, 0).address();
        }
    }

    @Override
    public void launch(long function, int gridX, int blockX, KernelArgs args) {
        int rc;
        try {
            rc = (int) cuLaunchKernel.invokeExact(function, gridX, 1, 1, blockX, 1, 1, 0, MemorySegment.NULL,
                    args.array(), MemorySegment.NULL);
        } catch (Throwable t) {
            throw Downcalls.failed("cuLaunchKernel", t);
        }
        check("cuLaunchKernel", rc);
    }

    @Override
    public void synchronize() {
        int rc;
        try {
            rc = (int) cuCtxSynchronize.invokeExact();
        } catch (Throwable t) {
            throw Downcalls.failed("cuCtxSynchronize", t);
        }
        check("cuCtxSynchronize", rc);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            makeCurrent();
            Downcalls d = new Downcalls(library, "the " + info.api() + " driver library");
            if (!module.equals(MemorySegment.NULL)) {
                int ignored = (int) cuModuleUnload.invokeExact(module);
            }
            int ignored = (int) d.bind("cuDevicePrimaryCtxRelease_v2", FunctionDescriptor.of(JAVA_INT, JAVA_INT))
                    .invokeExact(device);
        } catch (Throwable e) {
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
            int rc = (int) cuGetErrorString.invokeExact(code, out);
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

    private int attribute(int attribute) throws Throwable {
        int rc = (int) cuDeviceGetAttribute.invokeExact(scratch, attribute, device);
        return rc == 0 ? scratch.get(JAVA_INT, 0) : 0; // 0: not reported (newer drivers drop some attributes)
    }
}
