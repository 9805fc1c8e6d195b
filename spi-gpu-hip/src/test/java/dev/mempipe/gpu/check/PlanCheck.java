package dev.mempipe.gpu.check;

import dev.mempipe.core.placement.Device;
import dev.mempipe.core.placement.DeviceModel;
import dev.mempipe.core.placement.Links;
import dev.mempipe.core.placement.OpWork;
import dev.mempipe.core.placement.Planner;
import dev.mempipe.core.placement.StepShape;
import dev.mempipe.core.placement.TransferModel;
import dev.mempipe.core.placement.WorkloadShape;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.gpu.GpuDriver;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Step;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.mempipe.spi.ElementType.F32;
import static dev.mempipe.spi.ElementType.I8;

/**
 * {@code Plan.explain} for one decode step of Quest and of DSA at 64k tokens (32 query / 8 KV heads, d = 128;
 * Quest: pages of 16, 64 pages per KV head; DSA: 64 indexer heads of 128, I8 keys, top 2048), placed by the
 * planner between the calibrated CPU backend and the GPU, with the host link measured here (a large and a
 * 4-byte host-to-device copy).
 *
 * <p>Not thread-safe; does not own the backends.
 */
final class PlanCheck {
    static final long TOKENS = 64 * 1024;
    private static final int HQ = 32;
    private static final int HKV = 8;
    private static final int D = 128;
    private static final int PAGE = 16;
    private static final int PAGES_KEPT = 64;
    private static final int INDEXER_HEADS = 64;
    private static final int DSA_TOP = 2048;

    private PlanCheck() {
    }

    /** The measured host link: latency from a 4-byte copy, bandwidth from a 64 MiB one (best of 5 each). */
    static TransferModel measureLink(GpuDriver driver, Map<String, Object> out) {
        long big = 64L << 20;
        driver.makeCurrent();
        long device = driver.alloc(big);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment host = a.allocate(big, 64);
            double small = best(() -> driver.copyToDevice(host, device, 4));
            double large = best(() -> driver.copyToDevice(host, device, big));
            double bandwidth = big / Math.max(1e-9, large - small);
            out.put("host_link", Map.of("latency_seconds", small, "bytes_per_second", bandwidth,
                    "label", "measured (host-to-device copies, pageable host memory)"));
            return TransferModel.of(small, bandwidth);
        } finally {
            driver.free(device);
        }
    }

    /** Plans both workloads; returns each plan's explanation and placements. */
    static Map<String, Object> explain(Backend cpu, Backend gpu, DeviceModel gpuModel, TransferModel link) {
        Device cpuDevice = new Device(cpu, DeviceModel.calibrate(cpu, Duration.ofSeconds(2)));
        Device gpuDevice = new Device(gpu, gpuModel);
        Planner planner = new Planner(cpuDevice, List.of(gpuDevice),
                Links.builder().link(cpuDevice.name(), gpuDevice.name(), link).build());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("cpu_model", cpuDevice.model().describe());
        out.put("gpu_model", gpuModel.describe());
        for (Map.Entry<String, WorkloadShape> w : Map.of("quest_64k", quest(), "dsa_64k", dsa()).entrySet()) {
            var plan = planner.plan(w.getValue());
            out.put(w.getKey(), Map.of("assignment", plan.assignment(), "explain", plan.explain()));
        }
        return out;
    }

    static WorkloadShape quest() {
        long pages = TOKENS / PAGE;
        long kv = 2 * TOKENS * HKV * D * 4L;
        OpCost bound = OpCosts.questBound(pages, D, F32, F32, F32).times(HKV);
        OpCost top = OpCosts.topK(pages, PAGES_KEPT).times(HKV);
        long rows = (long) PAGES_KEPT * PAGE;
        return WorkloadShape.of(
                new StepShape(Step.RELEVANCY, List.of(OpWork.of(Op.QUEST_BOUND, bound, F32)), (long) HKV * D * 4,
                        pages * HKV * 4, 2 * pages * HKV * D * 4),
                StepShape.of(Step.RETRIEVAL, 0, rows * HKV * 4, OpWork.of(Op.TOP_K, top, F32),
                        OpWork.of(Op.EXPAND_BLOCKS, OpCosts.expandBlocks(PAGES_KEPT, rows).times(HKV))),
                new StepShape(Step.APPLY, List.of(OpWork.of(Op.ATTENTION,
                        OpCosts.attention(HQ, HKV, D, rows, F32, F32, F32, true), F32)), (long) HQ * D * 4,
                        (long) HQ * D * 4, kv));
    }

    static WorkloadShape dsa() {
        long kv = 2 * TOKENS * HKV * D * 4L;
        return WorkloadShape.of(
                new StepShape(Step.RELEVANCY, List.of(OpWork.of(Op.INDEXER_SCORE,
                        OpCosts.indexerScore(INDEXER_HEADS, D, TOKENS, F32, I8, true, F32), F32, I8)),
                        (long) INDEXER_HEADS * (D + 1) * 4, TOKENS * 4, TOKENS * (D + 4)),
                StepShape.of(Step.RETRIEVAL, 0, DSA_TOP * 4L, OpWork.of(Op.TOP_K, OpCosts.topK(TOKENS, DSA_TOP), F32)),
                new StepShape(Step.APPLY, List.of(OpWork.of(Op.ATTENTION,
                        OpCosts.attention(HQ, HKV, D, DSA_TOP, F32, F32, F32, true), F32)), (long) HQ * D * 4,
                        (long) HQ * D * 4, kv));
    }

    private static double best(Runnable run) {
        run.run();
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long start = System.nanoTime();
            run.run();
            best = Math.min(best, System.nanoTime() - start);
        }
        return best / 1e9;
    }
}
