package dev.mempipe.core.placement;

import dev.mempipe.core.profile.Bound;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.goldentests.ScalarBackend;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Step;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.mempipe.spi.ElementType.F32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The planner on made-up devices (declared models over fake backends; nothing runs): a CPU, a
 * high-bandwidth device behind a slow link, a compute-heavy device, and a device that lacks the capability.
 */
class PlannerTest {
    static final double GB = 1e9;
    static final double TB = 1e12;
    static final int D = 128;
    static final int K = 64;

    static final ScalarBackend ORACLE = new ScalarBackend();

    static final Device CPU = device("cpu", Capabilities.all(), 100 * GB, 20 * GB, 1e-6);
    /** HBM-class bandwidth (2 TB/s), but 50 us and 8 GB/s to reach it. */
    static final Device HBM = device("hbm-gpu", Capabilities.all(), 20 * TB, 2 * TB, 10e-6);
    /** Huge arithmetic rate, ordinary memory. */
    static final Device MATRIX = device("matrix-unit", Capabilities.all(), 200 * TB, 25 * GB, 5e-6);
    /** Faster than anything at everything, but it only declares an I8 dot. */
    static final Device INT8_ONLY = device("int8-fpga", Capabilities.builder().op(Op.DOT, ElementType.I8).build(),
            1000 * TB, 10 * TB, 0);

    static final TransferModel SLOW_LINK = TransferModel.of(50e-6, 8 * GB);
    static final TransferModel MATRIX_LINK = TransferModel.of(10e-6, 16 * GB);
    static final TransferModel FAST_LINK = TransferModel.of(0, 1 * TB);

    static Device device(String name, Capabilities caps, double flops, double bandwidth, double launch) {
        return new Device(FakeBackend.working(name, ORACLE, caps), DeviceModel.declared(name, flops, bandwidth, launch));
    }

    static Links links() {
        return Links.builder().link("cpu", "hbm-gpu", SLOW_LINK).link("cpu", "matrix-unit", MATRIX_LINK)
                .link("cpu", "int8-fpga", FAST_LINK).link("cpu", "small-fpga", FAST_LINK).build();
    }

    /**
     * A decode step over a memory of n keys that lives where the step runs (prepared there earlier): score
     * them (the query comes from the host), keep the top K, gather their rows and read them softly; the
     * result returns to the host.
     *
     * @param keysOnHost when true the keys live in host memory and must reach the scoring device each time
     */
    static WorkloadShape scan(long n, boolean keysOnHost) {
        long query = D * 4L;
        long keys = keysOnHost ? n * D * 4 : 0;
        return WorkloadShape.of(
                StepShape.of(Step.RELEVANCY, query + keys, n * 4,
                        OpWork.of(Op.DOT, OpCosts.dot(1, n, D, F32, F32), F32)),
                StepShape.of(Step.RETRIEVAL, 0, (long) K * D * 4,
                        OpWork.of(Op.TOP_K, OpCosts.topK(n, K), F32),
                        OpWork.of(Op.GATHER, OpCosts.gather(K, D, F32), F32)),
                StepShape.of(Step.APPLY, K * 4L, D * 4L,
                        OpWork.of(Op.SOFT_RETRIEVE, OpCosts.softRetrieve(K, D, F32, F32, F32), F32)));
    }

    /** Project n hidden states of width 4096 (they come from the host) to 128-wide keys, then scan them. */
    static WorkloadShape projectThenScan(long n) {
        long h = 4096;
        long o = D;
        return WorkloadShape.of(
                StepShape.of(Step.PREPARE, n * h * 4, n * o * 4,
                        OpWork.of(Op.PROJECT, OpCosts.project(n, h, o, F32, F32, F32), F32)),
                StepShape.of(Step.RELEVANCY, D * 4L, n * 4,
                        OpWork.of(Op.DOT, OpCosts.dot(1, n, D, F32, F32), F32)),
                StepShape.of(Step.RETRIEVAL, 0, K * 4L, OpWork.of(Op.TOP_K, OpCosts.topK(n, K), F32)),
                StepShape.of(Step.APPLY, 0, D * 4L,
                        OpWork.of(Op.SOFT_RETRIEVE, OpCosts.softRetrieve(K, D, F32, F32, F32), F32)));
    }

    @Test
    void should_keep_a_small_workload_on_the_cpu_when_the_fast_device_is_behind_a_slow_link() {
        Plan plan = new Planner(CPU, List.of(HBM), links()).plan(scan(1024, false));

        for (Plan.StepPlacement p : plan.placements()) {
            assertEquals("cpu", p.device(), plan.explain());
        }
        assertTrue(plan.transfers().isEmpty());
        assertEquals(8, plan.candidates(), "2 devices ^ 3 steps");
        assertNotNull(plan.runnerUp());
        assertTrue(plan.runnerUp().predictedSeconds() >= plan.predictedSeconds());
    }

