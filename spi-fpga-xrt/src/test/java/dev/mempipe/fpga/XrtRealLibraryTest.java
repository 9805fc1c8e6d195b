package dev.mempipe.fpga;

import dev.mempipe.spi.Availability;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The provider against the real XRT library (Debian's {@code libxrt1}, XRT 2.13, which {@code .ci/run} installs)
 * on a machine without a card: the child-JVM probe loads it, {@code xrtDeviceOpen(0)} finds no device, and the
 * backend is unavailable with that reason while this JVM lives on. Skips, saying so, where the library is missing.
 */
class XrtRealLibraryTest {
    static final Path DEBIAN_LIBS = Path.of(System.getProperty("mempipe.xrt.debianLibs", "/usr/lib/x86_64-linux-gnu"));

    /** An XILINX_XRT folder whose lib/ links every Debian XRT library; skips when they are not installed. */
    static Path xilinxXrt(Path root) throws IOException {
        Assumptions.assumeTrue(Files.exists(DEBIAN_LIBS.resolve("libxrt_coreutil.so.2")), () -> "skipped: XRT is not"
                + " installed (" + DEBIAN_LIBS.resolve("libxrt_coreutil.so.2") + " is missing; apt-get install"
                + " libxrt1 libxrt-dev, as .ci/run does)");
        Path lib = Files.createDirectories(root.resolve("lib"));
        try (Stream<Path> files = Files.list(DEBIAN_LIBS)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.getFileName().toString().startsWith("libxrt"))::iterator) {
                LINKS.add(Files.createSymbolicLink(lib.resolve(f.getFileName()), f));
            }
        }
        return root;
    }

    /** Symbolic links the tests made, removed before JUnit cleans its temporary folders (it warns about them). */
    static final java.util.List<Path> LINKS = new java.util.ArrayList<>();

    @org.junit.jupiter.api.AfterEach
    void removeLinks() throws IOException {
        unlink();
    }

    static void unlink() throws IOException {
        for (Path link : LINKS) {
            Files.deleteIfExists(link);
        }
        LINKS.clear();
    }

    @Test
    void without_a_card_the_backend_should_be_unavailable_with_xrts_reason(@TempDir Path root) throws IOException {
        Path xrt = xilinxXrt(root.resolve("xrt"));
        Path xclbin = root.resolve("mempipe-noop.xclbin");
        XclbinWriter.write(xclbin);
        Availability a = XrtBackendProvider.probe(XrtBackendProvider.setup(Map.of("XILINX_XRT", xrt.toString()),
                Map.of(XrtBackendProvider.XCLBIN_PROPERTY, xclbin.toString())::get));
        assertFalse(a.available(), a.reason());
        assertTrue(a.reason().contains("xrtDeviceOpen(0) returned NULL"), a.reason());
    }

    @Test
    void in_noop_emulation_every_op_should_run_to_completed_and_fail_on_its_status_word(@TempDir Path root)
            throws IOException, InterruptedException {
        Path xrt = xilinxXrt(root.resolve("xrt"));
        Path xclbin = root.resolve("mempipe-noop.xclbin");
        XclbinWriter.write(xclbin);
        // the provider's own path first: checks pass and the child probe opens device, xclbin and kernels
        Availability a = XrtBackendProvider.probe(XrtBackendProvider.setup(
                Map.of("XILINX_XRT", xrt.toString(), "XCL_EMULATION_MODE", "noop"),
                Map.of(XrtBackendProvider.XCLBIN_PROPERTY, xclbin.toString())::get));
        assertTrue(a.available(), a.reason());
        // then every op, in a JVM whose environment selects the noop device
        Path result = root.resolve("noop.txt");
        ProcessBuilder pb = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                NoopRun.class.getName(), xrt.resolve("lib/libxrt_coreutil.so.2").toString(), xclbin.toString(),
                result.toString()).redirectErrorStream(true).redirectOutput(root.resolve("noop.log").toFile());
        pb.environment().put("XILINX_XRT", xrt.toString());
        pb.environment().put("XCL_EMULATION_MODE", "noop");
        int exit = pb.start().waitFor();
        String log = Files.readString(root.resolve("noop.log"));
        assertTrue(exit == 0 && Files.exists(result), "noop child exited with " + exit + ": " + log);
        java.util.List<String> lines = Files.readAllLines(result);
        assertTrue(lines.get(0).startsWith("open ok"), lines + " " + log);
        assertEquals(11, lines.size(), lines.toString());
        for (String line : lines.subList(1, lines.size())) {
            assertTrue(line.contains(" TRANSIENT ") && line.contains("status word"),
                    "each op must run to COMPLETED and be refused for its missing status word (a CPU fallback): "
                            + line);
        }
    }

    @Test
    void in_noop_emulation_a_pipeline_step_placed_on_the_fpga_should_fall_back_to_the_cpus_answer_recorded(
            @TempDir Path root) throws IOException, InterruptedException {
        Path xrt = xilinxXrt(root.resolve("xrt"));
        Path xclbin = root.resolve("mempipe-noop.xclbin");
        XclbinWriter.write(xclbin);
        Path result = root.resolve("engine.txt");
        ProcessBuilder pb = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), NoopEngineRun.class.getName(),
                xrt.resolve("lib/libxrt_coreutil.so.2").toString(), xclbin.toString(), result.toString())
                .redirectErrorStream(true).redirectOutput(root.resolve("engine.log").toFile());
        pb.environment().put("XILINX_XRT", xrt.toString());
        pb.environment().put("XCL_EMULATION_MODE", "noop");
        int exit = pb.start().waitFor();
        String log = Files.readString(root.resolve("engine.log"));
        assertTrue(exit == 0 && Files.exists(result), "engine child exited with " + exit + ": " + log);
        java.util.List<String> lines = Files.readAllLines(result);
        assertTrue(lines.size() > 2 && lines.get(0).startsWith("cpu ") && lines.get(1).startsWith("fpga "),
                lines + " " + log);
        String cpu = lines.get(0).substring(4);
        assertTrue(!cpu.equals("[]"), "the query must retrieve documents: " + cpu);
        assertEquals(cpu, lines.get(1).substring(5), "the FPGA-placed pipeline must give the CPU's answer: " + lines);
        // the fused bm25TopK ran on the noop device, completed without a status word and was rerun on the CPU
        java.util.List<String> fallbacks = lines.stream().filter(l -> l.contains("fallback-from=fpga-xrt")).toList();
        assertEquals(1, fallbacks.size(), lines.toString());
        assertTrue(fallbacks.get(0).contains("bm25TopK") && fallbacks.get(0).contains("status word"),
                fallbacks.get(0));
        assertTrue(lines.stream().anyMatch(l -> l.equals("lost {}")), "a transient fault loses no device: " + lines);
    }
}
