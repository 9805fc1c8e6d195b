package dev.mempipe.cli.profile;

import dev.mempipe.cli.CliException;
import dev.mempipe.core.model.Workload;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line of {@code mempipe profile} and its progress display. */
class ProfileCommandTest {

    @Test
    void should_default_to_every_workload_at_4k_16k_64k_on_the_tiny_model() throws CliException {
        ProfileOptions o = ProfileCommand.parse(List.of());
        assertEquals(Workload.paperWorkloads(), o.workloads());
        assertEquals(List.of(4096, 16384, 65536), o.contextLengths());
        assertEquals(ModelSize.TINY, o.model());
        assertEquals(Path.of("mempipe-report"), o.out());
        assertEquals(null, o.backend());
        assertFalse(o.jsonOnly());
        assertEquals(3 * Workload.paperWorkloads().size(), o.runCount()); // dense attention is a baseline, not a run
    }

    @Test
    void should_parse_lists_in_order_without_duplicates() throws CliException {
        ProfileOptions o = ProfileCommand.parse(List.of("--workload", "dsa,QUEST,dsa", "--context", "16k,3000,16384",
                "--model", "small", "--out", "r", "--backend", "cpu-simd", "--json-only"));
        assertEquals(List.of(Workload.DSA, Workload.QUEST), o.workloads());
        assertEquals(List.of(16384, 3000), o.contextLengths());
        assertEquals(ModelSize.SMALL, o.model());
        assertEquals("cpu-simd", o.backend());
        assertTrue(o.jsonOnly());
    }

    @Test
    void should_check_the_report_folder_before_measuring(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        java.nio.file.Path file = java.nio.file.Files.writeString(tmp.resolve("plain"), "x");
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream errStream = new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8);
        CliException e = assertThrows(CliException.class, () -> new ProfileCommand().run(
                List.of("--workload", "quest", "--context", "1k", "--out", file.resolve("report").toString()),
                System.out, errStream));
        assertEquals(CliException.USAGE, e.exitCode());
        assertTrue(e.getMessage().startsWith("--out: "), e.getMessage());
        assertEquals("", err.toString(java.nio.charset.StandardCharsets.UTF_8), "nothing was measured");
    }

    @Test
    void should_reject_unknown_workloads_models_and_contexts_naming_them() {
        assertTrue(assertThrows(CliException.class, () -> ProfileCommand.parse(List.of("--workload", "quest,rag")))
                .getMessage().startsWith("unknown workload 'rag' in --workload (choose from quest, seer, dsa, bm25, dense, hmt"));
        assertTrue(assertThrows(CliException.class, () -> ProfileCommand.parse(List.of("--model", "huge")))
                .getMessage().startsWith("unknown --model 'huge'"));
        for (String bad : List.of("4q", "0", "-4k", "", "99999999k")) {
            CliException e = assertThrows(CliException.class, () -> ProfileCommand.parse(List.of("--context", bad)));
            assertTrue(e.getMessage().startsWith("--context: '" + bad + "' is not a context length"), e.getMessage());
            assertEquals(2, e.exitCode());
        }
    }

    @Test
    void lines_mode_should_print_one_line_per_update() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(err, true, StandardCharsets.UTF_8), Progress.Mode.LINES, 18);
        p.update(3, "quest", 16384, "relevancy");
        p.update(3, "quest", 16384, "relevancy");
        p.note("warning: x");
        p.update(4, "quest", 65536, "prepare");
        p.done();
        assertEquals("[3/18] quest @ 16k: relevancy...\nwarning: x\n[4/18] quest @ 64k: prepare...\n",
                err.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n"));
    }

    @Test
    void line_mode_should_rewrite_one_line_and_clear_it_when_done() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(err, true, StandardCharsets.UTF_8), Progress.Mode.LINE, 2);
        p.update(1, "dsa", 4096, "apply");
        p.update(2, "dsa", 1000, "decode model");
        p.done();
        String text = err.toString(StandardCharsets.UTF_8);
        assertEquals("\r[1/2] dsa @ 4k: apply...\u001b[K\r[2/2] dsa @ 1000: decode model...\u001b[K\r\u001b[K", text);
    }

    @Test
    void progress_mode_should_come_from_the_launcher_property() {
        String before = System.getProperty(Progress.MODE_PROPERTY);
        try {
            System.setProperty(Progress.MODE_PROPERTY, "line");
            assertEquals(Progress.Mode.LINE, Progress.detect());
            System.clearProperty(Progress.MODE_PROPERTY);
            assertEquals(Progress.Mode.LINES, Progress.detect());
        } finally {
            if (before != null) {
                System.setProperty(Progress.MODE_PROPERTY, before);
            }
        }
    }
}