    @Test
    void should_move_a_large_scan_of_device_resident_memory_to_the_high_bandwidth_device() {
        Plan plan = new Planner(CPU, List.of(HBM), links()).plan(scan(4L << 20, false));

        assertEquals("hbm-gpu", plan.deviceFor(Step.RELEVANCY), plan.explain());
        // The 16 MiB of scores stay on the device: top-k runs there too.
        assertEquals("hbm-gpu", plan.deviceFor(Step.RETRIEVAL), plan.explain());
        Plan allCpu = new Planner(CPU, List.of(HBM), links()).evaluate(scan(4L << 20, false), Map.of());
        assertTrue(plan.predictedSeconds() < allCpu.predictedSeconds() / 10, plan.explain());
    }

    @Test
    void should_not_move_a_scan_whose_keys_must_cross_the_slow_link_every_time() {
        Plan plan = new Planner(CPU, List.of(HBM), links()).plan(scan(4L << 20, true));

        assertEquals("cpu", plan.deviceFor(Step.RELEVANCY), plan.explain());
    }

    @Test
    void should_give_the_compute_bound_projection_to_the_compute_heavy_device() {
        Planner planner = new Planner(CPU, List.of(HBM, MATRIX), links());
        Plan plan = planner.plan(projectThenScan(4096));

        assertEquals("matrix-unit", plan.deviceFor(Step.PREPARE), plan.explain());
        assertEquals(Bound.COMPUTE, planner.evaluate(projectThenScan(4096), Map.of()).placements().getFirst().bound(),
                "a projection is compute-bound on the CPU");
        assertEquals(Bound.MEMORY, plan.placements().get(1).bound(), "a one-query scan is memory-bound anywhere");
        assertEquals(3 * 3 * 3 * 3, plan.candidates());
    }

    @Test
    void should_never_choose_a_device_that_lacks_the_op_on_the_input_type() {
        Planner planner = new Planner(CPU, List.of(HBM, INT8_ONLY), links());
        for (WorkloadShape shape : List.of(scan(1024, false), scan(4L << 20, false), scan(4L << 20, true),
                projectThenScan(4096))) {
            Plan plan = planner.plan(shape);
            for (Plan.StepPlacement p : plan.placements()) {
                assertNotEquals("int8-fpga", p.device(), plan.explain());
            }
            if (plan.runnerUp() != null) {
                assertFalse(plan.runnerUp().assignment().contains("int8-fpga"));
            }
            assertEquals(1L << shape.steps().size(), plan.candidates(), "only cpu and hbm-gpu qualify");
        }
        assertFalse(planner.canRun(INT8_ONLY, scan(1024, false).steps().getFirst()));
        assertThrows(IllegalArgumentException.class,
                () -> planner.evaluate(scan(1024, false), Map.of(Step.RELEVANCY, "int8-fpga")));
    }

    @Test
    void should_choose_the_capable_device_when_the_types_match() {
        long n = 4L << 20;
        WorkloadShape int8Scan = WorkloadShape.of(StepShape.of(Step.RELEVANCY, D, n * 4,
                OpWork.of(Op.DOT, OpCosts.dot(1, n, D, ElementType.I8, ElementType.I8), ElementType.I8)));

        Plan plan = new Planner(CPU, List.of(INT8_ONLY), links()).plan(int8Scan);

        assertEquals("int8-fpga", plan.deviceFor(Step.RELEVANCY), plan.explain());
    }

