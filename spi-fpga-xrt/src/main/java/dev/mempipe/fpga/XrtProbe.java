package dev.mempipe.fpga;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The child-JVM side of {@link XrtBackendProvider}'s first device probe: opens the backend (device 0, the xclbin,
 * every kernel) and writes {@code ok <description>} or the reason it failed to the result file. If XRT aborts
 * this JVM, the file stays empty and the parent reports the exit code and XRT's own message instead.
 */
final class XrtProbe {
    static final String OK = "ok";

    private XrtProbe() {
    }

    /** Arguments: library, xclbin, result file. */
    public static void main(String[] args) throws IOException {
        String report;
        try (XrtBackend backend = XrtBackend.open(Path.of(args[0]), Path.of(args[1]), "xrt")) {
            report = OK + " " + backend.description();
        } catch (RuntimeException e) {
            report = e.getMessage();
        }
        Files.writeString(Path.of(args[2]), report, StandardCharsets.UTF_8);
    }
}
