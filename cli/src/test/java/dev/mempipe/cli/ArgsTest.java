package dev.mempipe.cli;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArgsTest {
    private static final Args.Spec SPEC = new Args.Spec().value("--out").repeatable("--in").flag("--list");

    @Test
    void should_accept_separate_and_attached_values_flags_and_positionals() throws CliException {
        Args a = Args.parse("t", SPEC, List.of("dot", "--in", "Q=q.npy", "--in=M=m.npy", "--out", "dir", "--list"));
        assertEquals(List.of("dot"), a.positionals());
        assertEquals(List.of("Q=q.npy", "M=m.npy"), a.values("--in"));
        assertEquals("dir", a.value("--out"));
        assertTrue(a.flag("--list"));
    }

    @Test
    void should_take_a_value_that_starts_with_a_dash() throws CliException {
        assertEquals("-0.5", Args.parse("t", SPEC, List.of("--out", "-0.5")).value("--out"));
    }

    @Test
    void should_treat_everything_after_double_dash_as_positional() throws CliException {
        Args a = Args.parse("t", SPEC, List.of("--", "--out", "-x"));
        assertEquals(List.of("--out", "-x"), a.positionals());
        assertNull(a.value("--out"));
        assertFalse(Args.wantsHelp(List.of("--", "--help")));
    }

    @Test
    void should_name_the_unknown_option() {
        CliException e = assertThrows(CliException.class, () -> Args.parse("mempipe x", SPEC, List.of("--outt", "d")));
        assertEquals("unknown option --outt (see mempipe x --help)", e.getMessage());
        assertEquals(2, e.exitCode());
    }

    @Test
    void should_reject_a_missing_value_a_flag_value_and_a_repeated_single_option() {
        assertTrue(assertThrows(CliException.class, () -> Args.parse("t", SPEC, List.of("--out")))
                .getMessage().contains("--out needs a value"));
        assertTrue(assertThrows(CliException.class, () -> Args.parse("t", SPEC, List.of("--list=yes")))
                .getMessage().contains("--list takes no value"));
        assertTrue(assertThrows(CliException.class, () -> Args.parse("t", SPEC, List.of("--out", "a", "--out", "b")))
                .getMessage().contains("--out is given twice"));
    }

    @Test
    void should_collapse_multi_line_messages_to_one_line() {
        assertEquals("a; b; c", CliException.oneLine("a\n  b\r\nc\n"));
    }
}
