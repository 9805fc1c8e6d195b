package dev.mempipe.cli.profile;

import dev.mempipe.core.profile.Units;
import dev.mempipe.spi.Step;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * The plain-text form of a {@link ProfileRun}: a header naming the machine, backend, model and roofs; a summary
 * table with one row per workload and context length (time of each step per decode step, the memory part, the
 * whole decode step, the memory share, accuracy against dense attention, energy); and a per-step table with
 * bytes, FLOPs, intensity, achieved rates, bound and device. The HTML report shows the same tables.
 */
public final class ProfileTable {
    /** The summary table's columns, shared with the HTML report. */
    static final List<String> SUMMARY_COLUMNS = List.of("workload", "context", "prepare", "relevancy", "retrieval",
            "apply", "memory", "decode step", "memory %", "rel. error", "softmax mass", "energy");
    /** The workload figures' columns, shared with the HTML report. */
    static final List<String> FIGURE_COLUMNS = List.of("workload", "context", "figure", "value", "basis");
    /** The per-step table's columns, shared with the HTML report. */
    static final List<String> STEP_COLUMNS = List.of("workload", "context", "step", "time", "read", "written",
            "FLOPs", "FLOP/B", "achieved", "bandwidth", "bound", "device");

    /** Marks a memory share that rests on a synthetic choice; the lines below the summary say which. */
    static final String SYNTHETIC_MARK = "#";

    private ProfileTable() {
    }

    /** The header, both tables and the footnotes, each line ending in a newline. */
    public static String render(ProfileRun run) {
        StringBuilder s = new StringBuilder();
        s.append("machine: ").append(run.machine()).append('\n');
        s.append("backend: ").append(run.backendDescription()).append('\n');
        s.append("model:   ").append(run.model()).append('\n');
        s.append("roofs:   ").append(roofs(run)).append('\n');
        s.append('\n');
        s.append(align(summaryRows(run), Set.of(0, 1, 11)));
        if (run.rows().stream().anyMatch(ProfileRow::anyFallback)) {
            s.append("* a device failed on this step and the CPU reran it\n");
        }
        s.append("times are per decode step; memory = the four steps, decode step = memory + projections and MLP\n");
        syntheticNotes(run).forEach((workload, note) -> s.append(SYNTHETIC_MARK).append(' ').append(workload)
                .append(" rests on ").append(note).append('\n'));
        s.append("warm-up: ").append(run.warmUp()).append('\n');
        // The reason energy is unavailable is the same on every row: say it once, below the table.
        run.rows().stream().map(ProfileRow::energy).filter(e -> !e.equals(energyCell(e))).findFirst()
                .ifPresent(e -> s.append("energy: ").append(e).append('\n'));
        if (run.rows().stream().anyMatch(r -> !r.figures().isEmpty())) {
            s.append('\n');
            s.append(align(figureRows(run), Set.of(0, 1, 2, 4)));
        }
        s.append('\n');
        s.append(align(stepRows(run), Set.of(0, 1, 2, 10, 11)));
        return s.toString();
    }

    /** The roofs in one line: {@code peak 120 GFLOP/s, bandwidth 22.0 GB/s, ridge 5.45 FLOP/B (source)}. */
    static String roofs(ProfileRun run) {
        return "peak " + Units.rate(run.peakFlops(), "FLOP") + ", bandwidth " + Units.rate(run.bandwidthBytesPerSecond(),
                "B") + ", ridge " + number(run.ridgePoint()) + " FLOP/B (" + run.roofSource() + ")";
    }

    /** Header and one row per workload and context length, as strings. */
    static List<List<String>> summaryRows(ProfileRun run) {
        List<List<String>> rows = new ArrayList<>();
        rows.add(SUMMARY_COLUMNS);
        for (ProfileRow r : run.rows()) {
            List<String> row = new ArrayList<>(List.of(r.workload(), Progress.contextLabel(r.contextLength())));
            for (Step step : Step.values()) {
                StepStats st = r.steps().get(step);
                row.add(st == null ? "-" : Units.seconds(st.seconds()) + (st.fellBack() ? "*" : ""));
            }
            row.add(Units.seconds(r.memorySeconds()));
            row.add(Units.seconds(r.decodeStepSeconds()));
            row.add(percent(r.memoryShare()) + (syntheticNote(r) == null ? "" : SYNTHETIC_MARK));
            row.add(scientific(r.relativeError()));
            row.add(r.softmaxMassCovered().isPresent() ? percent(r.softmaxMassCovered().getAsDouble()) : "-");
            row.add(energyCell(r.energy()));
            rows.add(row);
        }
        return rows;
    }

