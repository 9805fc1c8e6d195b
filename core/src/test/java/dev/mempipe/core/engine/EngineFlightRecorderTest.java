package dev.mempipe.core.engine;

import dev.mempipe.core.placement.Device;
import dev.mempipe.core.placement.DeviceModel;
import dev.mempipe.core.placement.FakeBackend;
import dev.mempipe.core.profile.EnergyMeter;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.goldentests.ScalarBackend;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EngineFlightRecorderTest {
    static final Map<Step, String> EVENT_NAMES = Map.of(Step.PREPARE, "dev.mempipe.Prepare",
            Step.RELEVANCY, "dev.mempipe.Relevancy", Step.RETRIEVAL, "dev.mempipe.Retrieval", Step.APPLY, "dev.mempipe.Apply");

    @Test
    void should_emit_one_event_type_per_step_with_the_record_fields(@TempDir Path dir) throws Exception {
        ScalarBackend oracle = new ScalarBackend();
        Device cpu = new Device(FakeBackend.working("cpu", oracle, Capabilities.all()),
                DeviceModel.declared("cpu", 1e9, 1e9, 0));
        Device broken = new Device(FakeBackend.broken("broken-gpu", oracle), DeviceModel.declared("broken-gpu", 1e12, 1e11, 0));
        Engine engine = Engine.builder().cpu(cpu).device(broken).plan(EngineTest.planOn(cpu, broken, Step.APPLY))
                .energyMeter(EnergyMeter.unavailable("off")).build();
        Path file = dir.resolve("steps.jfr");

        try (Recording recording = new Recording(); Arena arena = Arena.ofConfined()) {
            Tensor a = Tensor.vector(arena, 0.25f, 0.75f);
            Tensor v = Tensor.of(arena, new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
            Tensor out = Tensor.allocate(arena, ElementType.F32, 1, 3);
            EVENT_NAMES.values().forEach(name -> recording.enable(name).withoutThreshold());
            recording.start();
            for (Step step : Step.values()) {
                OpCost cost = new OpCost(100 + step.ordinal(), 10, 1000L * (step.ordinal() + 1));
                // APPLY is placed on the broken device, so it fails there and the CPU reruns it.
                engine.runVoid(step, "op-" + step.name().toLowerCase(), cost, b -> b.apply().softRetrieve(a, v, out));
            }
            recording.stop();
            recording.dump(file);
        }

        Map<String, RecordedEvent> byType = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().startsWith("dev.mempipe."))
                .collect(Collectors.toMap(e -> e.getEventType().getName(), Function.identity()));
        assertEquals(Set.copyOf(EVENT_NAMES.values()), byType.keySet());
        for (Step step : Step.values()) {
            RecordedEvent e = byType.get(EVENT_NAMES.get(step));
            assertEquals("op-" + step.name().toLowerCase(), e.getString("op"));
            assertEquals("cpu", e.getString("device"));
            assertEquals(100 + step.ordinal(), e.getLong("bytesRead"));
            assertEquals(10, e.getLong("bytesWritten"));
            assertEquals(1000L * (step.ordinal() + 1), e.getLong("flops"));
            assertEquals((1000.0 * (step.ordinal() + 1)) / (110 + step.ordinal()), e.getDouble("intensity"), 1e-12);
            assertEquals(1.0, e.getDouble("ridgePoint"));
            assertEquals("COMPUTE", e.getString("bound"));
            assertFalse(e.getBoolean("energyAvailable"));
            assertTrue(Double.isNaN(e.getDouble("energyJoules")));
            assertEquals(step == Step.APPLY, e.getBoolean("fallback"));
            assertTrue(e.getEventType().getCategoryNames().contains("mempipe"));
            assertFalse(e.getDuration().isNegative());
        }
        RecordedEvent apply = byType.get("dev.mempipe.Apply");
        assertEquals("broken-gpu", apply.getString("fallbackFrom"));
        assertTrue(apply.getString("fallbackReason").contains("simulated device fault"));
        assertEquals("Apply to Inference", apply.getEventType().getLabel());
    }

    /**
     * A recording started at launch defines the event classes while it records. Their base class once held the
     * factory of its subclasses, and JFR's instrumenter, reflecting on the base class while it defined
     * {@code PrepareStepEvent}, made the verifier load {@code PrepareStepEvent} a second time: the first step failed
     * with {@code LinkageError: duplicate class definition} (see {@code StepEvents}).
     */
    @Test
    void should_run_and_record_steps_in_a_jvm_that_records_from_launch(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("launch.jfr");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = List.of(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-XX:StartFlightRecording:filename=" + file, "-cp", System.getProperty("java.class.path"),
                FlightRecorderAtLaunchProbe.class.getName());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the probe did not finish: " + output);
        assertEquals(0, process.exitValue(), output);
        assertFalse(output.contains("duplicate class definition"), output);
        assertFalse(output.contains("Unexpected error when adding instrumentation"), output);
        assertTrue(output.contains("best=1"), "the search answers right: " + output);
        assertTrue(Files.size(file) > 0, "the recording was written at exit: " + output);

        List<RecordedEvent> events = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().startsWith("dev.mempipe.")).toList();
        Map<String, Long> perType = events.stream()
                .collect(Collectors.groupingBy(e -> e.getEventType().getName(), Collectors.counting()));
        assertEquals(Set.copyOf(EVENT_NAMES.values()), perType.keySet(), "event types recorded: " + perType);
        String steps = output.lines().filter(l -> l.startsWith("steps=")).findFirst().orElseThrow(
                () -> new AssertionError("the probe printed no step count: " + output));
        assertEquals(Long.parseLong(steps.substring("steps=".length())), events.size(),
                "one event per engine step: " + perType);
        for (Step step : Step.values()) {
            String op = "launch-" + step.name().toLowerCase();
            assertEquals(1, events.stream().filter(e -> op.equals(e.getString("op"))
                    && e.getEventType().getName().equals(EVENT_NAMES.get(step))).count(), op + " in " + perType);
        }
    }
}
