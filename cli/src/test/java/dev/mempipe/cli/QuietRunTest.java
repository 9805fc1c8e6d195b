package dev.mempipe.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A normal run prints nothing that reads like trouble: the command runs in a JVM of its own, exactly as the launcher
 * starts it ({@link Main#main}), and its stderr may hold only the command's own lines and the JDK's note about the
 * incubating Vector API: no SLF4J "no providers" warning, no timestamped java.util.logging line.
 */
class QuietRunTest {
    private static final Path DOCS = Path.of(System.getProperty("mempipe.repo.root", ".."))
            .resolve("integrations/langchain4j/src/test/resources/rag/docs");
    private static final String JDK_INCUBATOR_NOTE = "WARNING: Using incubator modules: jdk.incubator.vector";

    @TempDir
    Path tmp;

    @Test
    void rag_should_print_only_its_own_lines_on_stderr() throws Exception {
        List<String> err = stderrOf("rag", "--docs", DOCS.toString(), "--query", "bees", "--mode", "hybrid");
        for (String line : err) {
            assertTrue(line.equals(JDK_INCUBATOR_NOTE) || line.startsWith("mempipe rag: "),
                    () -> "unexpected stderr line '" + line + "' in " + err);
        }
    }

    @Test
    void op_should_print_only_its_own_lines_on_stderr() throws Exception {
        Path in = tmp.resolve("in");
        Files.createDirectories(in);
        for (String name : List.of("Q", "M")) {
            try (InputStream golden = getClass().getResourceAsStream("/dev/mempipe/goldentests/golden/dot-1/" + name
                    + ".npy")) {
                Files.write(in.resolve(name + ".npy"), golden.readAllBytes());
            }
        }
        List<String> err = stderrOf("op", "dot", "--in", in.toString(), "--out", tmp.resolve("out").toString());
        assertEquals(List.of(JDK_INCUBATOR_NOTE), err);
    }

    private List<String> stderrOf(String... args) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> command = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        command.addAll(List.of(args));
        Path errFile = tmp.resolve("stderr.txt");
        Process p = new ProcessBuilder(command).redirectError(errFile.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the command did not finish in 2 minutes");
        List<String> err = Files.readAllLines(errFile, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), () -> "exit code; stderr: " + err);
        return err;
    }
}
