package dev.mempipe.gpu;

import dev.mempipe.spi.Availability;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.BackendProvider;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Path;
import java.util.NoSuchElementException;

/**
 * Finds an NVIDIA GPU through the CUDA driver library, else an AMD GPU through HIP, and makes the
 * {@link GpuBackend} for device 0. Loading this class touches nothing native; {@link #availability()} loads the
 * driver libraries and reports, in words, why the backend cannot run: for CUDA no {@code libcuda.so.1}, a
 * {@code cuInit} error, no device, or no code for the device's arch (no NVRTC and no matching prebuilt code in
 * the jar); then HIP's reason (no {@code libamdhip64}, no device, no hiprtc). The HIP path is compile- and
 * symbol-checked only (see docs/gpu.md).
 *
 * <p>{@code -Dmempipe.cuda.library=} names another driver library (a path, or a name for the loader).
 * Thread-safety: the probe runs once (synchronized); {@link #create()} may be called from any thread.
 */
public final class GpuBackendProvider implements BackendProvider {
    /** System property naming the CUDA driver library. */
    public static final String LIBRARY_PROPERTY = "mempipe.cuda.library";
    private static final String DEFAULT_LIBRARY = "libcuda.so.1";

    private final String library;
    private final KernelCode.NvrtcLoader nvrtc;
    private Availability availability;
    private boolean hip;

    public GpuBackendProvider() {
        this(System.getProperty(LIBRARY_PROPERTY, DEFAULT_LIBRARY), Nvrtc::load);
    }

    GpuBackendProvider(String library, KernelCode.NvrtcLoader nvrtc) {
        this.library = library;
        this.nvrtc = nvrtc;
    }

    @Override
    public String name() {
        return "gpu";
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public synchronized Availability availability() {
        if (availability == null) {
            availability = probe();
        }
        return availability;
    }

    @Override
    public Backend create() {
        Availability a = availability();
        if (!a.available()) {
            throw new IllegalStateException("backend 'gpu' is unavailable: " + a.reason());
        }
        GpuDriver driver = hip ? HipDriver.open(Hip.load(), 0) : CudaDriver.open(lookup(), 0);
        try {
            return GpuBackend.open(driver, hip ? KernelCode.forHip(driver.info()) : KernelCode.forDevice(driver.info(), nvrtc));
        } catch (KernelCode.NoCodeException e) {
            driver.close();
            throw new IllegalStateException("backend 'gpu' is unavailable: " + e.getMessage(), e);
        }
    }

    private Availability probe() {
        Availability cuda = probeCuda();
        if (cuda.available()) {
            return cuda;
        }
        Availability amd = probeHip();
        if (amd.available()) {
            hip = true;
            return amd;
        }
        return Availability.unavailable(cuda.reason() + "; hip: " + amd.reason());
    }

    private static Availability probeHip() {
        Hip runtime;
        try {
            runtime = Hip.load();
        } catch (IllegalStateException e) {
            return Availability.unavailable(e.getMessage());
        }
        Hip.DeviceCount count = runtime.deviceCount();
        if (count.count() == 0) {
            return Availability.unavailable(count.reason());
        }
        HipDriver driver;
        try {
            driver = HipDriver.open(runtime, 0);
        } catch (GpuDriverException | IllegalStateException | NoSuchElementException e) {
            return Availability.unavailable(e.getMessage());
        }
        try {
            KernelCode.Image image = KernelCode.forHip(driver.info());
            GpuDriver.DeviceInfo info = driver.info();
            return Availability.available("hip: " + info.name() + " (" + info.arch() + ", "
                    + info.totalMemoryBytes() / (1 << 20) + " MiB); code: " + image.origin());
        } catch (KernelCode.NoCodeException e) {
            return Availability.unavailable(e.getMessage());
        } finally {
            driver.close();
        }
    }

    private Availability probeCuda() {
        SymbolLookup lib;
        try {
            lib = lookup();
        } catch (IllegalArgumentException e) {
            return Availability.unavailable("no " + library + ": the NVIDIA driver library is not installed or not on"
                    + " the loader path (" + e.getMessage() + ")");
        }
        CudaDriver driver;
        try {
            driver = CudaDriver.open(lib, 0);
        } catch (GpuDriverException e) {
            String kind = switch (e.call()) {
                case "cuInit" -> "cuInit error: ";
                case "cuDeviceGetCount", "cuDeviceGet" -> "no device: ";
                default -> "the driver failed: ";
            };
            return Availability.unavailable(kind + e.getMessage());
        } catch (NoSuchElementException e) {
            return Availability.unavailable(library + " is not a usable CUDA driver: " + e.getMessage());
        }
        try {
            KernelCode.Image image = KernelCode.forDevice(driver.info(), nvrtc);
            GpuDriver.DeviceInfo info = driver.info();
            return Availability.available("cuda: " + info.name() + " (" + info.arch() + ", "
                    + info.totalMemoryBytes() / (1 << 20) + " MiB); code: " + image.origin());
        } catch (KernelCode.NoCodeException e) {
            return Availability.unavailable(e.getMessage());
        } finally {
            driver.close();
        }
    }

    private SymbolLookup lookup() {
        return library.contains("/") ? SymbolLookup.libraryLookup(Path.of(library), Arena.global())
                : SymbolLookup.libraryLookup(library, Arena.global());
    }
}
