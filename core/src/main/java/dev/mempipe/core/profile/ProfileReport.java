package dev.mempipe.core.profile;

import dev.mempipe.spi.Step;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * A snapshot of what the profiler recorded: every kept {@link StepRecord}, totals per step, per op (per step,
 * op label and device) and overall, and whether energy could be measured on this machine. Renders as JSON
 * ({@link #toJson()}) and as a plain-text table ({@link #toText()}).
 *
 * <p>Immutable.
 */
public final class ProfileReport {
    private final List<StepRecord> records;
    private final long droppedRecords;
    private final Map<Step, Totals> perStep;
    private final List<OpTotals> perOp;
    private final Totals total;
    private final boolean energyAvailable;
    private final String energySource;

    ProfileReport(List<StepRecord> records, long droppedRecords, Map<Step, Totals> perStep, List<OpTotals> perOp,
                  boolean energyAvailable, String energySource) {
        this.records = List.copyOf(records);
        this.droppedRecords = droppedRecords;
        this.perStep = Collections.unmodifiableMap(new EnumMap<>(perStep));
        this.perOp = List.copyOf(perOp);
        Totals sum = Totals.EMPTY;
        for (Totals t : perStep.values()) {
            sum = sum.plus(t);
        }
        // With no counter, even an empty report must not claim 0 J.
        this.total = energyAvailable ? sum : sum.withoutEnergy();
        this.energyAvailable = energyAvailable;
        this.energySource = Objects.requireNonNull(energySource, "energySource");
    }

    /**
     * A report over {@code records}.
     *
     * @param energyAvailable whether the machine had a readable energy counter
     * @param energySource    the counter used ({@code "rapl: package-0, dram"}) or why there is none
     */
    public static ProfileReport of(List<StepRecord> records, boolean energyAvailable, String energySource) {
        ProfileRecorder recorder = new ProfileRecorder(Integer.MAX_VALUE);
        records.forEach(recorder::add);
        return recorder.report(energyAvailable, energySource);
    }

    /** The kept records, in the order they were recorded. */
    public List<StepRecord> records() {
        return records;
    }

    /** Records left out of {@link #records()} because the recorder was full (they still count in every total). */
    public long droppedRecords() {
        return droppedRecords;
    }

    /** Totals of each step that ran, in pipeline order. */
    public Map<Step, Totals> perStep() {
        return perStep;
    }

    /** Totals per (step, op label, device), in the order first seen. */
    public List<OpTotals> perOp() {
        return perOp;
    }

    /** Totals over everything recorded. */
    public Totals total() {
        return total;
    }

    public boolean energyAvailable() {
        return energyAvailable;
    }

    /** The energy counter used, or why energy is unavailable. */
    public String energySource() {
        return energySource;
    }

    /**
     * The report as JSON: {@code energy} ({@code available}, {@code source}), {@code total}, {@code steps},
     * {@code ops}, {@code records}, {@code droppedRecords}. Unavailable energy is {@code null}, as are
     * non-finite numbers (the intensity of work that moves no bytes).
     */
    public String toJson() {
        JsonWriter w = new JsonWriter().beginObject();
        w.name("energy").beginObject().name("available").value(energyAvailable).name("source").value(energySource)
                .endObject();
        totals(w.name("total").beginObject(), total).endObject();
        w.name("steps").beginArray();
        perStep.forEach((step, t) -> totals(w.beginObject().name("step").value(step.name()), t).endObject());
        w.endArray().name("ops").beginArray();
        for (OpTotals o : perOp) {
            w.beginObject().name("step").value(o.step().name()).name("op").value(o.op()).name("device").value(o.device())
                    .name("ridgePoint").value(o.ridgePoint()).name("bound").value(o.bound().name());
            totals(w, o.totals()).endObject();
        }
        w.endArray().name("records").beginArray();
        for (StepRecord r : records) {
            w.beginObject().name("step").value(r.step().name()).name("op").value(r.op()).name("device").value(r.device())
                    .name("wallNanos").value(r.wallNanos()).name("bytesRead").value(r.bytesRead())
                    .name("bytesWritten").value(r.bytesWritten()).name("flops").value(r.flops())
                    .name("intensity").value(r.intensity()).name("ridgePoint").value(r.ridgePoint())
                    .name("bound").value(r.bound().name()).name("modelSeconds").value(r.modelSeconds());
            energy(w.name("energyJoules"), r.energyJoules());
            transfers(w, r.transfers());
            w.name("fallback");
            if (r.fallback() == null) {
                w.nullValue();
            } else {
                w.beginObject().name("fromDevice").value(r.fallback().fromDevice())
                        .name("reason").value(r.fallback().reason()).endObject();
            }
            w.endObject();
        }
        return w.endArray().name("droppedRecords").value(droppedRecords).endObject().finish();
    }

    /**
     * A plain-text table: one row per (step, op, device), a subtotal per step and a total, with wall time,
     * bytes, FLOPs, intensity, bound, achieved bandwidth, energy ("unavailable" when there is no counter)
     * and fallbacks.
     */
    public String toText() {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"step", "op", "device", "calls", "wall", "read", "written", "FLOPs", "FLOP/B",
                "bound", "GB/s", "energy", "fallbacks"});
        for (Map.Entry<Step, Totals> e : perStep.entrySet()) {
            for (OpTotals o : perOp) {
                if (o.step() == e.getKey()) {
                    rows.add(row(o.step().name(), o.op(), o.device(), o.totals(), o.bound().name()));
                }
            }
            rows.add(row(e.getKey().name(), "(step total)", "", e.getValue(), ""));
        }
        rows.add(row("TOTAL", "", "", total, ""));
        int[] widths = new int[rows.getFirst().length];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                widths[i] = Math.max(widths[i], r[i].length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                String cell = i <= 2 || i == 9 ? pad(r[i], widths[i], false) : pad(r[i], widths[i], true);
                out.append(i == 0 ? "" : "  ").append(cell);
            }
            out.append('\n');
        }
        out.append("energy: ").append(energyAvailable ? energySource : "unavailable (" + energySource + ")").append('\n');
        if (droppedRecords > 0) {
            out.append(droppedRecords).append(" records not kept individually (counted in the totals)\n");
        }
        return out.toString();
    }

    @Override
    public String toString() {
        return toText();
    }

    private static String[] row(String step, String op, String device, Totals t, String bound) {
        return new String[] {step, op, device, Long.toString(t.calls()), Units.seconds(t.wallNanos() / 1e9),
                Units.bytes(t.bytesRead()), Units.bytes(t.bytesWritten()), Units.flops(t.flops()),
                number(t.intensity()), bound, number(t.bytesPerSecond() / 1e9),
                t.energyJoules().isPresent() ? String.format(Locale.ROOT, "%.3f J", t.energyJoules().getAsDouble())
                        : "unavailable",
                Long.toString(t.fallbacks())};
    }

    private static String number(double value) {
        return Double.isFinite(value) ? String.format(Locale.ROOT, "%.2f", value) : Double.isNaN(value) ? "-" : "inf";
    }

    private static String pad(String s, int width, boolean right) {
        String fill = " ".repeat(width - s.length());
        return right ? fill + s : s + fill;
    }

    private static JsonWriter totals(JsonWriter w, Totals t) {
        w.name("calls").value(t.calls()).name("wallNanos").value(t.wallNanos()).name("bytesRead").value(t.bytesRead())
                .name("bytesWritten").value(t.bytesWritten()).name("flops").value(t.flops())
                .name("intensity").value(t.intensity());
        energy(w.name("energyJoules"), t.energyJoules());
        transfers(w, t.transfers());
        return w.name("fallbacks").value(t.fallbacks());
    }

    /** What devices reported: bytes each way, transfer and device time, and their own energy meter's joules. */
    private static void transfers(JsonWriter w, dev.mempipe.spi.DeviceCounters c) {
        w.name("bytesToDevice").value(c.bytesToDevice()).name("bytesFromDevice").value(c.bytesFromDevice())
                .name("transferNanos").value(c.transferNanos()).name("deviceNanos").value(c.deviceNanos());
        w.name("deviceEnergyJoules");
        if (c.hasEnergy()) {
            w.value(c.joules());
        } else {
            w.nullValue();
        }
    }

    private static void energy(JsonWriter w, OptionalDouble joules) {
        if (joules.isPresent()) {
            w.value(joules.getAsDouble());
        } else {
            w.nullValue();
        }
    }
}
