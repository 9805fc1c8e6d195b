package dev.mempipe.core.model;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.pipeline.PipelineTesting;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParametricWorkloadTest {
    @Test
    void lact_times_its_chunk_update_when_the_context_fills_a_whole_chunk() {
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            Tensor query = Tensor.allocate(arena, ElementType.F32, 1, 16);
            // 4096 tokens: setup writes one full chunk of 2048, whose update runs inside prepare
            engine.resetProfile();
            ParametricWorkload lact = ParametricWorkload.create(Workload.LACT, engine, arena, 16, 4096, 1, query);
            long updateNanos = engine.report().records().stream()
                    .filter(r -> r.op().equals("mlpGradient") || r.op().equals("newtonSchulz"))
                    .mapToLong(r -> r.wallNanos()).sum();
            assertTrue(updateNanos > 0, "setup ran the update");
            assertTrue(lact.figures.get(1).value() * 1e9 >= updateNanos, "the chunk update figure "
                    + lact.figures.get(1) + " covers the update's ops (" + updateNanos + " ns)");
            assertEquals(ParametricWorkload.WRITTEN_AT_MOST, lact.figures.getFirst().value());
            assertTrue(lact.figures.getFirst().basis().startsWith("synthetic:"), lact.figures.toString());
            engine.resetProfile();
            lact.step.run();
            assertTrue(engine.report().records().stream().anyMatch(r -> r.op().equals("mlpForward")));
        }
    }
}
