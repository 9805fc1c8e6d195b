package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.placement.Device;
import dev.mempipe.core.placement.DeviceModel;
import dev.mempipe.core.profile.EnergyMeter;
import dev.mempipe.goldentests.Compare;
import dev.mempipe.goldentests.ScalarBackend;
import dev.mempipe.goldentests.Tolerances;
import dev.mempipe.ops.SimdBackend;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * Shared helpers of the pipeline tests: an engine on the SIMD backend, the scalar oracle, seeded data, and
 * the comparisons (tolerances from the conformance kit's {@link Tolerances} and {@link Compare}).
 */
public final class PipelineTesting {
    /** The oracle every pipeline is composed from by hand. */
    public static final Backend ORACLE = new ScalarBackend();

    private PipelineTesting() {
    }

    /** An engine whose CPU is the SIMD backend with a declared model (no calibration: tests stay fast). */
    public static Engine engine() {
        Backend simd = new SimdBackend();
        return Engine.builder().cpu(new Device(simd, DeviceModel.declared(simd.name(), 1e11, 2e10, 1e-6)))
                .energyMeter(EnergyMeter.unavailable("not measured in tests")).build();
    }

    /**
     * An engine whose CPU is {@link #engine()}'s and whose plan puts {@code steps} on {@code deviceBackend} (a test
     * device), every other step on the CPU.
     */
    public static Engine engineWith(Backend deviceBackend, dev.mempipe.spi.Step... steps) {
        Device cpu = engine().cpu();
        Device device = new Device(deviceBackend, DeviceModel.declared(deviceBackend.name(), 1e12, 1e11, 1e-6));
        dev.mempipe.core.placement.WorkloadShape shape = new dev.mempipe.core.placement.WorkloadShape(
                Arrays.stream(dev.mempipe.spi.Step.values())
                        .map(s -> dev.mempipe.core.placement.StepShape.of(s, 0, 0)).toList());
        dev.mempipe.core.placement.Links links = dev.mempipe.core.placement.Links.builder().link(cpu.name(),
                device.name(), dev.mempipe.core.placement.TransferModel.of(1e-6, 1e10)).build();
        java.util.Map<dev.mempipe.spi.Step, String> assignment = new java.util.EnumMap<>(dev.mempipe.spi.Step.class);
        for (dev.mempipe.spi.Step s : steps) {
            assignment.put(s, device.name());
        }
        return Engine.builder().cpu(cpu).device(device)
                .plan(new dev.mempipe.core.placement.Planner(cpu, java.util.List.of(device), links)
                        .evaluate(shape, assignment))
                .energyMeter(EnergyMeter.unavailable("not measured in tests")).build();
    }

    /** {@code -Dmempipe.test.seed} or the test's own seed. */
    public static long seed(long fallback) {
        return Long.getLong("mempipe.test.seed", fallback);
    }

    /** The line that reruns a test with its seed. */
    public static String reproduce(String test, long seed) {
        return " (seed " + seed + "; rerun: ./mvnw -pl core -am verify -Dtest='" + test
                + "' -Dsurefire.failIfNoSpecifiedTests=false -Dmempipe.test.argLine=-Dmempipe.test.seed=" + seed + ")";
    }

    /** A tensor of uniform values in {@code [-1, 1)}. */
    public static Tensor uniform(Arena arena, SplittableRandom random, long rows, int cols) {
        Tensor t = Tensor.allocate(arena, ElementType.F32, rows, cols);
        for (long r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t.set(r, c, (float) random.nextDouble(-1, 1));
            }
        }
        return t;
    }

    /** A new F32 tensor of the oracle's output. */
    public static Tensor f32(Arena arena, long rows, int cols) {
        return Tensor.allocate(arena, ElementType.F32, rows, cols);
    }

    /** Row {@code r} of a tensor as doubles. */
    public static double[] rowOf(Tensor t, long r) {
        double[] out = new double[t.cols()];
        for (int c = 0; c < out.length; c++) {
            out[c] = t.get(r, c);
        }
        return out;
    }

    /** The sorted set of an index list's values. */
    public static int[] sorted(Indices idx) {
        int[] values = idx.toArray();
        Arrays.sort(values);
        return values;
    }

    /** The same set of indices, in any order. */
    public static boolean sameSet(Indices a, Indices b) {
        return Arrays.equals(sorted(a), sorted(b));
    }

    /**
     * Every coordinate of {@code got} within the contract's attention bound of {@code ref} (the oracle's output
     * over {@code selectedRows} rows).
     */
    public static void attentionWithin(String name, Tensor got, Tensor ref, long selectedRows, double maxAbsV) {
        Compare.within(name, got, ref, Compare.Bound.of("4*(L+d)*2^-24*max|V|",
                (r, c, e) -> Tolerances.attention(selectedRows, got.cols(), maxAbsV, ElementType.F32, e), null));
    }

    /**
     * The largest {@code |a - b|} over the elements: once a result is within its bound of the oracle's, this is
     * the error that decides whether a top-k or threshold cut must fall the same way.
     */
    public static double maxAbsDifference(Tensor a, Tensor b) {
        double m = 0;
        for (long r = 0; r < a.rows(); r++) {
            for (int c = 0; c < a.cols(); c++) {
                m = Math.max(m, Math.abs((double) a.get(r, c) - b.get(r, c)));
            }
        }
        return m;
    }

    public static double maxAbs(Tensor t) {
        double m = 0;
        for (float v : t.toFloatArray()) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    /**
     * Whether the k-th and (k+1)-th best of {@code ref} are more than {@code 2 * tau} apart, so that any top-k
     * within {@code tau} of the reference must choose the same set.
     */
    public static boolean wellSeparated(double[] ref, int k, double tau) {
        if (k >= ref.length) {
            return true;
        }
        double[] s = ref.clone();
        Arrays.sort(s);
        return s[s.length - k] - s[s.length - k - 1] > 2 * tau;
    }

    /** The tokens of an index list, as ints (for messages and equality). */
    public static void assertSameRows(String message, Indices expected, Indices got) {
        assertArrayEquals(expected.toArray(), got.toArray(), message);
    }
}
