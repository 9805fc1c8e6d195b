package dev.mempipe.ops;

import dev.mempipe.goldentests.QuantizationLoss;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SimdScalarQuantizer} on its own (its oracle, Lucene's quantizer, is in core's
 * {@code LaneScalarQuantizerTest}): its rounding is {@code Math.round} to the bit, ties and the floats just under them
 * included; every code is the scalar formula's point of the returned interval at every dimension (lane tails too); a
 * call is deterministic; an interval is never worse than the one the descent starts from; and bad arguments are
 * refused by name.
 */
class SimdScalarQuantizerTest {
    private static final int LANES = SimdRows.LANES;
    private static final long SEED = 20261207L;

    @Test
    void round_is_math_round_including_ties_and_the_floats_below_them() {
        SplittableRandom r = new SplittableRandom(SEED);
        float[] t = new float[LANES];
        float[] rounded = new float[LANES];
        for (int trial = 0; trial < 20_000; trial++) {
            for (int i = 0; i < LANES; i++) {
                int k = r.nextInt(256);
                t[i] = switch ((trial + i) % 5) {
                    case 0 -> k + 0.5f; // a tie: Math.round goes up, round-half-even would not for even k
                    case 1 -> Math.nextDown(k + 0.5f); // just under: t + 0.5f in float would round up
                    case 2 -> Math.nextUp(k + 0.5f);
                    case 3 -> (float) r.nextDouble(0, 1e-6); // tiny fractions
                    default -> (float) r.nextDouble(0, 256);
                };
            }
            new SimdScalarQuantizer.FloatRound().apply(FloatVector.fromArray(SimdRows.F, t, 0)).intoArray(rounded, 0);
            for (int i = 0; i < LANES; i++) {
                assertEquals(Math.round(t[i]), rounded[i], 0f, "round(" + t[i] + ") (seed " + SEED + ")");
            }
        }
    }

    @Test
    void codes_are_the_scalar_points_of_the_interval_at_every_dimension() {
        SplittableRandom r = new SplittableRandom(SEED);
        SimdScalarQuantizer quantizer = new SimdScalarQuantizer(0.1f, 5);
        for (int d : new int[] {1, 2, LANES - 1, LANES, LANES + 1, 3 * LANES + 5, 384, 1000}) {
            for (int bits = 1; bits <= 8; bits++) {
                float[] x = gaussian(r, d);
                float[] centroid = gaussian(r, d);
                for (int i = 0; i < d; i++) {
                    centroid[i] *= 0.1f;
                }
                float[] centred = x.clone();
                byte[] codes = new byte[d + 3];
                Arrays.fill(codes, (byte) 0x5A);
                SimdScalarQuantizer.Quantized q = quantizer.quantize(centred, centroid, bits, codes);
                String where = "d " + d + " bits " + bits + " (seed " + SEED + ")";
                double dot = 0;
                for (int i = 0; i < d; i++) {
                    assertEquals(x[i] - centroid[i], centred[i], 0f, "centred element " + i + ": " + where);
                    dot += (double) x[i] * centroid[i];
                }
                assertEquals(dot, q.centroidDot(), 1e-5 * d, "x . centroid: " + where);
                assertTrue(q.lower() <= q.upper(), "interval [" + q.lower() + ", " + q.upper() + "]: " + where);
                float step = (q.upper() - q.lower()) / ((1 << bits) - 1);
                int sum = 0;
                for (int i = 0; i < d; i++) {
                    int expected = q.upper() > q.lower()
                            ? Math.round((Math.max(q.lower(), Math.min(centred[i], q.upper())) - q.lower()) / step) : 0;
                    assertEquals(expected, codes[i] & 0xFF, "code " + i + ": " + where);
                    sum += expected;
                }
                assertEquals(sum, q.componentSum(), "component sum: " + where);
                for (int i = d; i < codes.length; i++) {
                    assertEquals((byte) 0x5A, codes[i], "byte " + i + " past the codes was written: " + where);
                }
            }
        }
    }

