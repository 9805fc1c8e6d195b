package dev.mempipe.ops;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link SimdExp} within 2 ulps of {@code Math.exp} over the range it does not clamp, and its clamped ends. */
class SimdExpTest {
    private static final int LANES = SimdRows.LANES;

    @Test
    void exp_should_be_within_two_ulps_across_its_range() {
        long seed = 20261207L;
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[LANES];
        float[] y = new float[LANES];
        for (int trial = 0; trial < 20_000; trial++) {
            for (int i = 0; i < LANES; i++) {
                // uniform over the range, plus the points where the reduction changes n
                x[i] = trial % 4 == 0 ? (float) (Math.round(r.nextDouble(-120, 120)) * Math.log(2) / 2)
                        : (float) r.nextDouble(-87, 88.3);
                x[i] = Math.max(-87f, Math.min(88.3f, x[i]));
            }
            SimdExp.exp(FloatVector.fromArray(SimdRows.F, x, 0)).intoArray(y, 0);
            for (int i = 0; i < LANES; i++) {
                double exact = Math.exp(x[i]);
                double ulps = Math.abs(y[i] - exact) / Math.ulp((float) exact);
                assertTrue(ulps <= 2, "exp(" + x[i] + ") = " + y[i] + ", exact " + exact + ": " + ulps
                        + " ulps (seed " + seed + ")");
            }
        }
    }

    @Test
    void exp_should_stay_finite_and_monotone_at_the_clamped_ends() {
        float[] x = new float[LANES];
        float[] y = new float[LANES];
        java.util.Arrays.fill(x, -1000f);
        x[0] = 0f;
        x[LANES - 1] = 1000f;
        SimdExp.exp(FloatVector.fromArray(SimdRows.F, x, 0)).intoArray(y, 0);
        assertEquals(1f, y[0]);
        assertTrue(y[1] > 0 && y[1] < 2e-38f, "exp(-1000) = " + y[1]);
        assertTrue(Float.isFinite(y[LANES - 1]) && y[LANES - 1] > 2e38f, "exp(1000) = " + y[LANES - 1]);
    }
}
