package dev.mempipe.cli.profile;

import dev.mempipe.core.profile.MiniJson;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The profile report rendered from a synthetic run: JSON that parses, a standalone HTML page, the text table. */
class ProfileReportWriterTest {
    private final ProfileRun run = SyntheticRun.run();

    @TempDir
    Path tmp;

    @Test
    @SuppressWarnings("unchecked")
    void json_should_parse_and_hold_every_row_and_step() {
        Map<String, Object> json = (Map<String, Object>) MiniJson.parse(ProfileReportWriter.json(run));
        assertEquals(ProfileReportWriter.SCHEMA, json.get("schema"));
        assertEquals("synthetic: no warm-up", json.get("warmUp"), "the report says how it warmed up");
        assertEquals(SyntheticRun.MACHINE, json.get("machine"));
        Map<String, Object> roof = (Map<String, Object>) json.get("roofline");
        assertEquals(100e9, roof.get("peakFlops"));
        assertEquals(5.0, roof.get("ridgePoint"));
        assertEquals("declared: synthetic test roofs", roof.get("source"));
        List<Object> rows = (List<Object>) json.get("rows");
        assertEquals(run.rows().size(), rows.size());
        Map<String, Object> first = (Map<String, Object>) rows.getFirst();
        assertEquals("quest", first.get("workload"));
        assertEquals(4096.0, first.get("contextLength"));
        assertEquals(4, ((List<Object>) first.get("steps")).size());
        Map<String, Object> prepare = (Map<String, Object>) ((List<Object>) first.get("steps")).getFirst();
        assertEquals("PREPARE", prepare.get("step"));
        assertEquals(0.0, prepare.get("flops"));
        assertEquals(false, prepare.get("fellBack"));
        Map<String, Object> dense = (Map<String, Object>) rows.getLast();
        assertNull(dense.get("relativeError"), "absent accuracy must be null");
        assertTrue(dense.containsKey("softmaxMassCovered"));
        assertNull(dense.get("softmaxMassCovered"));
        double share = (Double) first.get("memoryShare");
        assertTrue(share > 0 && share < 1, "memoryShare " + share);
    }

    @Test
    void html_should_have_an_svg_per_chart_and_the_tables() {
        String html = ProfileReportWriter.html(run);
        long workloads = run.rows().stream().map(ProfileRow::workload).distinct().count();
        assertEquals(workloads + 1, count(html, "<svg "), "a bar chart per workload plus the roofline");
        assertEquals(workloads, count(html, "class=\"chart bars\""));
        assertEquals(1, count(html, "class=\"chart roofline\""));
        assertEquals(2, count(html, "<table "), "the summary and per-step tables");
        assertTrue(html.contains("<th>memory %</th>"));
        assertTrue(html.contains("<td>quest</td>") && html.contains("<td>dense-attention</td>"));
        assertTrue(html.startsWith("<!DOCTYPE html>") && html.strip().endsWith("</html>"));
    }

    @Test
    void html_should_stand_alone() {
        String html = ProfileReportWriter.html(run);
        assertFalse(html.contains("<script"), "no JavaScript");
        assertFalse(html.contains("<link"), "no external style sheet");
        Matcher refs = Pattern.compile("(?i)\\b(src|href)\\s*=\\s*[\"']?([^\"'\\s>]*)").matcher(html);
        while (refs.find()) {
            assertFalse(refs.group(2).toLowerCase().contains("http"), "external resource: " + refs.group());
        }
        assertFalse(html.contains("url("), "no CSS url()");
        assertFalse(html.contains("@import"), "no CSS import");
    }

    @Test
    void html_should_describe_the_setup_and_label_the_roofs_as_models() {
        String html = ProfileReportWriter.html(run);
        assertTrue(html.contains("Test &lt;CPU&gt; &amp; &quot;friends&quot;, 2 cores"), "escaped machine");
        assertFalse(html.contains("<CPU>"), "unescaped text");
        assertTrue(html.contains("cpu-simd(256-bit, 2 threads)"));
        assertTrue(html.contains(ModelSize.TINY.description()));
        assertTrue(html.contains("roofs are models"), "the roofline note");
        assertTrue(html.contains("declared: synthetic test roofs"));
        assertTrue(html.contains("Not plotted (no place on log axes): quest prepare (no FLOPs counted)"), html);
        assertTrue(html.contains("other (projections, MLP)"), "the non-memory part is a segment");
        assertTrue(html.contains("<circle"), "roofline dots");
        assertTrue(html.contains("ridge 5.00 FLOP/B"));
    }

    @Test
    void text_table_should_show_every_row_and_mark_fallbacks() {
        String text = ProfileTable.render(run);
        assertTrue(text.startsWith("machine: " + SyntheticRun.MACHINE + "\n"), text);
        assertTrue(text.contains("workload         context  prepare"), text);
        assertTrue(text.lines().anyMatch(l -> l.startsWith("quest            4k ")), text);
        assertTrue(text.lines().anyMatch(l -> l.startsWith("dsa              16k") && l.contains("*")), text);
        assertTrue(text.contains("* a device failed on this step and the CPU reran it"), text);
        assertTrue(text.lines().anyMatch(l -> l.startsWith("dense-attention") && l.contains(" -  ")), text);
        assertTrue(text.contains("ridge 5.00 FLOP/B (declared: synthetic test roofs)"), text);
    }

