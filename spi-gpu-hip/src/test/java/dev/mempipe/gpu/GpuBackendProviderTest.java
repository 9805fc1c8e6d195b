package dev.mempipe.gpu;

import dev.mempipe.spi.Availability;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.BackendProvider;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Path;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Discovery: the provider loads through ServiceLoader on any machine, says exactly why it cannot run, and
 * over gsim (standing in for libcuda) goes the whole way: driver, code for the arch, a working backend.
 */
class GpuBackendProviderTest {
    private static final KernelCode.NvrtcLoader NO_NVRTC = () -> {
        throw new Nvrtc.UnavailableException("NVRTC disabled by the test");
    };

    @AfterEach
    void restoreComputeCapability() {
        GsimDriver.reportComputeCapability(Gsim.library(), 9, 0);
    }

    @Test
    void should_be_found_by_the_service_loader() {
        boolean found = ServiceLoader.load(BackendProvider.class).stream()
                .anyMatch(p -> p.type() == GpuBackendProvider.class);
        assertTrue(found, "META-INF/services must register GpuBackendProvider");
    }

    @Test
    void should_report_a_missing_driver_library_by_name() {
        Availability a = new GpuBackendProvider("libcuda-not-here.so.1", NO_NVRTC).availability();
        assertFalse(a.available());
        assertTrue(a.reason().startsWith("no libcuda-not-here.so.1: the NVIDIA driver library is not installed"),
                a.reason());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new GpuBackendProvider("libcuda-not-here.so.1", NO_NVRTC).create());
        assertTrue(e.getMessage().contains("no libcuda-not-here.so.1"), e.getMessage());
    }

    @Test
    void should_report_no_libcuda_on_a_machine_without_the_driver() {
        boolean driverInstalled;
        try {
            SymbolLookup.libraryLookup("libcuda.so.1", Arena.global());
            driverInstalled = true;
        } catch (IllegalArgumentException e) {
            driverInstalled = false;
        }
        Assumptions.assumeFalse(driverInstalled, "skipped: this machine has libcuda.so.1");
        Availability a = new GpuBackendProvider().availability();
        assertFalse(a.available());
        assertTrue(a.reason().startsWith("no libcuda.so.1"), a.reason());
    }

    @Test
    void should_create_a_working_backend_over_gsim_with_the_prebuilt_or_compiled_code() {
        Path gsim = Gsim.library();
        GpuBackendProvider provider = new GpuBackendProvider(gsim.toString(), this::nvrtcIfBuilt);
        Availability a = provider.availability();
        assertTrue(a.available(), a.reason());
        assertTrue(a.reason().startsWith("cuda: gsim (CPU"), a.reason());
        try (Backend gpu = provider.create(); Arena arena = Arena.ofConfined()) {
            Tensor s = Tensor.allocate(arena, ElementType.F32, 1, 2);
            gpu.relevancy().dot(Tensor.vector(arena, 1, 2), Tensor.of(arena, new float[]{3, 4, -1, 0.5f}, 2, 2), s);
            assertArrayEquals(new float[]{11, 0}, s.toFloatArray());
            assertEquals("gpu", gpu.name());
        }
    }

    @Test
    void should_report_no_code_for_an_arch_without_nvrtc_or_prebuilt_code() {
        Path gsim = Gsim.library();
        GsimDriver.reportComputeCapability(gsim, 8, 0);
        Availability a = new GpuBackendProvider(gsim.toString(), NO_NVRTC).availability();
        assertFalse(a.available());
        assertTrue(a.reason().startsWith("no code for the arch sm_80: NVRTC disabled by the test"), a.reason());
    }

    @Test
    void should_fall_back_to_the_prebuilt_cubin_without_nvrtc() throws Exception {
        String skipped = Gsim.skipped("nvcc");
        Assumptions.assumeTrue(skipped == null, () -> "skipped: the build shipped no prebuilt code: " + skipped);
        GpuDriver.DeviceInfo h100 = new GpuDriver.DeviceInfo("cuda", "H100", 9, 0, 32, 80L << 30, 132, 1_980_000,
                2_619_000, 5120);
        KernelCode.Image image = KernelCode.forDevice(h100, NO_NVRTC);
        assertEquals("prebuilt sm_90 cubin (nvcc)", image.origin());
        assertEquals('E', image.bytes()[1]);
        GpuDriver.DeviceInfo b200 = new GpuDriver.DeviceInfo("cuda", "B200", 10, 0, 32, 180L << 30, 148, 1_965_000,
                4_000_000, 8192);
        assertTrue(KernelCode.forDevice(b200, NO_NVRTC).origin().startsWith("prebuilt compute_90 PTX"),
                "a newer arch JIT-compiles the shipped PTX");
    }

    private Nvrtc nvrtcIfBuilt() throws Nvrtc.UnavailableException {
        String skipped = Gsim.skipped("nvrtc");
        if (skipped != null) {
            throw new Nvrtc.UnavailableException(skipped);
        }
        return Nvrtc.loadFile(Gsim.nvrtcLibrary());
    }
}
