package dev.mempipe.core.profile;

import dev.mempipe.spi.Step;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProfileReportTest {
    static final String AWKWARD = "say \"hi\"\\ \n\t\u0001 é 🙂 \ud800";

    static StepRecord record(Step step, String op, String device, long nanos, OpCost cost, OptionalDouble joules,
                             StepRecord.Fallback fallback) {
        return new StepRecord(step, op, device, nanos, cost, 5.0, 1e-6, joules, fallback);
    }

    static List<StepRecord> records(boolean withEnergy) {
        OptionalDouble j = withEnergy ? OptionalDouble.of(0.5) : OptionalDouble.empty();
        return List.of(
                record(Step.PREPARE, "pageMinMax", "cpu", 1_000, new OpCost(1000, 100, 200), j, null),
                record(Step.RELEVANCY, "questBound", "gpu", 2_000, new OpCost(500, 10, 4000), j, null),
                record(Step.RELEVANCY, "questBound", "gpu", 3_000, new OpCost(500, 10, 4000), j, null),
                record(Step.RELEVANCY, AWKWARD, "cpu", 4_000, new OpCost(0, 0, 7), j,
                        new StepRecord.Fallback("gpu", "BackendException: \"lost\" device")),
                record(Step.APPLY, "attention", "cpu", 5_000, new OpCost(64, 8, 0), j, null));
    }

    @Test
    void should_total_per_step_per_op_and_overall() {
        ProfileReport report = ProfileReport.of(records(true), true, "rapl: package-0");

        assertEquals(List.of(Step.PREPARE, Step.RELEVANCY, Step.APPLY), List.copyOf(report.perStep().keySet()));
        Totals relevancy = report.perStep().get(Step.RELEVANCY);
        assertEquals(new Totals(3, 9_000, 1000, 20, 8007, OptionalDouble.of(1.5), 1), relevancy);
        OpTotals quest = report.perOp().get(1);
        assertEquals("questBound", quest.op());
        assertEquals("gpu", quest.device());
        assertEquals(2, quest.totals().calls());
        assertEquals(Bound.COMPUTE, quest.bound(), "8000 FLOPs / 1020 B is above the ridge point 5");
        assertEquals(Bound.MEMORY, report.perOp().getFirst().bound(), "200 / 1100 is below 5");
        assertEquals(5, report.total().calls());
        assertEquals(15_000, report.total().wallNanos());
        assertEquals(2.5, report.total().energyJoules().orElseThrow(), 1e-12);
    }

    @Test
    void should_report_energy_as_unavailable_rather_than_zero() {
        ProfileReport report = ProfileReport.of(records(false), false, "no /sys/class/powercap");

        assertTrue(report.total().energyJoules().isEmpty());
        assertTrue(report.perStep().get(Step.PREPARE).energyJoules().isEmpty());
        assertTrue(ProfileReport.of(List.of(), false, "none").total().energyJoules().isEmpty());
        String text = report.toText();
        assertTrue(text.contains("unavailable"), text);
        assertTrue(text.contains("energy: unavailable (no /sys/class/powercap)"), text);
        assertFalse(text.contains(" J "), text);
    }

    @Test
    @SuppressWarnings("unchecked")
    void should_write_json_that_parses_back_to_the_same_values() {
        ProfileReport report = ProfileReport.of(records(false), false, "no \"powercap\"");

        Map<String, Object> json = (Map<String, Object>) MiniJson.parse(report.toJson());

        assertEquals(List.of("energy", "total", "steps", "ops", "records", "droppedRecords"), List.copyOf(json.keySet()));
        Map<String, Object> energy = (Map<String, Object>) json.get("energy");
        assertEquals(false, energy.get("available"));
        assertEquals("no \"powercap\"", energy.get("source"));
        Map<String, Object> total = (Map<String, Object>) json.get("total");
        assertEquals(5.0, total.get("calls"));
        assertEquals(15_000.0, total.get("wallNanos"));
        assertNull(total.get("energyJoules"));
        assertTrue(total.containsKey("energyJoules"));
        List<Object> steps = (List<Object>) json.get("steps");
        assertEquals(List.of("PREPARE", "RELEVANCY", "APPLY"),
                steps.stream().map(s -> ((Map<String, Object>) s).get("step")).toList());
        List<Object> ops = (List<Object>) json.get("ops");
        assertEquals(4, ops.size());
        assertEquals("COMPUTE", ((Map<String, Object>) ops.get(1)).get("bound"));
        List<Object> recs = (List<Object>) json.get("records");
        assertEquals(5, recs.size());
        Map<String, Object> odd = (Map<String, Object>) recs.get(3);
        assertEquals(AWKWARD, odd.get("op"), "escaping round-trips, lone surrogate included");
        assertNull(odd.get("intensity"), "7 FLOPs over 0 bytes has no finite intensity");
        Map<String, Object> fallback = (Map<String, Object>) odd.get("fallback");
        assertEquals("gpu", fallback.get("fromDevice"));
        assertEquals("BackendException: \"lost\" device", fallback.get("reason"));
        Map<String, Object> first = (Map<String, Object>) recs.getFirst();
        assertEquals(1000.0, first.get("bytesRead"));
        assertEquals(100.0, first.get("bytesWritten"));
        assertEquals(200.0, first.get("flops"));
        assertEquals(200.0 / 1100, (Double) first.get("intensity"), 1e-15);
        assertEquals("MEMORY", first.get("bound"));
        assertNull(first.get("fallback"));
        assertEquals(0.0, json.get("droppedRecords"));
    }

    @Test
    void should_render_a_table_with_every_op_a_subtotal_per_step_and_a_total() {
        String text = ProfileReport.of(records(true), true, "rapl: package-0").toText();

        for (String s : List.of("step", "bound", "pageMinMax", "questBound", "attention", "(step total)", "TOTAL",
                "2.500 J", "energy: rapl: package-0")) {
            assertTrue(text.contains(s), s + " missing from\n" + text);
        }
    }

    @Test
    void should_escape_json_strings_as_rfc_8259_requires() {
        assertEquals("\"a\\\"b\\\\c\\n\\u0000\\u001f\"", JsonWriter.quote("a\"b\\c\n\u0000\u001f"));
        assertEquals("\"🙂\"", JsonWriter.quote("🙂"));
        assertEquals("\"\\udc00x\"", JsonWriter.quote("\udc00x"));
    }
}
