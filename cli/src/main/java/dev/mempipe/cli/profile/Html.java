package dev.mempipe.cli.profile;

import dev.mempipe.cli.Main;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The self-contained HTML report: inline CSS and inline SVG only, no script and no external resource, so that
 * it can be mailed, archived or opened from a CI artifact as one file. Sections: the setup (machine, backend,
 * model, roofs and where they come from), a stacked bar chart per workload, the roofline, and the tables of
 * {@link ProfileTable}.
 */
final class Html {
    private static final String CSS = """
            body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em;
                   color: #222; line-height: 1.45; }
            h1 { font-size: 1.6em; margin-bottom: .2em; }
            h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
            h3 { font-size: 1.05em; margin-bottom: .3em; }
            dl { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }
            dt { font-weight: 600; }
            dd { margin: 0; }
            .note { background: #f6f6f2; border-left: 4px solid #c9b458; padding: .5em .8em; }
            figure { margin: 1em 0; }
            figcaption { font-size: .9em; color: #555; }
            svg.chart { max-width: 100%; height: auto; }
            table { border-collapse: collapse; font-size: .85em; margin: .5em 0 1.5em; }
            th, td { border-bottom: 1px solid #e2e2e2; padding: .25em .6em; white-space: nowrap; }
            th { background: #f3f3f3; text-align: left; }
            td.num { text-align: right; font-variant-numeric: tabular-nums; }
            footer { margin-top: 3em; font-size: .8em; color: #777; }
            """;

    private Html() {
    }

    static String page(ProfileRun run) {
        StringBuilder s = new StringBuilder();
        s.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>mempipe profile</title>\n<style>\n").append(CSS).append("</style>\n</head>\n<body>\n");
        s.append("<h1>mempipe profile</h1>\n<p>How much of an LLM decode step the memory processing pipeline takes ")
                .append("(Prepare Memory, Compute Relevancy, Retrieval, Apply to Inference), per workload and context ")
                .append("length, and where each step sits on the machine's roofline.</p>\n");

        s.append("<h2>Setup</h2>\n<dl>\n");
        dd(s, "machine", run.machine());
        dd(s, "backend", run.backendDescription());
        dd(s, "model", run.model());
        dd(s, "roofs", ProfileTable.roofs(run));
        dd(s, "warm-up", run.warmUp());
        s.append("</dl>\n");
        s.append("<p class=\"note\">The roofline's roofs are models, not guarantees (here: ")
                .append(esc(run.roofSource()))
                .append("). Measured roofs come from a micro-benchmark on this machine; declared roofs come from a ")
                .append("device model (data sheet or calibration) and are labelled as such. Bytes and FLOPs of each ")
                .append("step are analytic counts of its ops; times are measured wall time per decode step.</p>\n");

        s.append("<h2>Time per decode step</h2>\n<p>Each bar is one decode step at one context length, split into ")
                .append("the four pipeline steps and the rest of the step (projections and MLP), so the colored part ")
                .append("is the memory-processing share. Hover a segment for its time.</p>\n");
        for (Map.Entry<String, List<ProfileRow>> e : byWorkload(run).entrySet()) {
            s.append("<figure>\n<h3>").append(esc(e.getKey())).append("</h3>\n")
                    .append(Charts.stackedBars(e.getKey(), e.getValue()))
                    .append("<figcaption>").append(esc(e.getKey()))
                    .append(": share of a decode step per context length");
            String note = ProfileTable.syntheticNotes(run).get(e.getKey());
            if (note != null) {
                s.append(". Rests on a choice the profile made: ").append(esc(note));
            }
            s.append("</figcaption>\n</figure>\n");
        }

        s.append("<h2>Roofline</h2>\n");
        List<String> unplotted = new ArrayList<>();
        List<Charts.Point> points = Charts.points(run, unplotted);
        s.append("<figure>\n").append(Charts.roofline(run, points)).append("<figcaption>Log-log roofline: one dot ")
                .append("per step of each workload, its FLOPs and bytes summed over the context lengths measured. ")
                .append("Dots under the slanted roof are bandwidth-bound, under the flat roof compute-bound; the ")
                .append("distance to the roof is what is left on the table.");
        if (!unplotted.isEmpty()) {
            s.append(" Not plotted (no place on log axes): ").append(esc(String.join(", ", unplotted))).append('.');
        }
        s.append("</figcaption>\n</figure>\n");

        s.append("<h2>Table</h2>\n");
        table(s, "summary", ProfileTable.summaryRows(run), Set.of(0, 1, 11));
        s.append("<p>Times are per decode step. memory = the four steps; decode step = memory + projections and MLP.")
                .append(" rel. error and softmax mass compare the workload's attention output with dense attention ")
                .append("(empty where there is no dense reference). * marks a step a device failed and the CPU ")
                .append("reran.");
        java.util.Map<String, String> notes = ProfileTable.syntheticNotes(run);
        if (!notes.isEmpty()) {
            s.append(" ").append(ProfileTable.SYNTHETIC_MARK).append(" marks a memory share that rests on a choice the ")
                    .append("profile made:</p>\n<ul class=\"note\">\n");
            notes.forEach((w, n) -> s.append("<li>").append(esc(w)).append(": ").append(esc(n)).append("</li>\n"));
            s.append("</ul>\n");
        } else {
            s.append("</p>\n");
        }
        if (run.rows().stream().anyMatch(r -> !r.figures().isEmpty())) {
            s.append("<h3>Workload figures</h3>\n<p class=\"note\">Figures of the generating workloads, each with ")
                    .append("what it rests on. <em>synthetic</em>: the figure depends on a choice the profile made ")
                    .append("because the model has random weights or the corpus is planted (for example, trigger rates ")
                    .append("of FLARE and DRAGIN); <em>model</em>: computed from measured parts.</p>\n");
            table(s, "figures", ProfileTable.figureRows(run), Set.of(0, 1, 2, 4));
        }
        s.append("<h3>Per step</h3>\n");
        table(s, "steps", ProfileTable.stepRows(run), Set.of(0, 1, 2, 10, 11));

        s.append("<footer>Written by mempipe ").append(esc(Main.version()))
                .append(" (mempipe profile). A self-contained page: no script, no external resource.</footer>\n");
        return s.append("</body>\n</html>\n").toString();
    }

