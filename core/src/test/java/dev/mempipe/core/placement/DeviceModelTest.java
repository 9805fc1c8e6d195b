package dev.mempipe.core.placement;

import dev.mempipe.core.profile.Bound;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.goldentests.ScalarBackend;
import dev.mempipe.ops.SimdBackend;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeviceModelTest {

    @Test
    void should_predict_the_higher_roof_plus_launch_overhead() {
        DeviceModel m = DeviceModel.declared("gpu", 1e12, 1e11, 5e-6);

        assertEquals(10, m.ridgePoint(), 1e-12);
        assertEquals(1e9 / 1e11 + 5e-6, m.predictSeconds(new OpCost(600_000_000, 400_000_000, 1_000_000)), 1e-12);
        assertEquals(1e12 / 1e12 + 5e-6, m.predictSeconds(new OpCost(1000, 0, 1_000_000_000_000L)), 1e-12);
        assertEquals(0, m.predictSeconds(OpCost.ZERO));
        assertEquals(Bound.MEMORY, m.bound(new OpCost(100, 0, 999)));
        assertEquals(Bound.COMPUTE, m.bound(new OpCost(100, 0, 1000)));
        assertEquals(Bound.UNKNOWN, m.bound(OpCost.ZERO));
    }

    @Test
    void should_use_an_ops_own_throughput_when_measured() {
        DeviceModel m = DeviceModel.declared("gpu", 1e12, 1e11, 0)
                .withOpThroughput(Op.TOP_K, new DeviceModel.Throughput(1e10, 1e10));
        OpCost cost = new OpCost(1_000_000, 0, 1000);

        assertEquals(1e-4, m.predictSeconds(Op.TOP_K, cost), 1e-15);
        assertEquals(1e-5, m.predictSeconds(Op.DOT, cost), 1e-15);
        assertEquals(1e-5, m.predictSeconds(null, cost), 1e-15);
    }

    @Test
    void should_calibrate_a_backend_in_well_under_a_second_and_say_so() {
        long start = System.nanoTime();
        DeviceModel m = DeviceModel.calibrate(new ScalarBackend());
        double seconds = (System.nanoTime() - start) / 1e9;

        assertTrue(seconds < 2, "calibration took " + seconds + " s");
        assertEquals("scalar-oracle", m.name());
        assertTrue(m.bytesPerSecond() > 0 && m.peakFlopsPerSecond() > 0, m.describe());
        assertTrue(m.launchOverheadSeconds() >= 0 && m.launchOverheadSeconds() < 1e-2, m.describe());
        assertTrue(m.source().startsWith("calibrated"), m.source());
    }

    @Test
    void should_calibrate_the_simd_backend_when_its_ops_are_there() {
        SimdBackend simd = new SimdBackend();
        try (Arena arena = Arena.ofConfined()) {
            Tensor x = Tensor.allocate(arena, ElementType.F32, 1, 8);
            Tensor y = Tensor.allocate(arena, ElementType.F32, 1, 1);
            simd.relevancy().dot(x, x, y);
            simd.prepare().project(x, x, y);
        } catch (UnsupportedOperationException notYet) {
            Assumptions.abort("the SIMD backend does not run dot and project yet: " + notYet.getMessage());
        }
        long start = System.nanoTime();
        DeviceModel m = DeviceModel.calibrate(simd);
        double seconds = (System.nanoTime() - start) / 1e9;

        assertTrue(seconds < 2, "calibration took " + seconds + " s");
        assertEquals(SimdBackend.NAME, m.name());
        // Only sanity: on a loaded machine the JIT may not have compiled the kernels within the budget.
        assertTrue(m.bytesPerSecond() > 0 && m.peakFlopsPerSecond() > 0, m.describe());
        System.getLogger(DeviceModelTest.class.getName()).log(System.Logger.Level.INFO, m.describe());
    }

    @Test
    void should_refuse_to_calibrate_a_backend_without_dot_and_project() {
        FakeBackend dotOnly = FakeBackend.working("dot-only", new ScalarBackend(),
                Capabilities.builder().op(Op.DOT, ElementType.F32).build());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DeviceModel.calibrate(dotOnly));
        assertTrue(e.getMessage().contains("peak FLOP rate") && e.getMessage().contains("project"), e.getMessage());
    }

    @Test
    void should_take_described_numbers_with_their_labels_and_run_no_undeclared_op() {
        // a top-k-only device that describes itself fully: calibration must not call any op at all
        dev.mempipe.spi.DeviceDescription description = new dev.mempipe.spi.DeviceDescription("sorter",
                dev.mempipe.spi.Figure.model(1e12, "datasheet"), dev.mempipe.spi.Figure.model(4.6e11, "32 HBM channels"),
                dev.mempipe.spi.Figure.measured(2e-5, "bench on the card"),
                java.util.Map.of(Op.TOP_K, dev.mempipe.spi.Figure.model(1e11, "16 elements/cycle at 300 MHz")),
                dev.mempipe.spi.Figure.model(16e9, "HBM"), null);
        FakeBackend sorter = new FakeBackendWithDescription("sorter", description,
                Capabilities.builder().op(Op.TOP_K, ElementType.F32).build()).backend;
        DeviceModel m = DeviceModel.calibrate(sorter);
        assertEquals(0, sorter.calls(), "calibration ran an op");
        assertEquals(4.6e11, m.bytesPerSecond());
        assertEquals(1e12, m.peakFlopsPerSecond());
        assertEquals(2e-5, m.launchOverheadSeconds());
        assertEquals(1e11, m.opThroughput().get(Op.TOP_K).bytesPerSecond());
        assertTrue(m.source().contains("model: 32 HBM channels") && m.source().contains("measured: bench on the card")
                && m.source().contains("topK"), m.source());
    }

    @Test
    void should_measure_only_what_the_description_leaves_out_with_declared_ops() {
        dev.mempipe.spi.DeviceDescription onlyPeak = new dev.mempipe.spi.DeviceDescription("dot-only",
                dev.mempipe.spi.Figure.model(5e11, "datasheet"), null, null, java.util.Map.of(), null, null);
        FakeBackend dotOnly = new FakeBackendWithDescription("dot-only", onlyPeak,
                Capabilities.builder().op(Op.DOT, ElementType.F32).build()).backend;
        DeviceModel m = DeviceModel.calibrate(dotOnly, java.time.Duration.ofMillis(200));
        assertTrue(dotOnly.calls() > 0, "the bandwidth must be measured with dot");
        assertEquals(5e11, m.peakFlopsPerSecond());
        assertTrue(m.source().contains("memory") && m.source().contains("measured: dot scan")
                && m.source().contains("model: datasheet"), m.source());
    }

    /** A fake device over the oracle whose description is given. */
    private static final class FakeBackendWithDescription {
        final FakeBackend backend;

        FakeBackendWithDescription(String name, dev.mempipe.spi.DeviceDescription description, Capabilities caps) {
            this.backend = FakeBackend.working(name, new ScalarBackend(), caps).describedAs(description);
        }
    }

    @Test
    void should_reject_non_positive_roofs() {
        assertThrows(IllegalArgumentException.class, () -> DeviceModel.declared("x", 0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> DeviceModel.declared("x", 1, Double.NaN, 0));
        assertThrows(IllegalArgumentException.class, () -> DeviceModel.declared("x", 1, 1, -1));
    }
}
