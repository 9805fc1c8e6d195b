package dev.mempipe.gpu.check;

import dev.mempipe.gpu.CudaDriver;
import dev.mempipe.gpu.GpuBackend;
import dev.mempipe.gpu.GpuBackendProvider;
import dev.mempipe.gpu.GpuDriver;
import dev.mempipe.gpu.GsimDriver;
import dev.mempipe.gpu.KernelCode;
import dev.mempipe.gpu.Nvrtc;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Path;

/**
 * The device the check runs on: CUDA device 0 through the system's driver library (a real GPU), or gsim (the
 * kernel source built with g++, through the same CUDA binding) on a machine without one. On gsim every item
 * that only a GPU can answer says so.
 *
 * <p>Immutable; each {@link #driver()} opens a new driver (on gsim they share the one simulated device).
 */
final class CheckTarget {
    private final Path gsimLibrary;
    private final int warpSize;

    private CheckTarget(Path gsimLibrary, int warpSize) {
        this.gsimLibrary = gsimLibrary;
        this.warpSize = warpSize;
    }

    /** CUDA device 0 ({@code -Dmempipe.cuda.library} or {@code libcuda.so.1}). */
    static CheckTarget cuda() {
        return new CheckTarget(null, 0);
    }

    /** gsim from {@code library}, reporting {@code warpSize}. */
    static CheckTarget gsim(Path library, int warpSize) {
        return new CheckTarget(library, warpSize);
    }

    /** Whether this is a real GPU. */
    boolean gpu() {
        return gsimLibrary == null;
    }

    Path gsimLibrary() {
        return gsimLibrary;
    }

    String describe() {
        return gpu() ? "CUDA device 0 through " + System.getProperty(GpuBackendProvider.LIBRARY_PROPERTY, "libcuda.so.1")
                : "gsim (" + gsimLibrary + ", warp " + warpSize + "): the kernel source built with g++ for the CPU, not a GPU";
    }

    /** A new driver for the device. */
    GpuDriver driver() {
        if (!gpu()) {
            return GsimDriver.open(gsimLibrary, warpSize);
        }
        String library = System.getProperty(GpuBackendProvider.LIBRARY_PROPERTY, "libcuda.so.1");
        SymbolLookup lookup = library.contains("/") ? SymbolLookup.libraryLookup(Path.of(library), Arena.global())
                : SymbolLookup.libraryLookup(library, Arena.global());
        return CudaDriver.open(lookup, 0);
    }

    /** The module image for {@code driver}'s device: NVRTC first, then the prebuilt code ({@code nvrtc}'s choice). */
    KernelCode.Image image(GpuDriver driver, KernelCode.NvrtcLoader nvrtc) throws KernelCode.NoCodeException {
        if (!gpu()) {
            return new KernelCode.Image(new byte[] {0}, "gsim (kernels built in with g++)");
        }
        return KernelCode.forDevice(driver.info(), nvrtc);
    }

    /** The backend over a new driver, with NVRTC when it loads, else the prebuilt code. */
    GpuBackend backend() throws KernelCode.NoCodeException {
        return backend(Nvrtc::load);
    }

    GpuBackend backend(KernelCode.NvrtcLoader nvrtc) throws KernelCode.NoCodeException {
        GpuDriver driver = driver();
        KernelCode.Image image;
        try {
            image = image(driver, nvrtc);
        } catch (KernelCode.NoCodeException | RuntimeException e) {
            driver.close();
            throw e;
        }
        return GpuBackend.open(driver, image);
    }

    /** A loader that never finds NVRTC: forces the prebuilt code. */
    static KernelCode.NvrtcLoader noNvrtc() {
        return () -> {
            throw new Nvrtc.UnavailableException("NVRTC left out by the check to run the prebuilt code");
        };
    }
}
