package dev.mempipe.core.model;

import dev.mempipe.core.pipeline.PipelineTesting;
import dev.mempipe.goldentests.SeparateCopyDevice;
import dev.mempipe.ops.SimdBackend;
import dev.mempipe.spi.Step;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A profile closes every memory it makes: on a device that keeps separate copies, no copy is left open after a
 * profile of a workload whose memories pin their tensors there.
 */
class WorkloadProfilerResourcesTest {

    @Test
    void a_profile_should_close_every_memory_it_made_and_free_their_device_copies() {
        try (SeparateCopyDevice device = new SeparateCopyDevice("copy-gpu", new SimdBackend());
             WorkloadProfiler profiler = new WorkloadProfiler(PipelineTesting.engineWith(device, Step.values()))) {
            for (Workload workload : List.of(Workload.DENSE_RAG, Workload.HMT, Workload.QUEST, Workload.SEER_ATTENTION,
                    Workload.DSA)) {
                long readsBefore = device.pinnedReads();
                profiler.profile(workload, 300, DecoderConfig.tiny(), WorkloadProfilerTest.QUICK);
                assertTrue(device.pinnedReads() > readsBefore, workload + " read nothing pinned on the device: "
                        + "this test would not see a pin left open");
                assertEquals(0, device.openPins(), workload + " left device copies open");
            }
        }
    }
}
