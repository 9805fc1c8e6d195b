package dev.mempipe.core.whatif;

import dev.mempipe.core.placement.OpWork;
import dev.mempipe.core.placement.StepShape;
import dev.mempipe.core.placement.WorkloadShape;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.DeviceDescription;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Figure;
import dev.mempipe.spi.Limits;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Step;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The what-if planner's choices and predictions on small cases worked out by hand (the arithmetic is in the
 * comments), and its choices on the real device sheets where the roofs decide plainly.
 */
class WhatIfTest {
    private static final double P2P = DeviceSheets.P2P_BYTES_PER_SECOND;
    private static final double LATENCY = WhatIf.P2P_LATENCY_SECONDS;

    /** One Retrieval step: a top-k over 10^6 f32 scores that live on the GPU, 100 entries back. */
    private static DecodeStep topKStep() {
        OpCost topK = new OpCost(4_000_000, 800, 1_000_000);
        StepShape retrieval = new StepShape(Step.RETRIEVAL, List.of(new OpWork(Op.TOP_K, topK, Set.of(ElementType.F32))),
                4_000_000, 800);
        return new DecodeStep("hand", 1_000_000, WorkloadShape.of(retrieval), new OpCost(1_000_000_000, 0, 0),
                "a top-k beside 1 GB of weights");
    }

    private static DeviceSheet sheet(String name, double flops, double bandwidth, double topK, double busy, double idle,
                                     Capabilities caps) {
        DeviceDescription d = new DeviceDescription(name, Figure.model(flops, "test"), Figure.model(bandwidth, "test"),
                Figure.model(0, "test"), Map.of(Op.TOP_K, Figure.model(topK, "test")), Figure.model(1L << 34, "test"),
                null);
        return new DeviceSheet(d, caps, Figure.model(busy, "test"), Figure.model(idle, "test"));
    }

    private static Capabilities topKOnly() {
        return Capabilities.builder().op(Op.TOP_K, Set.of(ElementType.F32), Capabilities.FLOAT_TYPES,
                Limits.NONE.withMaxK(2048)).deviceMemoryBytes(1L << 34).build();
    }

    @Test
    void a_gpu_slow_at_top_k_should_hand_it_to_the_fpga_at_the_hand_computed_time_and_energy() {
        // GPU: 1 TB/s, top-k at 1 GB/s, 300 W busy / 40 W idle. FPGA: top-k at 100 GB/s, 100 W / 20 W.
        DeviceSheet gpu = sheet("gpu", 1e12, 1e12, 1e9, 300, 40, Capabilities.all());
        DeviceSheet fpga = sheet("fpga", 1e11, 1e11, 1e11, 100, 20, topKOnly());
        WhatIf.Comparison c = WhatIf.compare(gpu, fpga, topKStep());

        assertEquals("fpga", c.pair().plan().deviceFor(Step.RETRIEVAL));
        double weights = 1e9 / 1e12;                                   // 1 ms on the GPU in both cases
        double onFpga = 4_000_800 / 1e11;                              // 40.008 us: the op's bytes at 100 GB/s
        double links = (LATENCY + 4e6 / P2P) + (LATENCY + 800 / P2P);  // scores over, entries back
        double pair = weights + onFpga + links;
        assertEquals(pair, c.pair().seconds(), 1e-12);
        double alone = weights + 4_000_800 / 1e9;                      // 1 ms + 4.0008 ms
        assertEquals(alone, c.alone().seconds(), 1e-12);
        assertEquals(alone / pair, c.speedup(), 1e-9);
        double pairJoules = 300 * weights + 40 * (pair - weights) + 100 * onFpga + 20 * (pair - onFpga);
        assertEquals(pairJoules, c.pair().joules(), 1e-9);
        assertEquals(300 * alone, c.alone().joules(), 1e-9);           // no FPGA in the GPU-alone system
        assertEquals(Map.of("gpu -> fpga", 4_000_000L, "fpga -> gpu", 800L), c.bytesPerLink());
        // the published split is this same plan here
        assertEquals(pair, c.offload().seconds(), 1e-12);
    }

    @Test
    void a_gpu_fast_at_top_k_should_keep_it_and_pay_only_the_idle_fpga() {
        DeviceSheet gpu = sheet("gpu", 1e12, 1e12, 1e12, 300, 40, Capabilities.all());
        DeviceSheet fpga = sheet("fpga", 1e11, 1e11, 1e11, 100, 20, topKOnly());
        WhatIf.Comparison c = WhatIf.compare(gpu, fpga, topKStep());

        assertEquals("gpu", c.pair().plan().deviceFor(Step.RETRIEVAL));
        double seconds = 1e-3 + 4_000_800 / 1e12;                       // 1 ms + 4.0008 us, nothing moves
        assertEquals(seconds, c.pair().seconds(), 1e-12);
        assertEquals(1.0, c.speedup(), 1e-12);
        assertEquals(300 * seconds + 20 * seconds, c.pair().joules(), 1e-9); // the idle FPGA still draws 20 W
        assertEquals(Map.of(), c.bytesPerLink());
        // forcing the split costs what the first case's plan costs, with a faster GPU beside it
        assertTrue(c.offload().seconds() > c.alone().seconds());
    }

