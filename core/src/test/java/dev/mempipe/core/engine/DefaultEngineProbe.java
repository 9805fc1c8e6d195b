package dev.mempipe.core.engine;

import dev.mempipe.core.memory.EmbeddingMemory;
import dev.mempipe.core.placement.Device;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;

/**
 * Run in a JVM of its own by {@link DefaultDevicesTest} (the default backend is chosen once per JVM): builds an
 * engine with every default, runs an exact search of an {@link EmbeddingMemory} on it, and prints what it found as
 * {@code key=value} lines, or {@code error=<message>} when the build fails.
 */
public final class DefaultEngineProbe {
    private DefaultEngineProbe() {
    }

    public static void main(String[] args) {
        Engine engine;
        try {
            engine = Engine.builder().build();
        } catch (IllegalStateException e) {
            System.out.println("error=" + e.getMessage());
            return;
        }
        System.out.println("cpu=" + engine.cpu().name());
        System.out.println("devices=" + engine.devices().stream().map(Device::name).toList());
        System.out.println("relevancy=" + engine.plan().deviceFor(Step.RELEVANCY));
        try (Arena arena = Arena.ofShared(); EmbeddingMemory memory = new EmbeddingMemory(arena, engine, 4, 8)) {
            memory.append(Tensor.of(arena, new float[] {1, 0, 0, 0, 0, 1, 0, 0}, 2, 4));
            System.out.println("best=" + memory.search(Tensor.of(arena, new float[] {0, 2, 0, 0}, 1, 4), 1).id(0));
        }
        System.out.println("deviceCalls=" + CountingDeviceProvider.CALLS.get());
        System.out.println("ranOn=" + engine.report().perOp().stream().map(o -> o.op() + "@" + o.device()).toList());
    }
}