    @Test
    void should_never_place_a_step_beyond_a_device_limit_or_its_memory() {
        long n = 4L << 20;
        Capabilities small = Capabilities.builder().op(Op.DOT, ElementType.I8)
                .limits(Op.DOT, dev.mempipe.spi.Limits.NONE.withMaxRows(1 << 20)).deviceMemoryBytes(1L << 30).build();
        Device limited = device("small-fpga", small, 200 * TB, 25 * TB, 1e-6);
        OpWork dot = OpWork.of(Op.DOT, OpCosts.dot(1, n, D, ElementType.I8, ElementType.I8), ElementType.I8);
        Planner planner = new Planner(CPU, List.of(limited), links());

        // the same scan within the limits goes to the (much faster) device ...
        OpWork fits = dot.withSizes(D, 1 << 20, 0, 0);
        assertEquals("small-fpga", planner.plan(WorkloadShape.of(StepShape.of(Step.RELEVANCY, D, 0, fits)))
                .deviceFor(Step.RELEVANCY));
        // ... but 4M rows exceed maxRows, and 2 GiB of keys exceed its memory: both stay on the CPU
        OpWork tooMany = dot.withSizes(D, n, 0, 0);
        Plan rows = planner.plan(WorkloadShape.of(StepShape.of(Step.RELEVANCY, D, 0, tooMany)));
        assertEquals("cpu", rows.deviceFor(Step.RELEVANCY), rows.explain());
        StepShape big = StepShape.of(Step.RELEVANCY, D, 0, fits).withResidentBytes(2L << 30);
        assertEquals("cpu", planner.plan(WorkloadShape.of(big)).deviceFor(Step.RELEVANCY));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> planner.evaluate(
                WorkloadShape.of(StepShape.of(Step.RELEVANCY, D, 0, tooMany)), Map.of(Step.RELEVANCY, "small-fpga")));
        assertTrue(e.getMessage().contains("maxRows 1048576"), e.getMessage());
    }

    @Test
    void should_count_no_transfer_between_consecutive_steps_on_one_device() {
        Planner planner = new Planner(CPU, List.of(HBM), links());
        WorkloadShape shape = scan(1 << 20, false);

        Plan fused = planner.evaluate(shape, Map.of(Step.RELEVANCY, "hbm-gpu", Step.RETRIEVAL, "hbm-gpu"));
        Plan split = planner.evaluate(shape, Map.of(Step.RELEVANCY, "hbm-gpu"));

        assertEquals(List.of(new Plan.FusedGroup("hbm-gpu", List.of(Step.RELEVANCY, Step.RETRIEVAL))),
                fused.fusedGroups());
        assertTrue(fused.transfers().stream().noneMatch(t -> t.what().equals("RELEVANCY -> RETRIEVAL")));
        Plan.Transfer scores = split.transfers().stream().filter(t -> t.what().equals("RELEVANCY -> RETRIEVAL"))
                .findFirst().orElseThrow();
        assertEquals((1 << 20) * 4L, scores.bytes());
        assertEquals(SLOW_LINK.seconds(scores.bytes()), scores.seconds(), 1e-15);
        for (Plan plan : List.of(fused, split)) {
            double sum = plan.placements().stream().mapToDouble(Plan.StepPlacement::predictedSeconds).sum()
                    + plan.transferSeconds();
            assertEquals(sum, plan.predictedSeconds(), 1e-12);
        }
    }

    @Test
    void should_route_between_unlinked_devices_through_the_host() {
        Planner planner = new Planner(CPU, List.of(HBM, MATRIX), links());
        Plan plan = planner.evaluate(projectThenScan(4096), Map.of(Step.PREPARE, "matrix-unit", Step.RELEVANCY, "hbm-gpu"));

        Plan.Transfer hop = plan.transfers().stream().filter(t -> t.what().equals("PREPARE -> RELEVANCY"))
                .findFirst().orElseThrow();
        assertEquals("matrix-unit", hop.from());
        assertEquals("hbm-gpu", hop.to());
        assertEquals("cpu", hop.via());
        assertEquals(MATRIX_LINK.seconds(hop.bytes()) + SLOW_LINK.seconds(hop.bytes()), hop.seconds(), 1e-15);
    }

    @Test
    void should_explain_devices_times_bytes_fusion_and_the_runner_up() {
        Plan plan = new Planner(CPU, List.of(HBM, MATRIX), links()).plan(projectThenScan(4096));
        String text = plan.explain();

        for (Plan.StepPlacement p : plan.placements()) {
            assertTrue(text.contains(p.step() + " ") && text.contains(" on " + p.device()), text);
        }
        assertTrue(text.contains("estimates"), text);
        Plan.FusedGroup group = plan.fusedGroups().getFirst();
        assertEquals("matrix-unit", group.device());
        assertTrue(text.contains("fused: " + group.steps() + " on matrix-unit"), text);
        assertTrue(text.contains("cpu -> matrix-unit  64.0 MiB"), text);
        assertTrue(text.contains("input of PREPARE"), text);
        assertTrue(text.contains("bytes moved between devices: "), text);
        long toMatrix = plan.transfers().stream().filter(t -> t.to().equals("matrix-unit"))
                .mapToLong(Plan.Transfer::bytes).sum();
        assertEquals(toMatrix, plan.bytesPerLink().get("cpu -> matrix-unit"));
        assertEquals(plan.bytesMoved(), plan.bytesPerLink().values().stream().mapToLong(Long::longValue).sum());
        assertTrue(text.contains("runner-up: "), text);
        assertTrue(text.contains(plan.runnerUp().assignment()), text);
        assertTrue(text.contains("declared roofline"), text);
        assertTrue(text.contains("81 assignments compared"), text);
        assertNull(plan.runnerUp().runnerUp());
    }

    @Test
    void should_reject_a_device_without_a_host_link_and_repeated_names() {
        assertThrows(IllegalArgumentException.class,
                () -> new Planner(CPU, List.of(HBM), Links.builder().oneWay("cpu", "hbm-gpu", SLOW_LINK).build()));
        assertThrows(IllegalArgumentException.class, () -> new Planner(CPU, List.of(HBM, HBM), links()));
    }

    @Test
    void should_prefer_the_cpu_on_a_tie() {
        Device twin = device("twin", Capabilities.all(), 100 * GB, 20 * GB, 1e-6);
        Links free = Links.builder().link("cpu", "twin", TransferModel.FREE).build();

        Plan plan = new Planner(CPU, List.of(twin), free).plan(scan(4096, false));

        assertEquals("every step on cpu", Plan.allOn("cpu").assignment());
        assertTrue(plan.placements().stream().allMatch(p -> p.device().equals("cpu")), plan.explain());
    }
}
