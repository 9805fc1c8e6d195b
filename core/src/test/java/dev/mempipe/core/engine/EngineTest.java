package dev.mempipe.core.engine;

import dev.mempipe.core.placement.Device;
import dev.mempipe.core.placement.DeviceModel;
import dev.mempipe.core.placement.FakeBackend;
import dev.mempipe.core.placement.Links;
import dev.mempipe.core.placement.Plan;
import dev.mempipe.core.placement.Planner;
import dev.mempipe.core.placement.StepShape;
import dev.mempipe.core.placement.TransferModel;
import dev.mempipe.core.placement.WorkloadShape;
import dev.mempipe.core.profile.Bound;
import dev.mempipe.core.profile.EnergyMeter;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.core.profile.ProfileReport;
import dev.mempipe.core.profile.StepRecord;
import dev.mempipe.goldentests.ScalarBackend;
import dev.mempipe.spi.BackendException;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.LimitExceededException;
import dev.mempipe.spi.Limits;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.OpArgs;
import dev.mempipe.spi.PartialBackend;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;
import dev.mempipe.spi.UnsupportedElementTypeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.mempipe.spi.ElementType.F32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EngineTest {
    static final long SEED = 20260611L;

    final ScalarBackend oracle = new ScalarBackend();
    /** The CPU is the scalar oracle behind a counting wrapper, so that tests see whether it ran. */
    final FakeBackend cpuBackend = FakeBackend.working("cpu", oracle, Capabilities.all());
    final Device cpu = new Device(cpuBackend, DeviceModel.declared("cpu", 1e9, 1e9, 0));

    static Device device(FakeBackend backend) {
        return new Device(backend, DeviceModel.declared(backend.name(), 1e12, 1e11, 1e-5));
    }

    /** The given steps on {@code device}, every other step on the CPU. */
    static Plan planOn(Device cpu, Device device, Step... steps) {
        WorkloadShape shape = new WorkloadShape(java.util.Arrays.stream(Step.values())
                .map(s -> StepShape.of(s, 0, 0)).toList());
        Links links = Links.builder().link(cpu.name(), device.name(), TransferModel.of(1e-6, 1e10)).build();
        Map<Step, String> assignment = new java.util.EnumMap<>(Step.class);
        for (Step s : steps) {
            assignment.put(s, device.name());
        }
        return new Planner(cpu, List.of(device), links).evaluate(shape, assignment);
    }

    Engine engine(Device device, Step... onDevice) {
        return Engine.builder().cpu(cpu).device(device).plan(planOn(cpu, device, onDevice))
                .energyMeter(EnergyMeter.unavailable("not measured in tests")).build();
    }

    static float[] random(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = rnd.nextFloat() * 2 - 1;
        }
        return v;
    }

    @Test
    void should_run_a_step_on_its_planned_device_and_record_it() {
        FakeBackend gpu = FakeBackend.working("fake-gpu", oracle, Capabilities.all());
        Engine engine = engine(device(gpu), Step.RELEVANCY);
        try (Arena arena = Arena.ofConfined()) {
            Random rnd = new Random(SEED);
            Tensor q = Tensor.of(arena, random(rnd, 3 * 17), 3, 17);
            Tensor m = Tensor.of(arena, random(rnd, 33 * 17), 33, 17);
            Tensor s = Tensor.allocate(arena, F32, 3, 33);
            OpCost cost = OpCosts.dot(3, 33, 17, F32, F32);

            engine.runVoid(Op.DOT, cost, b -> b.relevancy().dot(q, m, s));

            assertEquals(1, gpu.calls());
            assertEquals(0, cpuBackend.calls());
            StepRecord r = engine.report().records().getFirst();
            assertEquals(Step.RELEVANCY, r.step());
            assertEquals("dot", r.op());
            assertEquals("fake-gpu", r.device());
            assertEquals(cost, r.cost());
            assertEquals(cost.bytesRead(), r.bytesRead());
            assertEquals(cost.bytesWritten(), r.bytesWritten());
            assertEquals(cost.flops(), r.flops());
            assertEquals(10, r.ridgePoint(), 1e-12);
            assertEquals(Bound.MEMORY, r.bound(), "intensity " + r.intensity() + " is below the ridge point 10");
            assertEquals(device(gpu).model().predictSeconds(Op.DOT, cost), r.modelSeconds());
            assertTrue(r.wallNanos() > 0);
            assertTrue(r.energyJoules().isEmpty());
            assertFalse(r.fellBack());
            assertNull(r.fallback());
        }
    }

    @Test
    void should_rerun_on_the_cpu_when_the_device_throws_and_return_the_cpu_result() {
        FakeBackend broken = FakeBackend.broken("broken-gpu", oracle);
        Engine engine = engine(device(broken), Step.RELEVANCY, Step.RETRIEVAL);
        try (Arena arena = Arena.ofConfined()) {
            Random rnd = new Random(SEED);
            float[] qv = random(rnd, 5 * 31);
            float[] mv = random(rnd, 97 * 31);
            Tensor q = Tensor.of(arena, qv, 5, 31);
            Tensor m = Tensor.of(arena, mv, 97, 31);
            Tensor s = Tensor.allocate(arena, F32, 5, 97);
            Tensor expected = Tensor.allocate(arena, F32, 5, 97);
            oracle.relevancy().dot(q, m, expected);

            engine.runVoid(Op.DOT, OpCosts.dot(5, 97, 31, F32, F32), b -> b.relevancy().dot(q, m, s));

            assertArrayEquals(expected.toFloatArray(), s.toFloatArray());
            Tensor row = s.rowSlice(0, 1);
            Indices idx = Indices.allocate(arena, 7);
            Indices expectedIdx = Indices.allocate(arena, 7);
            int expectedCount = oracle.retrieval().topK(row, 7, expectedIdx, null);
            int count = engine.run(Op.TOP_K, OpCosts.topK(97, 7, F32, false), b -> b.retrieval().topK(row, 7, idx, null));
            assertEquals(expectedCount, count);
            assertArrayEquals(expectedIdx.toArray(), idx.toArray());

            ProfileReport report = engine.report();
            assertEquals(2, broken.calls());
            for (StepRecord r : report.records()) {
                assertTrue(r.fellBack(), r.toString());
                assertEquals("cpu", r.device(), "the CPU produced the result");
                assertEquals("broken-gpu", r.fallback().fromDevice());
                assertTrue(r.fallback().reason().contains(BackendException.class.getName()), r.fallback().reason());
                assertTrue(r.fallback().reason().contains("simulated device fault"), r.fallback().reason());
            }
            assertEquals(2, report.total().fallbacks());
        }
    }

    @Test
    void a_transient_fault_after_garbage_should_rerun_on_the_cpu_and_keep_using_the_device() {
        FakeBackend gpu = FakeBackend.working("flaky-gpu", oracle, Capabilities.all())
                .failOnCall(3, BackendException.Fault.TRANSIENT, true);
        Engine engine = engine(device(gpu), Step.RELEVANCY, Step.RETRIEVAL);
        try (Arena arena = Arena.ofConfined()) {
            Random rnd = new Random(SEED);
            for (int call = 1; call <= 5; call++) {
                Tensor q = Tensor.of(arena, random(rnd, 2 * 19), 2, 19);
                Tensor m = Tensor.of(arena, random(rnd, 41 * 19), 41, 19);
                Tensor s = Tensor.allocate(arena, F32, 2, 41);
                Tensor expected = Tensor.allocate(arena, F32, 2, 41);
                oracle.relevancy().dot(q, m, expected);
                engine.runVoid(Op.DOT, OpCosts.dot(2, 41, 19, F32, F32), b -> b.relevancy().dot(q, m, s));
                assertArrayEquals(expected.toFloatArray(), s.toFloatArray(), "call " + call + ": garbage leaked");
            }
        }
        assertEquals(5, gpu.calls(), "a transient fault must not stop the engine from using the device");
        List<StepRecord> records = engine.report().records();
        assertTrue(records.get(2).fellBack() && records.get(2).fallback().reason().contains("after writing garbage"),
                records.get(2).toString());
        assertEquals("flaky-gpu", records.get(3).device());
        assertTrue(engine.lostDevices().isEmpty());
    }

    /** Titans' update on copies of W and S, once, by the oracle: what any number of reruns must still give. */
    private void expectedMomentum(Tensor w, Tensor g, Tensor s, Arena arena, Tensor wOut, Tensor sOut) {
        oracle.prepare().convert(w, wOut);
        oracle.prepare().convert(s, sOut);
        oracle.train().momentumUpdate(wOut, g, sOut, 0.9f, 0.1f, 0.01f);
    }

    @Test
    void an_in_place_update_that_a_device_half_wrote_should_be_applied_once_by_the_cpu_rerun() {
        FakeBackend gpu = FakeBackend.working("flaky-gpu", oracle, Capabilities.all())
                .failOnCall(2, BackendException.Fault.TRANSIENT, true);
        Engine engine = engine(device(gpu), Step.PREPARE);
        try (Arena arena = Arena.ofConfined()) {
            Random rnd = new Random(SEED);
            Tensor w = Tensor.of(arena, random(rnd, 7 * 9), 7, 9);
            Tensor g = Tensor.of(arena, random(rnd, 7 * 9), 7, 9);
            Tensor s = Tensor.of(arena, random(rnd, 7 * 9), 7, 9);
            for (int call = 1; call <= 3; call++) {
                Tensor wWant = Tensor.allocate(arena, F32, 7, 9);
                Tensor sWant = Tensor.allocate(arena, F32, 7, 9);
                expectedMomentum(w, g, s, arena, wWant, sWant);
                engine.runInPlace(Op.MOMENTUM_UPDATE, OpCost.ZERO, List.of(w, s),
                        b -> b.train().momentumUpdate(w, g, s, 0.9f, 0.1f, 0.01f));
                // the device updated W and S, wrote NaN over S and failed: the rerun must start from the saved state
                assertArrayEquals(wWant.toFloatArray(), w.toFloatArray(), "call " + call + ": W updated once");
                assertArrayEquals(sWant.toFloatArray(), s.toFloatArray(), "call " + call + ": S updated once");
            }
        }
        List<StepRecord> records = engine.report().records();
        assertTrue(records.get(1).fellBack() && records.get(1).fallback().reason().contains("after writing garbage"),
                records.get(1).toString());
        assertEquals("flaky-gpu", records.get(2).device(), "a transient fault keeps the device in use");
    }

    @Test
    void an_aliased_softmax_should_be_rerun_from_its_input_after_a_device_wrote_garbage() {
        FakeBackend gpu = FakeBackend.working("flaky-gpu", oracle, Capabilities.all())
                .failOnCall(1, BackendException.Fault.TRANSIENT, true);
        Engine engine = engine(device(gpu), Step.RELEVANCY);
        try (Arena arena = Arena.ofConfined()) {
            Tensor w = Tensor.of(arena, random(new Random(SEED), 37), 1, 37);
            Tensor want = Tensor.allocate(arena, F32, 1, 37);
            oracle.relevancy().softmax(w, 0.5f, want);

            engine.runInPlace(Op.SOFTMAX, OpCosts.softmax(37, F32, F32), List.of(w),
                    b -> b.relevancy().softmax(w, 0.5f, w));

            assertArrayEquals(want.toFloatArray(), w.toFloatArray());
            assertTrue(engine.report().records().getFirst().fellBack());
        }
    }

    @Test
    void momentum_update_should_be_refused_unless_its_in_place_arguments_are_named() {
        Engine engine = engine(device(FakeBackend.working("gpu", oracle, Capabilities.all())), Step.PREPARE);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> engine.runVoid(Op.MOMENTUM_UPDATE, OpCost.ZERO, b -> { }));
        assertTrue(e.getMessage().contains("runInPlace"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> engine.run(Op.MOMENTUM_UPDATE, OpCost.ZERO, b -> 1));
    }

    @Test
    void a_failure_on_the_cpu_itself_is_not_rerun_so_its_in_place_state_is_not_copied_or_restored() {
        Engine engine = Engine.builder().cpu(cpu).energyMeter(EnergyMeter.unavailable("off")).build();
        try (Arena arena = Arena.ofConfined()) {
            Tensor w = Tensor.of(arena, new float[] {1, 2, 3}, 1, 3);
            assertThrows(ArithmeticException.class, () -> engine.runInPlace(Step.PREPARE, "half-write", OpCost.ZERO,
                    List.of(w), b -> {
                        w.set(0, 0, 42);
                        throw new ArithmeticException("fails on the CPU");
                    }));
            assertEquals(42, w.get(0, 0), "nothing to rerun, so nothing was restored");
        }
    }

    @Test
    void a_lost_device_should_never_be_called_again_and_its_steps_run_on_the_cpu() {
        FakeBackend gpu = FakeBackend.working("dying-gpu", oracle, Capabilities.all())
                .failOnCall(2, BackendException.Fault.DEVICE_LOST, true);
        Engine engine = engine(device(gpu), Step.RETRIEVAL);
        try (Arena arena = Arena.ofConfined()) {
            Random rnd = new Random(SEED);
            for (int call = 1; call <= 4; call++) {
                Tensor s = Tensor.of(arena, random(rnd, 3 * 50), 3, 50);
                Indices idx = Indices.allocate(arena, 3 * 5);
                Tensor val = Tensor.allocate(arena, F32, 3, 5);
                Indices expectedIdx = Indices.allocate(arena, 3 * 5);
                Tensor expectedVal = Tensor.allocate(arena, F32, 3, 5);
                oracle.retrieval().topK(s, 5, expectedIdx, expectedVal);
                int count = engine.run(Op.TOP_K, OpCosts.topK(50, 5, F32, true).times(3),
                        b -> b.retrieval().topK(s, 5, idx, val));
                assertEquals(5, count);
                assertArrayEquals(expectedIdx.toArray(), idx.toArray(), "call " + call + ": indices");
                assertArrayEquals(expectedVal.toFloatArray(), val.toFloatArray(), "call " + call + ": values");
            }
        }
        assertEquals(2, gpu.calls(), "after DEVICE_LOST the device must not be called again");
        assertTrue(engine.lostDevices().containsKey("dying-gpu"), engine.lostDevices().toString());
        assertEquals("cpu", engine.backendFor(Step.RETRIEVAL).name());
        List<StepRecord> records = engine.report().records();
        assertEquals("dying-gpu", records.get(0).device());
        for (StepRecord r : records.subList(1, 4)) {
            assertEquals("cpu", r.device());
            assertEquals("dying-gpu", r.fallback().fromDevice());
        }
        assertTrue(records.get(2).fallback().reason().startsWith("device lost earlier"), records.get(2).toString());
    }

    @Test
    void a_record_should_carry_what_the_device_moved_each_way() {
        FakeBackend gpu = FakeBackend.working("metered-gpu", oracle, Capabilities.all());
        Engine engine = engine(device(gpu), Step.RELEVANCY);
        try (Arena arena = Arena.ofConfined()) {
            Tensor q = Tensor.allocate(arena, F32, 1, 16);
            Tensor m = Tensor.allocate(arena, F32, 100, 16);
            Tensor s = Tensor.allocate(arena, F32, 1, 100);
            engine.runVoid(Op.DOT, OpCosts.dot(1, 100, 16, F32, F32), b -> b.relevancy().dot(q, m, s));
            engine.runVoid(Step.RETRIEVAL, "host-only", OpCost.ZERO, b -> { });
        }
        StepRecord onDevice = engine.report().records().get(0);
        assertEquals((16 + 1600) * 4, onDevice.transfers().bytesToDevice());
        assertEquals(400, onDevice.transfers().bytesFromDevice());
        StepRecord onCpu = engine.report().records().get(1);
        assertEquals(0, onCpu.transfers().bytesToDevice());
        assertEquals((16 + 1600) * 4, engine.report().total().transfers().bytesToDevice());
        assertTrue(engine.report().toJson().contains("\"bytesToDevice\": 6464"), engine.report().toJson());
    }

    @Test
    void should_fall_back_when_the_device_does_not_run_the_op() {
        FakeBackend dotOnly = FakeBackend.working("dot-only", oracle, Capabilities.builder().op(Op.DOT, F32).build());
        Engine engine = engine(device(dotOnly), Step.RELEVANCY);
        try (Arena arena = Arena.ofConfined()) {
            Tensor s = Tensor.vector(arena, 1, 2, 3);
            Tensor p = Tensor.allocate(arena, F32, 1, 3);

            engine.runVoid(Op.SOFTMAX, OpCosts.softmax(3, F32, F32), b -> b.relevancy().softmax(s, 1, p));

            StepRecord r = engine.report().records().getFirst();
            assertTrue(r.fellBack());
            assertTrue(r.fallback().reason().contains(UnsupportedOperationException.class.getName()));
            assertEquals(1, p.get(0, 0) + p.get(0, 1) + p.get(0, 2), 1e-6);
        }
    }

    @Test
    void should_not_fall_back_on_bad_input() {
        FakeBackend gpu = FakeBackend.working("fake-gpu", oracle, Capabilities.all());
        Engine engine = engine(device(gpu), Step.RELEVANCY);
        try (Arena arena = Arena.ofConfined()) {
            Tensor q = Tensor.allocate(arena, F32, 2, 8);
            Tensor m = Tensor.allocate(arena, F32, 4, 8);
            Tensor wrongShape = Tensor.allocate(arena, F32, 2, 5);

            assertThrows(IllegalArgumentException.class,
                    () -> engine.runVoid(Op.DOT, OpCost.ZERO, b -> b.relevancy().dot(q, m, wrongShape)));

            assertEquals(0, cpuBackend.calls(), "bad input fails on the CPU too: no rerun");
            assertTrue(engine.report().records().isEmpty());
        }
    }

    /** A device whose top-k sorter holds 4 rows; its topK checks the limit through OpArgs, as every backend does. */
    private FakeBackend smallSorter() {
        Capabilities caps = Capabilities.builder().ops(EnumSet.of(Op.TOP_K), EnumSet.of(F32))
                .limits(Op.TOP_K, Limits.NONE.withMaxK(4)).build();
        PartialBackend sorter = new PartialBackend("small-sorter", caps) {
            @Override
            public int topK(Tensor s, int k, Indices idx, Tensor val) {
                checkOpen();
                OpArgs.topK(capabilities(), s, k, idx, val);
                return oracle.retrieval().topK(s, k, idx, val);
            }
        };
        return FakeBackend.working("small-sorter", sorter, caps);
    }

    @Test
    void a_call_past_a_devices_declared_limit_should_run_on_the_cpu_and_name_the_limit() {
        FakeBackend sorter = smallSorter();
        Engine engine = engine(device(sorter), Step.RETRIEVAL);
        try (Arena arena = Arena.ofConfined()) {
            Tensor s = Tensor.of(arena, random(new Random(SEED), 50), 1, 50);
            Indices want = Indices.allocate(arena, 10);
            oracle.retrieval().topK(s, 10, want, null);
            Indices idx = Indices.allocate(arena, 10);

            assertEquals(3, (int) engine.<Integer>run(Op.TOP_K, OpCost.ZERO, b -> b.retrieval().topK(s, 3, idx, null)));
            assertEquals(10, (int) engine.<Integer>run(Op.TOP_K, OpCost.ZERO, b -> b.retrieval().topK(s, 10, idx, null)));

            for (int i = 0; i < 10; i++) {
                assertEquals(want.get(i), idx.get(i), "rank " + i);
            }
            List<StepRecord> records = engine.report().records();
            assertEquals("small-sorter", records.get(0).device(), "k within the limit runs on the device");
            assertFalse(records.get(0).fellBack());
            assertEquals("cpu", records.get(1).device(), records.get(1).toString());
            assertTrue(records.get(1).fellBack(), records.get(1).toString());
            String reason = records.get(1).fallback().reason();
            assertTrue(reason.contains(LimitExceededException.class.getName()) && reason.contains("maxK = 4")
                    && reason.contains("k = 10"), reason);
            assertTrue(engine.lostDevices().isEmpty(), "a limit is not a lost device");

            // input bad for every backend is not rerun: k = 0 fails on the device and the CPU never runs it
            int cpuCalls = cpuBackend.calls();
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                    () -> engine.run(Op.TOP_K, OpCost.ZERO, b -> b.retrieval().topK(s, 0, idx, null)));
            assertFalse(bad instanceof LimitExceededException, bad.toString());
            assertEquals(cpuCalls, cpuBackend.calls());
        }
    }

    @Test
    void an_element_type_a_device_does_not_declare_should_run_on_the_cpu() {
        // the sorter declares F32 scores only; a BF16 score row (allowed by the contract) runs on the CPU
        FakeBackend sorter = smallSorter();
        Engine engine = engine(device(sorter), Step.RETRIEVAL);
        try (Arena arena = Arena.ofConfined()) {
            Tensor f32 = Tensor.of(arena, random(new Random(SEED), 20), 1, 20);
            Tensor bf16 = Tensor.allocate(arena, dev.mempipe.spi.ElementType.BF16, 1, 20);
            oracle.prepare().convert(f32, bf16);
            Indices idx = Indices.allocate(arena, 3);
            Indices want = Indices.allocate(arena, 3);
            oracle.retrieval().topK(bf16, 3, want, null);

            assertEquals(3, (int) engine.<Integer>run(Op.TOP_K, OpCost.ZERO, b -> b.retrieval().topK(bf16, 3, idx, null)));

            for (int i = 0; i < 3; i++) {
                assertEquals(want.get(i), idx.get(i), "rank " + i);
            }
            StepRecord r = engine.report().records().getFirst();
            assertEquals("cpu", r.device(), r.toString());
            assertTrue(r.fallback().reason().contains(UnsupportedElementTypeException.class.getName()),
                    r.fallback().reason());
        }
    }

    @Test
    void should_report_the_cpu_failure_with_the_device_failure_attached() {
        FakeBackend broken = FakeBackend.broken("broken-gpu", oracle);
        Engine engine = engine(device(broken), Step.RELEVANCY);
        try (Arena arena = Arena.ofConfined()) {
            Tensor q = Tensor.allocate(arena, F32, 2, 8);
            Tensor m = Tensor.allocate(arena, F32, 4, 8);
            Tensor wrongShape = Tensor.allocate(arena, F32, 2, 5);

            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> engine.runVoid(Op.DOT, OpCost.ZERO, b -> b.relevancy().dot(q, m, wrongShape)));

            assertInstanceOf(BackendException.class, e.getSuppressed()[0]);
        }
    }

    @Test
    void should_classify_device_faults() {
        assertTrue(Engine.isDeviceFault(new BackendException("x", "lost")));
        assertTrue(Engine.isDeviceFault(new UnsupportedOperationException()));
        assertTrue(Engine.isDeviceFault(new ArithmeticException()));
        assertFalse(Engine.isDeviceFault(new IllegalArgumentException()));
        assertTrue(Engine.isDeviceFault(new LimitExceededException(Op.TOP_K, "maxK", 5, 4, "topK: k = 5 > maxK = 4")));
        assertTrue(Engine.isDeviceFault(new UnsupportedElementTypeException(Op.TOP_K, "s", F32,
                java.util.Set.of())));
        assertFalse(Engine.isDeviceFault(new dev.mempipe.spi.NaNInputException("s", 3)));
        assertFalse(Engine.isDeviceFault(new IllegalStateException("closed")));
    }

    @Test
    void should_run_unplanned_steps_and_errors_on_the_cpu() {
        Engine engine = Engine.builder().cpu(cpu).energyMeter(EnergyMeter.unavailable("off")).build();

        assertEquals(Plan.allOn("cpu"), engine.plan());
        assertEquals(List.of(cpu), engine.devices());
        RuntimeException boom = new ArithmeticException("boom");
        assertThrows(ArithmeticException.class, () -> engine.run(Step.APPLY, "custom", OpCost.ZERO, b -> {
            throw boom;
        }), "a failure on the CPU has nowhere to fall back to");
        assertEquals("cpu", engine.run(Step.APPLY, "custom", OpCost.ZERO, b -> b.name()));
    }

    @Test
    void should_reject_a_plan_naming_an_unknown_device_and_duplicate_devices() {
        Engine engine = Engine.builder().cpu(cpu).energyMeter(EnergyMeter.unavailable("off")).build();
        Device other = device(FakeBackend.working("other", oracle, Capabilities.all()));

        assertThrows(IllegalArgumentException.class, () -> engine.usePlan(planOn(cpu, other, Step.APPLY)));
        assertThrows(IllegalArgumentException.class,
                () -> Engine.builder().cpu(cpu).device(other).device(other).build());
    }

    @Test
    void should_record_measured_energy_when_a_counter_is_readable(@TempDir Path powercap) throws IOException {
        Path zone = Files.createDirectories(powercap.resolve("intel-rapl:0"));
        Files.writeString(zone.resolve("name"), "package-0\n");
        Files.writeString(zone.resolve("energy_uj"), "1000000\n");
        Files.writeString(zone.resolve("max_energy_range_uj"), "262143328850\n");
        Engine engine = Engine.builder().cpu(cpu).energyMeter(EnergyMeter.rapl(powercap)).build();

        engine.runVoid(Step.PREPARE, "burn", OpCost.ZERO, b -> {
            try {
                Files.writeString(zone.resolve("energy_uj"), "3500000\n");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });

        ProfileReport report = engine.report();
        assertEquals(2.5, report.records().getFirst().energyJoules().orElseThrow(), 1e-12);
        assertTrue(report.energyAvailable());
        assertEquals("rapl: package-0", report.energySource());
    }

    @Test
    void should_collect_records_from_many_threads() throws Exception {
        Engine engine = Engine.builder().cpu(cpu).energyMeter(EnergyMeter.unavailable("off")).maxRecords(10).build();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 50; i++) {
                        engine.run(Step.RETRIEVAL, "noop", new OpCost(8, 4, 1), b -> null);
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }

        ProfileReport report = engine.report();
        assertEquals(200, report.total().calls());
        assertEquals(1600, report.total().bytesRead());
        assertEquals(10, report.records().size());
        assertEquals(190, report.droppedRecords());
        engine.resetProfile();
        assertEquals(0, engine.report().total().calls());
    }

    @Test
    void should_default_to_a_calibrated_simd_cpu() {
        Engine engine = Engine.builder().energyMeter(EnergyMeter.unavailable("off")).build();

        assertEquals(dev.mempipe.ops.SimdBackend.NAME, engine.cpu().name());
        assertTrue(engine.cpu().model().source().startsWith("calibrated"), engine.cpu().model().source());
        assertTrue(engine.deviceBackends().isEmpty());
    }

    @Test
    void should_reject_null_arguments() {
        Engine engine = Engine.builder().cpu(cpu).energyMeter(EnergyMeter.unavailable("off")).build();
        assertThrows(NullPointerException.class, () -> engine.run(null, "x", OpCost.ZERO, b -> null));
        assertThrows(NullPointerException.class, () -> engine.run(Step.APPLY, "x", null, b -> null));
        assertThrows(NullPointerException.class, () -> engine.runVoid(Step.APPLY, "x", OpCost.ZERO, null));
    }
}
