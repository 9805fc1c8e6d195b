package dev.mempipe.gpu;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Where the module image for a device comes from. AMD: hiprtc for its gfx arch. NVIDIA: NVRTC compiling the
 * kernel source for the device's
 * {@code sm_XX}; without NVRTC, the code {@code nvcc} built into the jar at build time (an exact-arch cubin, or
 * PTX for an arch at or below the device's, which the driver compiles forward).
 */
public final class KernelCode {
    /** The kernel source's resource name (beside this class). */
    public static final String SOURCE = "mempipe_kernels.cu";
    /** The compute capabilities whose PTX the build ships (PTX runs on this arch and newer). */
    private static final int[] PREBUILT_PTX = {90};

    /** A module image and where it came from, for descriptions. */
    public record Image(byte[] bytes, String origin) {
    }

    /** No code can be had for the device's arch; the message says what was tried. */
    public static final class NoCodeException extends Exception {
        NoCodeException(String message) {
            super(message);
        }
    }

    /** Loads NVRTC (a seam for tests). */
    @FunctionalInterface
    public interface NvrtcLoader {
        Nvrtc load() throws Nvrtc.UnavailableException;
    }

    private KernelCode() {
    }

    /** The kernel source shipped in the jar. */
    public static String source() {
        try (InputStream in = KernelCode.class.getResourceAsStream(SOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the jar lacks the kernel source " + SOURCE + " beside " + KernelCode.class);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Code for {@code info}'s device: NVRTC first, then the prebuilt code.
     *
     * @throws NoCodeException naming the arch, why NVRTC was not used and what the jar holds
     */
    public static Image forDevice(GpuDriver.DeviceInfo info, NvrtcLoader nvrtc) throws NoCodeException {
        String arch = info.arch();
        String nvrtcReason;
        try {
            Nvrtc compiler = nvrtc.load();
            Nvrtc.Compiled compiled = compiler.compile(source(), SOURCE, arch, true);
            return new Image(compiled.image(), "NVRTC " + compiler.version() + " " + arch + " cubin");
        } catch (Nvrtc.UnavailableException e) {
            nvrtcReason = e.getMessage();
        } catch (GpuDriverException e) {
            nvrtcReason = "NVRTC could not compile for " + arch + ": " + e.getMessage();
        }
        byte[] cubin = prebuilt("mempipe_kernels." + arch + ".cubin");
        if (cubin != null) {
            return new Image(cubin, "prebuilt " + arch + " cubin (nvcc)");
        }
        int cc = info.computeMajor() * 10 + info.computeMinor();
        for (int ptxArch : PREBUILT_PTX) {
            byte[] ptx = ptxArch <= cc ? prebuilt("mempipe_kernels.compute_" + ptxArch + ".ptx") : null;
            if (ptx != null) {
                return new Image(ptx, "prebuilt compute_" + ptxArch + " PTX (nvcc), JIT-compiled for " + arch);
            }
        }
        throw new NoCodeException("no code for the arch " + arch + ": " + nvrtcReason
                + "; the jar's prebuilt code (sm_90 cubin, compute_90 PTX, when nvcc was present at build time) does not run on it");
    }

    /**
     * Code for an AMD device: hiprtc compiles the source for its {@code gfxNNN} arch (no prebuilt code objects
     * are shipped).
     *
     * @throws NoCodeException naming the arch and why hiprtc could not be used
     */
    public static Image forHip(GpuDriver.DeviceInfo info) throws NoCodeException {
        try {
            Hiprtc rtc = new Hiprtc(Hip.load().hiprtc());
            return new Image(rtc.compile(source(), SOURCE, info.arch()).image(), "hiprtc " + info.arch() + " code object");
        } catch (IllegalStateException | java.util.NoSuchElementException | GpuDriverException e) {
            throw new NoCodeException("no code for the arch " + info.arch() + ": " + e.getMessage());
        }
    }

    private static byte[] prebuilt(String name) {
        try (InputStream in = KernelCode.class.getResourceAsStream("prebuilt/" + name)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
