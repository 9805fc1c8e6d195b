package dev.mempipe.cli;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code ./mempipe} launcher at the repository root. */
class LauncherScriptTest {
    private static final Path ROOT = repositoryRoot();
    private static final Path SCRIPT = ROOT.resolve("mempipe");

    @Test
    void script_should_be_valid_bash_and_executable() throws Exception {
        assertTrue(Files.isExecutable(SCRIPT), SCRIPT + " is not executable");
        Result r = exec(List.of("bash", "-n", SCRIPT.toString()));
        assertEquals(0, r.code, r::toString);
    }

    @Test
    void script_should_print_the_help_on_a_clean_stdout() throws Exception {
        Path jar = ROOT.resolve("cli/target/mempipe.jar");
        Assumptions.assumeTrue(Files.isRegularFile(jar), () -> "skipped: " + jar + " does not exist yet (Maven runs "
                + "tests before it packages the jar; run ./mvnw -pl cli package, then the tests again, to include "
                + "this check)");
        // MEMPIPE_NO_BUILD: never start a Maven build from inside a Maven test run, even if the jar is stale
        Result r = exec(List.of(SCRIPT.toString(), "--help"), "MEMPIPE_NO_BUILD", "1");
        assertEquals(0, r.code, r::toString);
        assertTrue(r.out.startsWith("mempipe "), r::toString);
        assertTrue(r.out.contains("usage: mempipe COMMAND"), r::toString);
        assertTrue(!r.out.contains("WARNING"), () -> "JVM warnings belong on stderr:\n" + r);
    }

    private record Result(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private static Result exec(List<String> command, String... env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(ROOT.toFile());
        for (int i = 0; i < env.length; i += 2) {
            pb.environment().put(env[i], env[i + 1]);
        }
        Path out = Files.createTempFile("mempipe-out", ".txt");
        Path err = Files.createTempFile("mempipe-err", ".txt");
        try {
            Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(command + " did not finish in 120 s");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Surefire passes the root ({@code mempipe.repo.root}); from an IDE the working directory is cli/. */
    private static Path repositoryRoot() {
        String configured = System.getProperty("mempipe.repo.root");
        Path root = configured != null ? Path.of(configured) : Path.of("").toAbsolutePath().getParent();
        return root.toAbsolutePath().normalize();
    }
}
