package dev.mempipe.stress;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.openjdk.jcstress.JCStress;
import org.openjdk.jcstress.Options;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs every jcstress test of this module briefly, as part of {@code ./mvnw verify}: one fork per test, one
 * iteration of {@value #QUICK_MILLIS} ms, without jcstress's matrix of per-actor compilation modes, with the JVM
 * flags mempipe needs and no others. Any forbidden outcome fails the
 * build (jcstress throws), and so does a test that did not run (an error or a skipped configuration).
 * {@code -Dmempipe.jcstress.args="-m default"} (or {@code -m tough}, {@code -m stress}) runs the long version with
 * jcstress's own JIT-mode and flag combinations: docs/RELIABILITY.md.
 */
class JcstressQuickTest {
    static final int QUICK_MILLIS = 150;
    /** The @JCStressTest classes of this module; each must run. */
    static final int TESTS = 6;
    private static final String FLAGS = "--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED";
    private static final Pattern RESULTS = Pattern.compile(
            "Results: (\\d+) planned; (\\d+) passed, (\\d+) failed, (\\d+) soft errs, (\\d+) hard errs");

    @Test
    void no_forbidden_outcome_in_any_memory_race() throws Exception {
        Path results = Files.createDirectories(Path.of("target", "jcstress-results"));
        List<String> args = new ArrayList<>(List.of("-r", results.toString(), "-t", "dev\\.mempipe\\.stress\\..*"));
        String custom = System.getProperty("mempipe.jcstress.args");
        if (custom != null && !custom.isBlank()) {
            args.addAll(List.of(custom.strip().split("\\s+")));
            args.addAll(List.of("-jvmArgsPrepend", FLAGS));
        } else {
            // one fork per test, no split-compilation matrix: seconds, not the minutes of jcstress's own modes
            args.addAll(List.of("-sc", "false", "-f", "1", "-iters", "1", "-time", Integer.toString(QUICK_MILLIS),
                    "-jvmArgs", FLAGS));
        }
        Options options = new Options(args.toArray(String[]::new));
        assertTrue(options.parse(), "jcstress rejected its options " + args);
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        String out;
        try (PrintStream tee = new PrintStream(captured, true, StandardCharsets.UTF_8)) {
            System.setOut(tee);
            try {
                new JCStress(options).run(); // throws AssertionError naming each forbidden outcome
            } finally {
                System.setOut(original);
                out = captured.toString(StandardCharsets.UTF_8);
                Files.writeString(results.resolve("console.txt"), out);
            }
        }
        Matcher last = null;
        Matcher m = RESULTS.matcher(out);
        while (m.find()) {
            last = RESULTS.matcher(m.group());
            last.matches();
        }
        assertTrue(last != null, "no jcstress results line; see " + results.resolve("console.txt"));
        int planned = Integer.parseInt(last.group(1));
        System.out.println("[jcstress] " + last.group() + " (report: " + results.resolve("index.html") + ")");
        assertTrue(planned >= TESTS, "fewer jcstress runs than the " + TESTS + " tests: " + last.group());
        assertEquals(planned, Integer.parseInt(last.group(2)), last.group());
        assertEquals(0, Integer.parseInt(last.group(4)) + Integer.parseInt(last.group(5)), last.group());
    }
}
