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
import java.nio.file.Path;
import java.util.Set;
import java.util.Map;
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
}
