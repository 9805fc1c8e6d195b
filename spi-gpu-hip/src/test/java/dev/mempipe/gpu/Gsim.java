package dev.mempipe.gpu;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Test access to what src/build/native.sh built into target/native: gsim, the unpacked NVRTC. A part the build
 * skipped (its tool missing) skips the tests that need it with the build's reason; a part missing without a
 * reason fails them (a broken build must not pass as a skip).
 */
final class Gsim {
    private Gsim() {
    }

    static Path nativeDir() {
        return Path.of(System.getProperty("mempipe.gsim.dir", "target/native"));
    }

    static Path library() {
        return require("gsim", nativeDir().resolve(GsimDriver.LIBRARY));
    }

    static Path nvrtcLibrary() {
        return require("nvrtc", nativeDir().resolve("nvrtc/lib/libnvrtc.so.13"));
    }

    static GsimDriver driver(int warpSize) {
        return GsimDriver.open(library(), warpSize);
    }

    /** The GPU backend over gsim (fibers); the module image is ignored by gsim (its kernels are built in). */
    static GpuBackend backend(int warpSize) {
        return GpuBackend.open(driver(warpSize), new KernelCode.Image(new byte[]{0}, "gsim fibers (kernel source built with g++)"));
    }

    /** The GPU backend over gsim with one OS thread per GPU thread. */
    static GpuBackend backendOnOsThreads(int warpSize) {
        return GpuBackend.open(GsimDriver.open(library(), warpSize, true),
                new KernelCode.Image(new byte[]{0}, "gsim OS threads (kernel source built with g++)"));
    }

    /** The build's reason for skipping {@code part}, or null when it did not skip it. */
    static String skipped(String part) {
        Path reason = nativeDir().resolve(part + ".skipped");
        try {
            return Files.exists(reason) ? Files.readString(reason).strip() : null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path require(String part, Path file) {
        if (Files.exists(file)) {
            return file;
        }
        String reason = skipped(part);
        if (reason == null) {
            throw new AssertionError(file + " is missing and the native build gave no reason (see target/native)");
        }
        Assumptions.abort("skipped: " + part + " was not built: " + reason);
        return file;
    }
}
