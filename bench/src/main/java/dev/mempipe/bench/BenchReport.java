package dev.mempipe.bench;

import dev.mempipe.spi.io.AtomicFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Figures a benchmark computes in its setup (recall, build times, tuned beams), printed into the JMH output and
 * written as one small JSON object per benchmark fork under {@code bench/target/lc4j/}, where {@code bench/ratios.py}
 * and docs/PERFORMANCE.md pick them up. JMH forks run in the directory the JMH run started in.
 */
final class BenchReport {
    private BenchReport() {
    }

    static Path directory() {
        Path base = Files.isDirectory(Path.of("bench", "target")) ? Path.of("bench", "target")
                : Files.isDirectory(Path.of("target")) ? Path.of("target") : Path.of(System.getProperty("java.io.tmpdir"));
        return base.resolve("lc4j");
    }

    /** Writes {@code figures} (numbers and strings, in order) as {@code <name>.json} and prints them. */
    static void write(String name, Map<String, ?> figures) {
        StringJoiner json = new StringJoiner(",\n  ", "{\n  ", "\n}\n");
        for (Map.Entry<String, ?> e : figures.entrySet()) {
            Object v = e.getValue();
            String value = v instanceof Double d ? String.format(Locale.ROOT, "%.6f", d)
                    : v instanceof Number ? v.toString() : "\"" + v.toString().replace("\"", "'") + "\"";
            json.add("\"" + e.getKey() + "\": " + value);
        }
        System.out.println("[figures " + name + "] " + json.toString().replace("\n", " "));
        try {
            Path dir = directory();
            Files.createDirectories(dir);
            AtomicFile.writeString(dir.resolve(name + ".json"), json.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the figures of " + name, e);
        }
    }
}
