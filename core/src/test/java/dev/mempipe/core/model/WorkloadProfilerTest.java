package dev.mempipe.core.model;

import dev.mempipe.core.pipeline.PipelineTesting;
import dev.mempipe.core.profile.StepRecord;
import dev.mempipe.core.profile.Totals;
import dev.mempipe.spi.Step;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A smoke run of every workload with the tiny model at a 1k context. */
class WorkloadProfilerTest {
    static final WorkloadProfiler.Options QUICK = WorkloadProfiler.Options.DEFAULT.withSteps(1, 2)
            .withKernelWarmUp(false).withRagPromptTokens(256);
    static WorkloadProfiler profiler;

    @BeforeAll
    static void start() {
        profiler = new WorkloadProfiler(PipelineTesting.engine());
    }

    @AfterAll
    static void stop() {
        profiler.close();
    }

    @ParameterizedTest
    @EnumSource(Workload.class)
    void should_profile_a_decode_step_of_every_workload(Workload workload) {
        WorkloadProfile p = profiler.profile(workload, 1000, DecoderConfig.tiny(), QUICK);
        if (workload.kind() == Workload.Kind.GENERATION) { // tokens kept (at least two look-aheads), or chunks read
            // MemAgent at 1000 input tokens: one full chunk of 625 and the last of 375, each measured once
            assertTrue(workload == Workload.MEMAGENT ? p.steps() == 2 : p.steps() >= 32, "steps " + p.steps());
        } else {
            assertEquals(2, p.steps());
        }
        assertTrue(p.stepSeconds() > 0 && p.memorySeconds() > 0 && p.otherSeconds() >= 0, p.toString());
        assertEquals(p.stepSeconds(), p.memorySeconds() + p.otherSeconds(), 1e-9);
        assertTrue(p.memoryShare() > 0 && p.memoryShare() <= 1, "share " + p.memoryShare());
        assertTrue(p.setupSeconds() > 0 || workload == Workload.MEMAGENT, "MemAgent builds nothing before reading");

        Map<Step, Totals> steps = p.measured().perStep();
        Set<Step> expected = switch (workload) {
            case DENSE -> EnumSet.of(Step.PREPARE, Step.APPLY);
            case QUEST, SEER_ATTENTION, DSA -> EnumSet.allOf(Step.class);
            case BM25, DENSE_RAG -> EnumSet.of(Step.RELEVANCY, Step.RETRIEVAL, Step.APPLY);
            case HMT -> EnumSet.of(Step.RELEVANCY, Step.APPLY); // soft retrieval runs nothing
            // a retrieval, and so Retrieval and Apply, only when a trigger fired
            case FLARE, DRAGIN -> p.figures().getFirst().value() > 0 ? EnumSet.of(Step.RELEVANCY, Step.RETRIEVAL,
                    Step.APPLY) : EnumSet.of(Step.RELEVANCY);
            case MEMAGENT -> EnumSet.of(Step.PREPARE, Step.APPLY); // the rewrite, the memory's prefill
            // the token's write (LaCT: appended to the chunk; its update ran in setup) and the read M(q)
            case TITANS, LACT -> EnumSet.of(Step.PREPARE, Step.APPLY);
        };
        assertEquals(expected, steps.keySet(), workload + " steps");
        for (Step step : expected) {
            assertTrue(steps.get(step).bytesRead() > 0, workload + " " + step + " reads nothing");
            boolean parametric = workload == Workload.TITANS || workload == Workload.LACT;
            boolean moves = step == Step.APPLY && workload.kind() == Workload.Kind.RETRIEVAL && workload != Workload.HMT
                    && !parametric || workload == Workload.LACT && step == Step.PREPARE; // LaCT's append copies

            assertTrue(moves || steps.get(step).flops() > 0, workload + " " + step + " computes nothing");
        }
        assertEquals(workload.kind() == Workload.Kind.GENERATION || parametric(workload), !p.figures().isEmpty(),
                "figures of " + workload);
        if (workload == Workload.LACT) {  // the chunk update, timed in setup, and its share per token
            assertTrue(p.figures().get(1).value() > 0, p.figures().toString());
            assertEquals(p.figures().get(1).value() / 2048, p.figures().get(2).value(), 1e-12);
            assertTrue(p.setup().perStep().containsKey(Step.APPLY) || p.setup().perStep().containsKey(Step.PREPARE));
        }
        for (StepRecord r : p.measured().records()) {
            assertTrue(r.wallNanos() > 0, r.toString());
        }
        assertTrue(workload == Workload.MEMAGENT || p.setup().perStep().containsKey(Step.PREPARE), "setup runs Prepare");

        Set<String> other = p.otherOps().stream().map(ModelWork.Op::label).collect(Collectors.toSet());
        assertTrue(other.containsAll(Set.of("projection", "mlp", "lm-head")), other.toString());
        if (workload.isSparseAttention()) {
            assertNotNull(p.accuracy());
            assertTrue(p.accuracy().massCovered() > 0.9, p.accuracy().toString());
        } else {
            assertNull(p.accuracy());
        }
    }

    private static boolean parametric(Workload w) {
        return w == Workload.TITANS || w == Workload.LACT;
    }
}