    @Test
    void the_same_vector_quantizes_to_the_same_bits_every_call() {
        SplittableRandom r = new SplittableRandom(SEED);
        SimdScalarQuantizer quantizer = new SimdScalarQuantizer(0.1f, 5);
        float[] x = gaussian(r, 384);
        float[] centroid = gaussian(r, 384);
        byte[] first = new byte[384];
        SimdScalarQuantizer.Quantized expected = quantizer.quantize(x.clone(), centroid, 8, first);
        byte[] again = new byte[384];
        for (int call = 0; call < 20_000; call++) { // through the JIT's tiers
            assertEquals(expected, quantizer.quantize(x.clone(), centroid, 8, again), "call " + call);
            assertArrayEquals(first, again, "call " + call);
        }
    }

    @Test
    void the_descent_never_ends_worse_than_it_starts() {
        SplittableRandom r = new SplittableRandom(SEED);
        SimdScalarQuantizer descent = new SimdScalarQuantizer(0.1f, 5);
        SimdScalarQuantizer start = new SimdScalarQuantizer(0.1f, 0);
        int improved = 0;
        for (int v = 0; v < 200; v++) {
            int bits = 1 + v % 8;
            float[] x = gaussian(r, 200);
            float[] centroid = new float[200];
            float[] centred = x.clone();
            SimdScalarQuantizer.Quantized q = descent.quantize(centred, centroid, bits, new byte[200]);
            SimdScalarQuantizer.Quantized q0 = start.quantize(x.clone(), centroid, bits, new byte[200]);
            double after = QuantizationLoss.of(centred, q.lower(), q.upper(), bits, 0.1);
            double before = QuantizationLoss.of(centred, q0.lower(), q0.upper(), bits, 0.1);
            assertTrue(after <= before * (1 + 1e-5), "vector " + v + " bits " + bits + ": loss " + after
                    + " after the descent, " + before + " at its start");
            improved += after < before * (1 - 1e-3) ? 1 : 0;
        }
        assertTrue(improved > 100, "the descent improved only " + improved + " of 200 intervals");
    }

    @Test
    void a_vector_equal_to_the_centroid_gets_code_zero_everywhere() {
        SimdScalarQuantizer quantizer = new SimdScalarQuantizer(0.1f, 5);
        float[] c = {0.5f, -1f, 2f, 0.25f, 3f, -0.125f, 1f, 7f, 0.5f};
        byte[] codes = new byte[c.length];
        Arrays.fill(codes, (byte) 9);
        SimdScalarQuantizer.Quantized q = quantizer.quantize(c.clone(), c, 4, codes);
        assertArrayEquals(new byte[c.length], codes);
        assertEquals(0, q.componentSum());
        assertEquals(0f, q.lower());
        assertEquals(0f, q.upper());
    }

    @Test
    void bad_arguments_are_refused_by_name() {
        SimdScalarQuantizer quantizer = new SimdScalarQuantizer(0.1f, 5);
        float[] x = new float[8];
        assertMessage("bits must be in [1, 8], got 9", () -> quantizer.quantize(x, new float[8], 9, new byte[8]));
        assertMessage("bits must be in [1, 8], got 0", () -> quantizer.quantize(x, new float[8], 0, new byte[8]));
        assertMessage("centroid has 7 dimensions, vector 8", () -> quantizer.quantize(x, new float[7], 4, new byte[8]));
        assertMessage("destination holds 7 codes, vector has 8",
                () -> quantizer.quantize(x, new float[8], 4, new byte[7]));
        assertMessage("lambda must be in (0, 1], got 0.0", () -> new SimdScalarQuantizer(0f, 5));
        assertEquals("centroid", assertThrows(NullPointerException.class,
                () -> quantizer.quantize(x, null, 4, new byte[8])).getMessage());
        assertEquals("destination", assertThrows(NullPointerException.class,
                () -> quantizer.quantize(x, new float[8], 4, null)).getMessage());
        assertMessage("iterations must be >= 0, got -1", () -> new SimdScalarQuantizer(0.1f, -1));
    }

    private static void assertMessage(String message, Runnable call) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, call::run).getMessage());
    }


    private static float[] gaussian(SplittableRandom r, int d) {
        float[] v = new float[d];
        for (int i = 0; i < d; i++) {
            v[i] = (float) (r.nextGaussian() * 0.05 + (i % 5) * 0.01);
        }
        return v;
    }
}
