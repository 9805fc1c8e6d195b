package dev.mempipe.gpu;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The AMD path as far as a machine without a GPU can check it: the HIP runtime loads (Debian's ROCm 5.2,
 * installed by .ci/run), reports no device with HIP's own error, and hiprtc compiles the kernel source for
 * gfx90a (the MI210) into a code object holding every kernel. Skipped, saying so, where ROCm is not installed.
 */
class HipTest {
    private static final String[] KERNELS = {"mp_dot", "mp_quest_bound", "mp_indexer_score", "mp_group_max",
            "mp_threshold", "mp_top_k", "mp_softmax", "mp_gather", "mp_attention", "mp_soft_retrieve", "mp_project"};

    private static Hip hip() {
        try {
            return Hip.load();
        } catch (IllegalStateException e) {
            Assumptions.abort("skipped: " + e.getMessage() + " (.ci/run installs libamdhip64-5 and hiprtc)");
            return null;
        }
    }

    @Test
    void should_report_no_device_with_hips_own_error() {
        Hip.DeviceCount count = hip().deviceCount();
        Assumptions.assumeTrue(count.count() == 0, () -> "skipped: this machine has an AMD GPU: " + count.reason());
        assertTrue(count.reason().startsWith("no device: hipGetDeviceCount returned hipErrorNoDevice (100)"),
                count.reason());
    }

    @Test
    void hiprtc_should_compile_the_kernel_source_for_gfx90a() {
        Hiprtc rtc = new Hiprtc(hip().hiprtc());
        byte[] code = rtc.compile(KernelCode.source(), KernelCode.SOURCE, "gfx90a").image();
        assertTrue(code.length > 1024, "code object of " + code.length + " bytes");
        String text = new String(code, StandardCharsets.ISO_8859_1);
        assertTrue(text.contains("ELF") || text.contains("__CLANG_OFFLOAD_BUNDLE__"), "an ELF or an offload bundle");
        assertTrue(text.contains("gfx90a"), "the code object names its target");
        for (String kernel : KERNELS) {
            assertTrue(text.contains(kernel), "the code object lacks kernel " + kernel);
        }
    }

    @Test
    void the_hip_driver_should_find_every_symbol_it_binds_and_report_no_device() {
        Hip runtime = hip();
        assertEquals(java.util.List.of(), HipDriver.missingSymbols(runtime), "symbols missing from " + runtime.where());
        Assumptions.assumeTrue(runtime.deviceCount().count() == 0, "skipped: this machine has an AMD GPU");
        GpuDriverException e = org.junit.jupiter.api.Assertions.assertThrows(GpuDriverException.class,
                () -> HipDriver.open(runtime, 0));
        assertTrue(e.getMessage().contains("no device: hipGetDeviceCount returned hipErrorNoDevice (100)"), e.getMessage());
    }

    @Test
    void the_provider_should_report_hips_reason_after_cudas() {
        hip();
        dev.mempipe.spi.Availability a = new GpuBackendProvider("libcuda-not-here.so.1", () -> {
            throw new Nvrtc.UnavailableException("NVRTC disabled by the test");
        }).availability();
        Assumptions.assumeFalse(a.available(), "skipped: this machine has a GPU");
        assertTrue(a.reason().startsWith("no libcuda-not-here.so.1"), a.reason());
        assertTrue(a.reason().contains("; hip: no device: hipGetDeviceCount returned hipErrorNoDevice (100)"), a.reason());
    }

    @Test
    void gfx_target_versions_should_name_compiler_targets() {
        assertEquals("gfx90a", HipDriver.gfxName(90010));
        assertEquals("gfx908", HipDriver.gfxName(90008));
        assertEquals("gfx942", HipDriver.gfxName(90402));
        assertEquals("gfx1100", HipDriver.gfxName(110000));
    }

    @Test
    void hiprtc_should_report_a_compile_error_with_the_log() {
        Hiprtc rtc = new Hiprtc(hip().hiprtc());
        GpuDriverException e = org.junit.jupiter.api.Assertions.assertThrows(GpuDriverException.class, () -> rtc.compile(
                "extern \"C\" __global__ void broken(int* x) { x[0] = undeclared; }", "broken.cu", "gfx90a"));
        assertTrue(e.getMessage().contains("undeclared"), e.getMessage());
        assertEquals("hiprtcCompileProgram(broken.cu, gfx90a)", e.call());
    }
}
