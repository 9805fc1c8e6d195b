package dev.mempipe.gpu;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * NVRTC, from Java through FFM, compiles the kernel source shipped in the jar for sm_90 on a machine without a
 * GPU (the NVRTC library the build unpacked from the wheel on disk; skipped with the build's reason without it).
 */
class NvrtcTest {
    private static final String[] KERNELS = {"mp_dot", "mp_quest_bound", "mp_indexer_score", "mp_group_max",
            "mp_threshold", "mp_top_k", "mp_softmax", "mp_gather", "mp_attention", "mp_soft_retrieve"};

    @Test
    void should_compile_the_kernel_source_to_an_sm_90_cubin() throws Exception {
        Nvrtc nvrtc = Nvrtc.loadFile(Gsim.nvrtcLibrary());
        assertTrue(nvrtc.version().startsWith("13."), nvrtc.version());
        Nvrtc.Compiled cubin = nvrtc.compile(KernelCode.source(), KernelCode.SOURCE, "sm_90", true);
        byte[] image = cubin.image();
        assertTrue(image.length > 1024, "cubin of " + image.length + " bytes");
        assertEquals(0x7f, image[0]);
        assertEquals("ELF", new String(image, 1, 3, StandardCharsets.US_ASCII), "a cubin is an ELF file");
        String text = new String(image, StandardCharsets.ISO_8859_1);
        for (String kernel : KERNELS) {
            assertTrue(text.contains(kernel), "the cubin lacks kernel " + kernel);
        }
    }

    @Test
    void should_compile_the_kernel_source_to_ptx_with_every_entry() throws Exception {
        Nvrtc nvrtc = Nvrtc.loadFile(Gsim.nvrtcLibrary());
        String ptx = new String(nvrtc.compile(KernelCode.source(), KernelCode.SOURCE, "sm_90", false).image(),
                StandardCharsets.US_ASCII);
        assertTrue(ptx.contains(".target sm_90"), "PTX for compute_90 targets sm_90");
        for (String kernel : KERNELS) {
            assertTrue(ptx.contains(".entry " + kernel + "("), "the PTX lacks .entry " + kernel);
        }
    }

    @Test
    void should_report_a_compile_error_with_the_log() throws Exception {
        Nvrtc nvrtc = Nvrtc.loadFile(Gsim.nvrtcLibrary());
        GpuDriverException e = assertThrows(GpuDriverException.class, () -> nvrtc.compile(
                "extern \"C\" __global__ void broken(int* x) { x[0] = undeclared; }", "broken.cu", "sm_90", true));
        assertTrue(e.getMessage().contains("undeclared") && e.getMessage().contains("nvrtcCompileProgram"),
                e.getMessage());
    }

    @Test
    void should_say_what_it_tried_when_the_library_is_missing() {
        Nvrtc.UnavailableException e = assertThrows(Nvrtc.UnavailableException.class,
                () -> Nvrtc.loadFile(Gsim.nativeDir().resolve("no-such/libnvrtc.so.13")));
        assertTrue(e.getMessage().contains("no-such/libnvrtc.so.13 (missing)"), e.getMessage());
    }
}
