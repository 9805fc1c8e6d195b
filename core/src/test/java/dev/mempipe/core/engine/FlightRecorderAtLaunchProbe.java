package dev.mempipe.core.engine;

import dev.mempipe.core.memory.EmbeddingMemory;
import dev.mempipe.core.placement.Device;
import dev.mempipe.core.placement.DeviceModel;
import dev.mempipe.core.profile.EnergyMeter;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.goldentests.ScalarBackend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;

/**
 * Run by {@link EngineFlightRecorderTest} in a JVM started with {@code -XX:StartFlightRecording}: its first engine
 * step is the first use of the step event classes, so they are defined while a recording runs. Runs an exact
 * search of an {@link EmbeddingMemory} (its appends and search are the first steps) and then one op of every step,
 * and prints {@code best=<id>} and {@code steps=<n>}; a failure ends the JVM with the exception.
 */
public final class FlightRecorderAtLaunchProbe {
    private FlightRecorderAtLaunchProbe() {
    }

    public static void main(String[] args) {
        ScalarBackend oracle = new ScalarBackend(); // no calibration: the probe stays quick
        Engine engine = Engine.builder().cpu(new Device(oracle, DeviceModel.declared(oracle.name(), 1e11, 2e10, 1e-6)))
                .energyMeter(EnergyMeter.unavailable("not measured in tests")).build();
        try (Arena arena = Arena.ofShared(); EmbeddingMemory memory = new EmbeddingMemory(arena, engine, 4, 8)) {
            memory.append(Tensor.of(arena, new float[] {1, 0, 0, 0, 0, 1, 0, 0}, 2, 4));
            System.out.println("best=" + memory.search(Tensor.of(arena, new float[] {0, 2, 0, 0}, 1, 4), 1).id(0));
            Tensor a = Tensor.vector(arena, 0.25f, 0.75f);
            Tensor v = Tensor.of(arena, new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
            Tensor out = Tensor.allocate(arena, ElementType.F32, 1, 3);
            for (Step step : Step.values()) {
                engine.runVoid(step, "launch-" + step.name().toLowerCase(), new OpCost(24, 12, 12),
                        b -> b.apply().softRetrieve(a, v, out));
            }
        }
        System.out.println("steps=" + engine.report().records().size());
    }
}