    @Test
    void a_top_k_beyond_the_fpgas_maxK_should_stay_on_the_gpu_whatever_the_speeds() {
        DeviceSheet gpu = sheet("gpu", 1e12, 1e12, 1e6, 300, 40, Capabilities.all());
        DeviceSheet fpga = sheet("fpga", 1e11, 1e11, 1e11, 100, 20, topKOnly());
        OpCost topK = new OpCost(4_000_000, 40_000, 1_000_000);
        StepShape retrieval = new StepShape(Step.RETRIEVAL, List.of(new OpWork(Op.TOP_K, topK, Set.of(ElementType.F32))
                .withSizes(1_000_000, 1, 5000, 0)), 4_000_000, 40_000);
        DecodeStep step = new DecodeStep("k5000", 1_000_000, WorkloadShape.of(retrieval), OpCost.ZERO, "k = 5000");
        WhatIf.Comparison c = WhatIf.compare(gpu, fpga, step);
        assertEquals("gpu", c.pair().plan().deviceFor(Step.RETRIEVAL), "k 5000 > maxK 2048");
        assertNull(c.offload(), "the published split is impossible here");
    }

    @Test
    void on_the_data_sheets_quest_and_dsa_should_stay_on_every_gpu() {
        DeviceSheet u55c = DeviceSheets.u55c(300e6, 8);
        for (DeviceSheet gpu : DeviceSheets.gpus()) {
            // Quest at 128K: a layer's page summaries are 2 x 8192 pages x 1024 x 2 B = 33.6 MB, 10-21 us at 1.6-3.35
            // TB/s against 292 us at the U55C's 115 GB/s
            WhatIf.Comparison quest = WhatIf.compare(gpu, u55c, DecodeWorkloads.of("quest", 131072));
            for (var p : quest.pair().plan().placements()) {
                assertEquals(gpu.name(), p.device(), "quest " + p.step() + " on " + gpu.name());
            }
            assertTrue(quest.offload().seconds() > quest.alone().seconds());
            // DSA at 32K: a layer's indexer is 2 x 64 x 128 x 32768 + 4 x 64 x 32768 = 545 MFLOP, 3.55 ms at the
            // U55C's 153.6 GFLOP/s: 32 layers take over 100 ms there
            WhatIf.Comparison dsa = WhatIf.compare(gpu, u55c, DecodeWorkloads.of("dsa", 32768));
            assertEquals(gpu.name(), dsa.pair().plan().deviceFor(Step.RELEVANCY));
            assertTrue(dsa.offload().seconds() > 0.1, "DSA R+Rt on the U55C: " + dsa.offload().seconds() + " s");
        }
    }

    @Test
    void bm25_should_move_to_the_fpga_only_when_the_gpu_is_assumed_inefficient_at_it() {
        DeviceSheet u55c = DeviceSheets.u55c(300e6, 8);
        DecodeStep step = DecodeWorkloads.of("bm25", 1 << 20);
        assertEquals(DeviceSheets.mi210().name(), WhatIf.compare(DeviceSheets.mi210(), u55c, step).pair().plan()
                .deviceFor(Step.RELEVANCY), "at the default assumptions the MI210 keeps BM25");
        DeviceSheet slow = DeviceSheets.mi210(new DeviceSheets.GpuAssumptions(100, 0.005));
        WhatIf.Comparison c = WhatIf.compare(slow, u55c, step);
        assertEquals(u55c.name(), c.pair().plan().deviceFor(Step.RELEVANCY));
        assertEquals(u55c.name(), c.pair().plan().deviceFor(Step.RETRIEVAL), "fused with Relevancy: no scores move");
        assertTrue(c.speedup() > 1, "chosen because predicted faster: " + c.speedup());
        // only the query's 8 term ids go over and the 64 (id, score) entries come back
        assertEquals(Map.of(slow.name() + " -> " + u55c.name(), 32L, u55c.name() + " -> " + slow.name(), 512L),
                c.bytesPerLink());
    }

    @Test
    void a_sheet_should_refuse_missing_roofs_and_power_out_of_order() {
        DeviceDescription noLaunch = new DeviceDescription("x", Figure.model(1, "t"), Figure.model(1, "t"), null,
                Map.of(), null, null);
        assertThrows(IllegalArgumentException.class, () -> new DeviceSheet(noLaunch, Capabilities.all(),
                Figure.model(1, "t"), Figure.model(0, "t")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sheet("p", 1, 1, 1, 10, 20,
                Capabilities.all()));
        assertTrue(e.getMessage().contains("idle 20.0 W, busy 10.0 W"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new DeviceSheets.GpuAssumptions(0.5, 0.1));
        assertThrows(IllegalArgumentException.class, () -> DecodeWorkloads.of("nope", 10));
    }
}
