package dev.mempipe.cli.profile;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.model.DecoderConfig;
import dev.mempipe.core.model.WorkloadProfile;
import dev.mempipe.core.model.WorkloadProfiler;
import dev.mempipe.core.placement.Device;
import dev.mempipe.core.placement.DeviceModel;
import dev.mempipe.core.profile.EnergyMeter;
import dev.mempipe.core.profile.Totals;
import dev.mempipe.ops.SimdBackend;
import dev.mempipe.spi.Step;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The mapping of core's profiles to report rows, on a quick run of the tiny model at a 1k context. */
class ProfileMeasurementTest {
    static final WorkloadProfiler.Options QUICK = WorkloadProfiler.Options.DEFAULT.withSteps(1, 2)
            .withKernelWarmUp(false).withRagPromptTokens(256);

    @Test
    void rows_should_hold_per_step_costs_of_one_decode_step_and_the_accuracy_of_sparse_attention() {
        SimdBackend simd = new SimdBackend();
        Engine engine = Engine.builder().cpu(new Device(simd, DeviceModel.declared(simd.name(), 1e11, 2e10, 1e-6)))
                .energyMeter(EnergyMeter.unavailable("not measured in tests")).build();
        try (WorkloadProfiler profiler = new WorkloadProfiler(engine)) {
            for (Workload workload : Workload.values()) {
                WorkloadProfile p = profiler.profile(ProfileMeasurement.coreWorkload(workload), 1000,
                        DecoderConfig.tiny(), QUICK);
                ProfileRow row = ProfileMeasurement.row(workload, 1000, p);
                assertEquals(workload.cliName(), row.workload());
                assertEquals(p.memoryShare(), row.memoryShare(), 1e-12);
                for (Map.Entry<Step, Totals> e : p.measured().perStep().entrySet()) {
                    StepStats s = row.steps().get(e.getKey());
                    assertEquals(e.getValue().bytesRead() / p.steps(), s.bytesRead(), workload + " " + e.getKey());
                    assertEquals(e.getValue().wallNanos() / p.steps(), s.wallNanos());
                    assertEquals("cpu-simd", s.device());
                    assertFalse(s.fellBack());
                }
                boolean sparse = EnumSet.of(Workload.QUEST, Workload.SEER, Workload.DSA).contains(workload);
                assertEquals(sparse, row.relativeError().isPresent(), workload + " relative error");
                assertEquals(sparse, row.softmaxMassCovered().isPresent(), workload + " mass");
                if (sparse) {
                    assertEquals(EnumSet.allOf(Step.class), row.steps().keySet(), workload + " steps");
                }
                assertTrue(row.energy().startsWith("unavailable"), row.energy());
            }
        }
    }
}