    @Test
    void write_should_create_both_files_or_only_json() throws IOException {
        List<Path> both = ProfileReportWriter.write(run, tmp.resolve("a/b"), false);
        assertEquals(List.of(tmp.resolve("a/b/report.json"), tmp.resolve("a/b/report.html")), both);
        assertTrue(Files.readString(both.get(1)).contains("<svg "));
        List<Path> json = ProfileReportWriter.write(run, tmp.resolve("c"), true);
        assertEquals(List.of(tmp.resolve("c/report.json")), json);
        assertFalse(Files.exists(tmp.resolve("c/report.html")));
    }

    @Test
    void report_should_print_the_table_on_stdout_and_the_files_on_stderr() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ProfileOptions options = ProfileCommand.parse(List.of("--out", tmp.resolve("r").toString()));
        int code = ProfileCommand.report(run, options, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, code);
        assertEquals(ProfileTable.render(run), out.toString(StandardCharsets.UTF_8));
        assertTrue(err.toString(StandardCharsets.UTF_8).startsWith("report: " + tmp.resolve("r/report.json")));

        ByteArrayOutputStream jsonOut = new ByteArrayOutputStream();
        ProfileOptions jsonOnly = ProfileCommand.parse(List.of("--out", tmp.resolve("j").toString(), "--json-only"));
        ProfileCommand.report(run, jsonOnly, new PrintStream(jsonOut, true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        MiniJson.parse(jsonOut.toString(StandardCharsets.UTF_8));
    }

    @Test
    @SuppressWarnings("unchecked")
    void should_render_a_run_without_rows_or_roofs() {
        ProfileRun empty = new ProfileRun("m", "b", "tiny", Double.NaN, 0, "unknown: not measured", List.of(),
                "none");
        String html = ProfileReportWriter.html(empty);
        assertEquals(1, count(html, "<svg "), "the roofline frame, with no bar chart");
        assertTrue(html.contains("roofs unknown"));
        Map<String, Object> json = (Map<String, Object>) MiniJson.parse(ProfileReportWriter.json(empty));
        assertNull(((Map<String, Object>) json.get("roofline")).get("peakFlops"), "NaN is written as null");
        assertTrue(ProfileTable.render(empty).contains("workload"));
    }

    private static long count(String text, String part) {
        return Pattern.compile(Pattern.quote(part)).matcher(text).results().count();
    }

    @Test
    @SuppressWarnings("unchecked")
    void a_workloads_figures_should_appear_with_their_basis_in_every_report() {
        ProfileRow flare = new ProfileRow("flare", 4096, Map.of(), 0.01, 0.004, java.util.OptionalDouble.empty(),
                java.util.OptionalDouble.empty(), "unavailable (test)", List.of(
                        new ProfileFigure("triggers per token", "0.0625", "synthetic: random-weight model"),
                        new ProfileFigure("re-prefill per token", "3.1 ms", "measured")));
        ProfileRun withFigures = new ProfileRun(run.machine(), run.backendDescription(), run.model(), run.peakFlops(),
                run.bandwidthBytesPerSecond(), run.roofSource(), List.of(run.rows().getFirst(), flare), run.warmUp());

        String table = ProfileTable.render(withFigures);
        assertTrue(table.matches("(?s).*flare\\s+4k\\s+triggers per token\\s+0\\.0625\\s+synthetic: random-weight model.*"),
                table);
        Map<String, Object> json = (Map<String, Object>) MiniJson.parse(ProfileReportWriter.json(withFigures));
        Map<String, Object> row = (Map<String, Object>) ((List<Object>) json.get("rows")).getLast();
        Map<String, Object> figure = (Map<String, Object>) ((List<Object>) row.get("figures")).getFirst();
        assertEquals("triggers per token", figure.get("name"));
        assertEquals("synthetic: random-weight model", figure.get("basis"));
        String html = ProfileReportWriter.html(withFigures);
        assertTrue(html.contains("<td>re-prefill per token</td><td class=\"num\">3.1 ms</td><td>measured</td>"), html);
        assertFalse(ProfileTable.render(run).contains("basis"), "no figure table when no row has figures");
        // the memory share rests on the synthetic choice too: marked in the summary, the choice named next to it
        assertTrue(table.matches("(?s).*flare\\s+4k\\s.*\\s40\\.0%#\\s.*"), table);
        assertTrue(table.contains("# flare rests on synthetic: random-weight model\n"), table);
        assertTrue(html.contains("flare: share of a decode step per context length. Rests on a choice the profile "
                + "made: synthetic: random-weight model</figcaption>"), html);
        assertTrue(html.contains("<li>flare: synthetic: random-weight model</li>"), html);
        assertFalse(ProfileTable.render(run).contains("rests on"), "no note when no figure rests on a synthetic choice");
    }
}
