package dev.mempipe.gpu;

import java.lang.foreign.MemorySegment;

/**
 * The few driver calls the GPU backend makes, one device per instance: what the CUDA driver API and HIP have
 * in common. Device memory is addressed by 64-bit device pointers ({@code long}); kernels come from one module
 * image ({@link #loadModule}) and are launched on a 1-D grid with their parameters as the driver's
 * {@code void**} array ({@link KernelArgs}).
 *
 * <p>Thread-safety: not thread-safe. Contexts are per OS thread, so the caller holds the device's lock for a
 * group of calls and calls {@link #makeCurrent()} first in that group, on the thread that makes the calls
 * (the backend does both). Failures are {@link GpuDriverException}s carrying the driver's code and text.
 */
public interface GpuDriver extends AutoCloseable {

    /**
     * What the driver reports about its device; {@code arch} is the target name compilers use ({@code sm_90}
     * for compute capability 9.0, {@code gfx90a} for an MI210).
     */
    record DeviceInfo(String api, String name, int computeMajor, int computeMinor, int warpSize,
                      long totalMemoryBytes, int multiprocessors, int clockKhz, int memoryClockKhz,
                      int memoryBusWidthBits, String arch) {
        /** An NVIDIA device (or gsim): the arch is {@code sm_<major><minor>}. */
        public DeviceInfo(String api, String name, int computeMajor, int computeMinor, int warpSize,
                          long totalMemoryBytes, int multiprocessors, int clockKhz, int memoryClockKhz,
                          int memoryBusWidthBits) {
            this(api, name, computeMajor, computeMinor, warpSize, totalMemoryBytes, multiprocessors, clockKhz,
                    memoryClockKhz, memoryBusWidthBits, "sm_" + computeMajor + computeMinor);
        }
    }

    DeviceInfo info();

    /** Makes this driver's context current on the calling thread: first call of every call group. */
    void makeCurrent();

    /** Allocates {@code bytes >= 1} of device memory. */
    long alloc(long bytes);

    void free(long devicePointer);

    /** Copies {@code bytes} from host memory to device memory (synchronously). */
    void copyToDevice(MemorySegment host, long devicePointer, long bytes);

    /** Copies {@code bytes} from device memory into host memory (synchronously). */
    void copyFromDevice(long devicePointer, MemorySegment host, long bytes);

    /** Copies {@code bytes} from device memory to device memory (both on this device). */
    void copyOnDevice(long from, long to, long bytes);

    /** Loads the module (cubin, PTX or, for gsim, anything) whose kernels {@link #function} finds. */
    void loadModule(byte[] image);

    /** The handle of kernel {@code name} of the loaded module. */
    long function(String name);

    /** Launches {@code function} on {@code gridX} blocks of {@code blockX} threads. */
    void launch(long function, int gridX, int blockX, KernelArgs args);

    /** Waits for every launched kernel to finish (and reports its fault, if any). */
    void synchronize();

    /** Unloads the module and releases the context. Idempotent. */
    @Override
    void close();
}