    private static Map<String, List<ProfileRow>> byWorkload(ProfileRun run) {
        Map<String, List<ProfileRow>> groups = new LinkedHashMap<>();
        for (ProfileRow r : run.rows()) {
            groups.computeIfAbsent(r.workload(), w -> new ArrayList<>()).add(r);
        }
        return groups;
    }

    private static void dd(StringBuilder s, String term, String value) {
        s.append("<dt>").append(esc(term)).append("</dt><dd>").append(esc(value)).append("</dd>\n");
    }

    private static void table(StringBuilder s, String cssClass, List<List<String>> rows, Set<Integer> textColumns) {
        s.append("<table class=\"").append(cssClass).append("\">\n<thead><tr>");
        for (String h : rows.getFirst()) {
            s.append("<th>").append(esc(h)).append("</th>");
        }
        s.append("</tr></thead>\n<tbody>\n");
        for (List<String> row : rows.subList(1, rows.size())) {
            s.append("<tr>");
            for (int i = 0; i < row.size(); i++) {
                s.append(textColumns.contains(i) ? "<td>" : "<td class=\"num\">").append(esc(row.get(i)))
                        .append("</td>");
            }
            s.append("</tr>\n");
        }
        s.append("</tbody>\n</table>\n");
    }

    /** Escapes text for HTML element content and double-quoted attributes. */
    static String esc(String text) {
        StringBuilder s = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> s.append("&amp;");
                case '<' -> s.append("&lt;");
                case '>' -> s.append("&gt;");
                case '"' -> s.append("&quot;");
                case '\'' -> s.append("&#39;");
                default -> s.append(c);
            }
        }
        return s.toString();
    }
}