    /**
     * The synthetic choice a row's figures rest on (the {@code synthetic: ...} clause of the first figure whose basis
     * has one, up to its first semicolon), or null when none does: a trigger rate of a random-weight model, a scaled
     * chunk, random (k, v). The row's times and memory share rest on it too.
     */
    static String syntheticNote(ProfileRow r) {
        for (ProfileFigure f : r.figures()) {
            int at = f.basis().indexOf("synthetic:");
            if (at >= 0) {
                int end = f.basis().indexOf(';', at);
                return f.basis().substring(at, end < 0 ? f.basis().length() : end);
            }
        }
        return null;
    }

    /** Per workload with a synthetic choice, in the run's order: its notes, distinct, joined. */
    static java.util.Map<String, String> syntheticNotes(ProfileRun run) {
        java.util.Map<String, java.util.LinkedHashSet<String>> notes = new java.util.LinkedHashMap<>();
        for (ProfileRow r : run.rows()) {
            String note = syntheticNote(r);
            if (note != null) {
                notes.computeIfAbsent(r.workload(), w -> new java.util.LinkedHashSet<>()).add(note);
            }
        }
        java.util.Map<String, String> joined = new java.util.LinkedHashMap<>();
        notes.forEach((w, n) -> joined.put(w, String.join("; ", n)));
        return joined;
    }

    /** The workloads' own figures: header and one row per figure, with its basis next to it. */
    static List<List<String>> figureRows(ProfileRun run) {
        List<List<String>> rows = new ArrayList<>();
        rows.add(FIGURE_COLUMNS);
        for (ProfileRow r : run.rows()) {
            for (ProfileFigure f : r.figures()) {
                rows.add(List.of(r.workload(), Progress.contextLabel(r.contextLength()), f.name(), f.value(), f.basis()));
            }
        }
        return rows;
    }

    /** Header and one row per step of every workload and context length, as strings. */
    static List<List<String>> stepRows(ProfileRun run) {
        List<List<String>> rows = new ArrayList<>();
        rows.add(STEP_COLUMNS);
        for (ProfileRow r : run.rows()) {
            r.steps().forEach((step, st) -> rows.add(List.of(r.workload(), Progress.contextLabel(r.contextLength()),
                    stepName(step), Units.seconds(st.seconds()), Units.bytes(st.bytesRead()),
                    Units.bytes(st.bytesWritten()), Units.flops(st.flops()), number(st.intensity()),
                    st.flops() == 0 ? "-" : Units.rate(st.flopsPerSecond(), "FLOP"), Units.rate(st.bytesPerSecond(), "B"),
                    st.bound().name().toLowerCase(Locale.ROOT), st.device() + (st.fellBack() ? " (fell back)" : ""))));
        }
        return rows;
    }

    /** An energy figure as the summary table shows it: an unavailable one without its (repeated) reason. */
    static String energyCell(String energy) {
        return energy.startsWith("unavailable") ? "unavailable" : energy;
    }

    /** The step as the reports name it: {@code prepare}, {@code relevancy}, {@code retrieval}, {@code apply}. */
    static String stepName(Step step) {
        return step.name().toLowerCase(Locale.ROOT);
    }

    static String percent(double fraction) {
        return Double.isFinite(fraction) ? String.format(Locale.ROOT, "%.1f%%", 100 * fraction) : "-";
    }

    static String scientific(OptionalDouble value) {
        return value.isPresent() ? String.format(Locale.ROOT, "%.2e", value.getAsDouble()) : "-";
    }

    static String number(double value) {
        return Double.isFinite(value) ? String.format(Locale.ROOT, "%.2f", value) : Double.isNaN(value) ? "-" : "inf";
    }

    /** Columns padded to their widest cell; text columns ({@code left}) left-aligned, numbers right-aligned. */
    private static String align(List<List<String>> rows, Set<Integer> left) {
        int[] widths = new int[rows.getFirst().size()];
        for (List<String> row : rows) {
            for (int i = 0; i < row.size(); i++) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        StringBuilder s = new StringBuilder();
        for (List<String> row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.size(); i++) {
                String cell = row.get(i);
                String fill = " ".repeat(widths[i] - cell.length());
                line.append(i == 0 ? "" : "  ").append(left.contains(i) ? cell + fill : fill + cell);
            }
            s.append(line.toString().stripTrailing()).append('\n');
        }
        return s.toString();
    }
}
