package dev.mempipe.core.model;

import dev.mempipe.core.pipeline.PipelineTesting;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several contexts of one workload are measured from the largest down (so that a small context runs the kernels the
 * large one made the JIT compile) and returned in the order asked.
 */
class WorkloadProfilerOrderTest {

    @Test
    void should_order_contexts_from_the_largest_down_keeping_equal_ones_in_the_order_given() {
        assertEquals(List.of(2, 1, 0), WorkloadProfiler.measurementOrder(List.of(4096L, 16384L, 65536L)));
        assertEquals(List.of(1, 2, 0), WorkloadProfiler.measurementOrder(List.of(4096L, 65536L, 16384L)));
        assertEquals(List.of(1, 0, 2), WorkloadProfiler.measurementOrder(List.of(7L, 9L, 7L)));
        assertEquals(List.of(0), WorkloadProfiler.measurementOrder(List.of(1L)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WorkloadProfiler.measurementOrder(List.of()));
        assertTrue(e.getMessage().contains("contexts"), e.getMessage());
    }

    @Test
    void should_measure_the_largest_context_first_and_return_profiles_in_the_order_asked() {
        List<Long> decoded = new ArrayList<>();
        List<Long> asked = List.of(300L, 900L, 600L);
        try (WorkloadProfiler profiler = new WorkloadProfiler(PipelineTesting.engine())) {
            List<WorkloadProfile> profiles = profiler.profile(Workload.QUEST, asked, DecoderConfig.tiny(),
                    WorkloadProfilerTest.QUICK, (context, phase) -> {
                        if (phase.equals(WorkloadProfiler.PHASE_DECODE)) {
                            decoded.add(context);
                        }
                    });
            assertEquals(List.of(900L, 600L, 300L), decoded, "measured largest first");
            assertEquals(asked, profiles.stream().map(WorkloadProfile::context).toList(), "returned as asked");
        }
    }

    @Test
    void should_refuse_a_bad_context_before_measuring_any() {
        List<String> phases = new ArrayList<>();
        try (WorkloadProfiler profiler = new WorkloadProfiler(PipelineTesting.engine())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> profiler.profile(Workload.QUEST, List.of(900L, 0L), DecoderConfig.tiny(),
                            WorkloadProfilerTest.QUICK, (context, phase) -> phases.add(phase)));
            assertTrue(e.getMessage().contains("got 0"), e.getMessage());
        }
        assertEquals(List.of(), phases, "nothing ran");
    }

    @Test
    void should_rehearse_at_64k_only_when_every_context_is_smaller_and_kernels_are_warmed_up() {
        WorkloadProfiler.Options warm = WorkloadProfiler.Options.DEFAULT;
        assertTrue(WorkloadProfiler.needsRehearsal(4096, warm));
        assertTrue(WorkloadProfiler.needsRehearsal(65_535, warm));
        assertFalse(WorkloadProfiler.needsRehearsal(65_536, warm));
        assertFalse(WorkloadProfiler.needsRehearsal(131_072, warm));
        assertFalse(WorkloadProfiler.needsRehearsal(4096, warm.withKernelWarmUp(false)));
        assertTrue(WorkloadProfiler.WARM_UP_DESCRIPTION.contains("below 64k first runs once at 64k, unmeasured"),
                WorkloadProfiler.WARM_UP_DESCRIPTION);
    }

    @Test
    void the_report_text_should_say_how_the_contexts_are_ordered() {
        assertTrue(WorkloadProfiler.WARM_UP_DESCRIPTION.contains("measured from the largest down"),
                WorkloadProfiler.WARM_UP_DESCRIPTION);
    }
}
