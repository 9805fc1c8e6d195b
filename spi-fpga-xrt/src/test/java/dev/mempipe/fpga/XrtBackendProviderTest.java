package dev.mempipe.fpga;

import dev.mempipe.spi.Availability;
import dev.mempipe.spi.BackendProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The provider never lets XRT end the JVM: each missing piece gives its own reason, and the first probe of a real
 * XRT runs in a child JVM (exercised here with the csim library standing in for {@code libxrt_coreutil.so.2}).
 */
class XrtBackendProviderTest {

    @Test
    void the_provider_should_be_found_through_the_service_loader() {
        assertTrue(ServiceLoader.load(BackendProvider.class).stream()
                .anyMatch(p -> p.type() == XrtBackendProvider.class));
    }

    @Test
    void an_unset_xilinx_xrt_should_be_the_reason() {
        Availability a = probe(Map.of(), Map.of());
        assertFalse(a.available());
        assertTrue(a.reason().startsWith("XILINX_XRT is not set"), a.reason());
    }

    @Test
    void a_missing_core_library_should_be_the_reason(@TempDir Path root) {
        Availability a = probe(Map.of("XILINX_XRT", root.toString()), Map.of());
        assertFalse(a.available());
        assertTrue(a.reason().contains(root.resolve("lib/libxrt_core.so.2") + " does not exist"), a.reason());
    }

    @Test
    void a_missing_xclbin_should_be_the_reason(@TempDir Path root) throws IOException {
        fakeXrt(root, Files.writeString(root.resolve("never-loaded.so"), ""));
        Availability a = probe(Map.of("XILINX_XRT", root.toString()), Map.of());
        assertFalse(a.available());
        assertTrue(a.reason().startsWith("no xclbin"), a.reason());
    }

    @Test
    void a_missing_csim_library_should_be_the_reason(@TempDir Path dir) {
        Availability a = probe(Map.of(), Map.of(XrtBackendProvider.CSIM_PROPERTY, dir.resolve("none.so").toString()));
        assertFalse(a.available());
        assertTrue(a.reason().contains("names no file"), a.reason());
    }

    @Test
    void the_csim_device_should_be_available_in_process() {
        Availability a = probe(Map.of(), Map.of(XrtBackendProvider.CSIM_PROPERTY, Csim.library().toString()));
        assertTrue(a.available(), a.reason());
        assertTrue(a.reason().contains("csim"), a.reason());
    }

    @Test
    void a_real_xrt_should_be_probed_in_a_child_jvm(@TempDir Path root) throws IOException {
        fakeXrt(root, Csim.library());
        Availability a = probe(Map.of("XILINX_XRT", root.toString()),
                Map.of(XrtBackendProvider.XCLBIN_PROPERTY, Csim.xclbin().toString()));
        assertTrue(a.available(), a.reason());
        assertTrue(a.reason().startsWith(XrtDevice.BACKEND + "(xrt"), a.reason());
    }

    @Test
    void a_library_that_cannot_load_should_fail_the_child_probe_not_this_jvm(@TempDir Path root) throws IOException {
        Path notALibrary = Files.writeString(root.resolve("garbage.so"), "not an ELF file");
        fakeXrt(root, notALibrary);
        Path xclbin = root.resolve("mempipe-noop.xclbin");
        XclbinWriter.write(xclbin);
        Availability a = probe(Map.of("XILINX_XRT", root.toString()),
                Map.of(XrtBackendProvider.XCLBIN_PROPERTY, xclbin.toString()));
        assertFalse(a.available());
        assertTrue(a.reason().contains("libxrt_coreutil.so.2"), a.reason());
    }

    @org.junit.jupiter.api.AfterEach
    void removeLinks() throws IOException {
        XrtRealLibraryTest.unlink();
    }

    /** An XILINX_XRT folder whose lib/ has a core library and {@code coreutil} as libxrt_coreutil.so.2. */
    private static void fakeXrt(Path root, Path coreutil) throws IOException {
        Path lib = Files.createDirectories(root.resolve("lib"));
        Files.writeString(lib.resolve("libxrt_core.so.2"), "");
        XrtRealLibraryTest.LINKS.add(Files.createSymbolicLink(lib.resolve("libxrt_coreutil.so.2"),
                coreutil.toAbsolutePath()));
    }

    private static Availability probe(Map<String, String> env, Map<String, String> properties) {
        return XrtBackendProvider.probe(XrtBackendProvider.setup(env, properties::get));
    }
}
