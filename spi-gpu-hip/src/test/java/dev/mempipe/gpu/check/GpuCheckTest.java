package dev.mempipe.gpu.check;

import dev.mempipe.gpu.GsimDriver;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The device check's main class on a machine without a GPU: on gsim it must run every item, write results.json
 * and the log, pass the kit (a quick subset of ops: {@code dot}, {@code topK}), handle the injected fault and
 * the fatal fault in a child JVM, and mark every GPU-only item {@code unavailable: <reason>}. The bundle runs
 * the same class (src/build/bundle.sh; -Pgpu-bundle checks that it starts).
 */
class GpuCheckTest {

    @Test
    void should_run_every_item_on_gsim_and_mark_the_gpu_only_ones_unavailable(@TempDir Path dir) throws Exception {
        Path gsim = Path.of(System.getProperty("mempipe.gsim.dir", "target/native")).resolve(GsimDriver.LIBRARY);
        Assumptions.assumeTrue(Files.exists(gsim), "skipped: gsim was not built (see target/native/gsim.skipped)");
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        int code = GpuCheck.run(new String[] {dir.toString(), "--gsim", gsim.toString(), "--ops", "dot,topK",
                "--budget-seconds", "200"}, new PrintStream(console, true, StandardCharsets.UTF_8));
        String json = Files.readString(dir.resolve("results.json"));
        String log = Files.readString(dir.resolve("gpu-check.log"));
        assertEquals(0, code, "exit code; results:\n" + json);
        for (String item : new String[] {"environment", "code_paths", "kit", "figures", "energy", "plan", "fault_injected",
                "fault_fatal_child_jvm", "profile"}) {
            assertTrue(json.contains("\"" + item + "\": {"), "results.json lacks item " + item + ":\n" + json);
            assertTrue(log.contains("[" + item + "] "), "the log lacks item " + item);
        }
        assertTrue(json.contains("\"status\": \"ok\""), json);
        assertStatus(json, "kit", "ok");
        assertStatus(json, "fault_injected", "ok");
        assertStatus(json, "code_paths", "unavailable: no GPU");
        assertStatus(json, "figures", "unavailable: no GPU");
        assertStatus(json, "energy", "unavailable: no GPU");
        assertStatus(json, "plan", "unavailable: no GPU");
        assertStatus(json, "fault_fatal_child_jvm", "unavailable: no GPU");
        assertStatus(json, "profile", "unavailable: the mempipe command");
        assertTrue(json.contains("\"same_answer_as_cpu_bit_for_bit\": \"true\""), "the child's fatal fault: " + json);
        assertTrue(json.contains("\"device_dropped\": \"{gpu="), "the child dropped the device: " + json);
        assertTrue(json.contains("\"dot\": {") && json.contains("\"topK\": {"), "the kit per op: " + json);
        assertTrue(log.contains("quest_64k:") && log.contains("dsa_64k:"), "Plan.explain in the log");
    }

    private static void assertStatus(String json, String item, String prefix) {
        int at = json.indexOf("\"" + item + "\": {");
        int status = json.indexOf("\"status\": \"", at);
        assertTrue(json.startsWith(prefix, status + "\"status\": \"".length()),
                item + " should start with '" + prefix + "': " + json.substring(status, Math.min(json.length(), status + 200)));
    }
}
