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
        assertThrows(IllegalArgumentException.class, () -> DeviceModel.calibrate(dotOnly));
    }

    @Test
    void should_reject_non_positive_roofs() {
        assertThrows(IllegalArgumentException.class, () -> DeviceModel.declared("x", 0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> DeviceModel.declared("x", 1, Double.NaN, 0));
        assertThrows(IllegalArgumentException.class, () -> DeviceModel.declared("x", 1, 1, -1));
    }
}
