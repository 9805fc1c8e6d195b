package dev.mempipe.gpu.check;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the device check found, item by item: each item has a {@code status} ({@code ok}, {@code failed: why},
 * or {@code unavailable: why} for what this machine cannot do, such as a GPU-only figure on gsim) and its
 * details. Written as {@code results.json}; every line logged also goes to {@code gpu-check.log} and the
 * console as it happens, so a run cut short still leaves its log.
 *
 * <p>Not thread-safe: the check runs its items one after another.
 */
final class CheckReport implements AutoCloseable {
    static final String OK = "ok";

    private final Map<String, Object> items = new LinkedHashMap<>();
    private final PrintStream log;
    private final PrintStream console;
    private final Path dir;

    CheckReport(Path dir, PrintStream console) {
        this.dir = dir;
        this.console = console;
        try {
            Files.createDirectories(dir);
            this.log = new PrintStream(Files.newOutputStream(dir.resolve("gpu-check.log")), true, "UTF-8");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the check's log in " + dir, e);
        }
    }

    Path dir() {
        return dir;
    }

    void log(String line) {
        log.println(line);
        console.println(line);
    }

    /** Records item {@code name}: its status and details (details keep their insertion order). */
    void item(String name, String status, Map<String, Object> details) {
        Map<String, Object> item = new LinkedHashMap<>();
        item.put("status", status);
        item.putAll(details);
        items.put(name, item);
        log("[" + name + "] " + status);
        write();
    }

    static String unavailable(String reason) {
        return "unavailable: " + reason;
    }

    static String failed(String reason) {
        return "failed: " + reason;
    }

    Map<String, Object> items() {
        return items;
    }

    /** Rewrites results.json with every item so far. */
    void write() {
        try {
            Files.writeString(dir.resolve("results.json"), Json.write(items));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write results.json in " + dir, e);
        }
    }

    @Override
    public void close() {
        write();
        log.close();
    }
}
