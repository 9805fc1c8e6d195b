package dev.mempipe.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The top level: help texts, version, and the one-line errors with exit code 2. */
class MainTest {

    @ParameterizedTest
    @ValueSource(strings = {"--help", "-h", "help"})
    void should_print_the_usage_with_every_command(String flag) {
        CliRun run = CliRun.of(flag);
        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(run.out().contains("usage: mempipe COMMAND"), run::toString);
        for (String command : new String[] {"profile", "op", "conformance"}) {
            assertTrue(run.out().contains("  " + command + " "), () -> command + " missing:\n" + run);
        }
        assertEquals("", run.err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"profile", "op", "conformance"})
    void should_give_the_same_help_for_help_cmd_and_cmd_help(String command) {
        CliRun viaHelp = CliRun.of("help", command);
        CliRun viaFlag = CliRun.of(command, "--help");
        assertEquals(0, viaHelp.exitCode(), viaHelp::toString);
        assertEquals(0, viaFlag.exitCode(), viaFlag::toString);
        assertTrue(viaHelp.out().startsWith("usage: mempipe " + command), viaHelp::toString);
        assertEquals(viaHelp.out(), viaFlag.out());
    }

    @Test
    void should_document_the_profile_options_and_their_defaults() {
        String help = CliRun.of("profile", "--help").out();
        for (String option : new String[] {"--workload", "--context", "--model", "--out", "--backend", "--json-only",
                "default all", "default 4k,16k,64k", "default tiny", "./mempipe-report", "under 2 minutes"}) {
            assertTrue(help.contains(option), () -> option + " missing from:\n" + help);
        }
    }

    @Test
    void should_describe_one_op_for_op_name_help() {
        CliRun run = CliRun.of("op", "topK", "--help");
        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(run.out().startsWith("  topK "), run::toString);
        assertTrue(run.out().contains("--param k (int >= 1)"), run::toString);
        assertTrue(run.out().contains("usage: mempipe op NAME"), run::toString);
    }

    @Test
    void should_print_the_version() {
        CliRun run = CliRun.of("--version");
        assertEquals(0, run.exitCode());
        assertTrue(run.out().matches("mempipe \\d+\\.\\d+\\.\\d+(-SNAPSHOT)? \\(Java .*\\)\\R"), run::toString);
    }

    @Test
    void should_reject_an_unknown_command_in_one_line() {
        CliRun run = CliRun.of("frobnicate");
        assertEquals(2, run.exitCode());
        assertEquals("", run.out());
        assertFalse(run.errLine().contains("\n"), run::toString);
        assertTrue(run.errLine().startsWith("mempipe: unknown command frobnicate"), run::toString);
    }

    @Test
    void should_reject_an_unknown_top_level_option_naming_it() {
        CliRun run = CliRun.of("--frobnicate");
        assertEquals(2, run.exitCode());
        assertTrue(run.errLine().contains("unknown option --frobnicate"), run::toString);
    }

    @ParameterizedTest
    @ValueSource(strings = {"op", "profile", "conformance"})
    void should_reject_an_unknown_command_option_naming_it(String command) {
        CliRun run = CliRun.of(command, "--no-such-option", "x");
        assertEquals(2, run.exitCode(), run::toString);
        assertEquals("mempipe " + command + ": unknown option --no-such-option (see mempipe " + command + " --help)",
                run.errLine());
        assertEquals("", run.out());
    }

    @Test
    void should_print_the_usage_to_stderr_and_fail_without_arguments() {
        CliRun run = CliRun.of();
        assertEquals(2, run.exitCode());
        assertTrue(run.err().contains("usage: mempipe COMMAND"));
    }

    @Test
    void should_reject_help_for_an_unknown_command() {
        CliRun run = CliRun.of("help", "nope");
        assertEquals(2, run.exitCode());
        assertTrue(run.errLine().startsWith("mempipe help: unknown command nope"), run::toString);
    }
}
