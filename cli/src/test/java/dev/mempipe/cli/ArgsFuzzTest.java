package dev.mempipe.cli;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command-line parser on arbitrary tokens (the fuzzer's bytes split at NUL): it parses, or refuses with a
 * one-line usage error ({@link CliException#USAGE}); nothing else escapes. What it parses is made of the tokens it
 * was given: every value and positional is a token or the part of a token after {@code =}.
 *
 * <p>{@code ./mvnw verify} replays {@code src/test/resources/.../ArgsFuzzTestInputs}; docs/RELIABILITY.md gives the
 * long fuzzing run.
 */
class ArgsFuzzTest {
    private static final Args.Spec SPEC = new Args.Spec().value("--out").value("--top").repeatable("--in")
            .repeatable("--param").flag("--list").flag("--json-only");

    @FuzzTest(maxDuration = "30s")
    void parser_should_parse_or_refuse_with_a_usage_error(byte[] data) {
        List<String> tokens = Arrays.asList(new String(data, StandardCharsets.UTF_8).split("\0", -1));
        Args args;
        try {
            args = Args.parse("mempipe fuzz", SPEC, tokens);
        } catch (CliException e) {
            assertEquals(CliException.USAGE, e.exitCode());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            return;
        }
        for (String p : args.positionals()) {
            assertTrue(tokens.contains(p), p);
        }
        for (String name : List.of("--in", "--param")) {
            for (String v : args.values(name)) {
                assertTrue(tokens.contains(v) || tokens.contains(name + "=" + v), v);
            }
        }
        Args.wantsHelp(tokens);
    }

    @FuzzTest(maxDuration = "30s")
    void every_command_should_refuse_bad_arguments_with_a_usage_error(byte[] data) {
        // the commands' own checks after parsing (numbers, lists, names), up to where they would start work:
        // --help is answered without running, and a run that passes the checks is stopped by a missing input
        List<String> tokens = Arrays.asList(new String(data, StandardCharsets.UTF_8).split("\0", -1));
        if (tokens.isEmpty() || !List.of("rag", "op", "profile").contains(tokens.getFirst())
                || tokens.stream().anyMatch(t -> t.startsWith("--out") || t.startsWith("--docs") || t.startsWith("--in")
                || t.equals("--list"))) {
            return; // no files are written or read by a fuzz run: only argument checks are exercised
        }
        if (tokens.getFirst().equals("profile")) {
            try {
                dev.mempipe.cli.profile.ProfileCommandArgs.parse(tokens.subList(1, tokens.size()));
            } catch (CliException e) {
                assertEquals(CliException.USAGE, e.exitCode());
                assertFalse(e.getMessage().contains("\n"), e.getMessage());
            }
            return;
        }
        CliRun run = CliRun.of(tokens.toArray(String[]::new));
        assertTrue(run.exitCode() == 0 || run.exitCode() == CliException.USAGE, run::toString);
        if (run.exitCode() == CliException.USAGE) {
            assertEquals(1, run.err().lines().count(), run::toString);
        }
    }
}
