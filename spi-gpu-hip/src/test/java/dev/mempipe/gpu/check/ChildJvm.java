package dev.mempipe.gpu.check;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a main class in a child JVM with this JVM's java, class path, module flags and {@code mempipe.*} system
 * properties, its output going to a file; kills it at the time limit. For what must not take the check down
 * (a device fault) or is a command of its own ({@code mempipe profile}).
 */
final class ChildJvm {
    /** How a child ended: its exit code (-1: killed at the limit) and its output. */
    record Result(int exitCode, String output) {
    }

    private ChildJvm() {
    }

    static Result run(String mainClass, List<String> args, List<String> properties, long timeoutSeconds, Path output)
            throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> command = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path")));
        for (String name : System.getProperties().stringPropertyNames()) {
            if (name.startsWith("mempipe.")) {
                command.add("-D" + name + "=" + System.getProperty(name));
            }
        }
        command.addAll(properties);
        command.add(mainClass);
        command.addAll(args);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        String text = Files.exists(output) ? Files.readString(output) : "";
        return new Result(done ? p.exitValue() : -1, text);
    }

    /** The last {@code lines} lines of {@code text}. */
    static String tail(String text, int lines) {
        String[] all = text.split("\n");
        return String.join("\n", java.util.Arrays.copyOfRange(all, Math.max(0, all.length - lines), all.length));
    }
}
