package dev.mempipe.fpga;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * scripts/fpga-check.sh (the documented card run) on a machine without a card: it must stop before doing
 * anything, with exit code 2 and one line naming what is missing. What it does on a card is not checked here.
 */
class FpgaCheckScriptTest {
    private static final Path SCRIPT = Path.of(System.getProperty("mempipe.repo.root", "..")).resolve(
            "scripts/fpga-check.sh");

    @Test
    void without_xrt_it_should_stop_naming_each_missing_piece(@TempDir Path dir) throws IOException,
            InterruptedException {
        Assumptions.assumeTrue(Files.isRegularFile(SCRIPT), () -> "skipped: " + SCRIPT + " not found");
        assertStops(dir, Map.of(), "XILINX_XRT is not set");
        assertStops(dir, Map.of("XILINX_XRT", dir.resolve("xrt").toString()), "libxrt_core.so.2 is missing");
    }

    private static void assertStops(Path dir, Map<String, String> env, String reason) throws IOException,
            InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("bash", SCRIPT.toString(), dir.resolve("none.xclbin").toString(),
                dir.resolve("out").toString()).redirectErrorStream(true);
        pb.environment().remove("XILINX_XRT");
        pb.environment().putAll(env);
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes()).trim();
        assertEquals(2, p.waitFor(), output);
        assertTrue(output.contains(reason) && !output.contains("\n"), output);
        assertTrue(Files.notExists(dir.resolve("out")), "nothing may be written before the checks pass");
    }
}
