package dev.mempipe.core.model;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.Locale;

/** The whole default profile (six workloads at 4k, 16k, 64k, tiny model), timed; run with -Dmempipe.test.defaultProfile=true. */
class DefaultProfileTimingTest {
    @Test
    void default_profile_runs_and_reports_its_time() {
        Assumptions.assumeTrue(Boolean.getBoolean("mempipe.test.defaultProfile"), "set -Dmempipe.test.defaultProfile=true");
        long start = System.nanoTime();
        try (WorkloadProfiler profiler = new WorkloadProfiler()) {
            for (long context : new long[] {4096, 16384, 65536}) {
                for (Workload w : Workload.paperWorkloads()) {
                    long t0 = System.nanoTime();
                    WorkloadProfile p = profiler.profile(w, context, DecoderConfig.tiny());
                    System.err.printf(Locale.ROOT, "%-15s %6d  step %8.3f ms  memory %8.3f ms  share %5.1f%%  setup %6.2f s  total %6.2f s  acc %s%n",
                            w, context, p.stepSeconds() * 1e3, p.memorySeconds() * 1e3, 100 * p.memoryShare(),
                            p.setupSeconds(), (System.nanoTime() - t0) / 1e9, p.accuracy());
                }
            }
        }
        System.err.printf(Locale.ROOT, "default profile: %.1f s%n", (System.nanoTime() - start) / 1e9);
    }
}
