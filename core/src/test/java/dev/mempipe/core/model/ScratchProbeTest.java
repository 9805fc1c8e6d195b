package dev.mempipe.core.model;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.Locale;

class ScratchProbeTest {
    @Test
    void probe() {
        Assumptions.assumeTrue(Boolean.getBoolean("mempipe.test.defaultProfile"));
        try (WorkloadProfiler profiler = new WorkloadProfiler()) {
            WorkloadProfiler.Options o = WorkloadProfiler.Options.DEFAULT.withSteps(30, 20);
            for (Workload w : new Workload[] {Workload.DENSE, Workload.QUEST, Workload.DSA, Workload.QUEST, Workload.DENSE, Workload.SEER_ATTENTION, Workload.DENSE_RAG}) {
                WorkloadProfile p = profiler.profile(w, 65536, DecoderConfig.tiny(), o);
                System.err.printf(Locale.ROOT, "%s step %.3f ms memory %.3f ms%n", w, p.stepSeconds()*1e3, p.memorySeconds()*1e3);
                System.err.println(p.measured().toText());
                p.otherOps().forEach(op -> System.err.printf(Locale.ROOT, "   %s %d %.3f ms%n", op.label(), op.calls(), op.seconds()*1e3 / p.steps()));
            }
        }
    }
}
