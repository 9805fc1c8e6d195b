package dev.mempipe.ops;

import java.util.Arrays;
import java.util.Objects;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Optimized scalar quantization of one vector (the quantizer of Lucene's quantized vector formats, and of the
 * quantized HNSW walk that reads them), with Vector API lanes: centre the vector on a centroid, start from the
 * minimum-MSE grid interval of its mean and standard deviation, refine the interval by coordinate descent on the
 * anisotropic loss ({@code (1 - lambda) * (parallel error)^2 / |x|^2 + lambda * |error|^2}) until it stops improving,
 * then round each element to one of {@code 2^bits} points of the interval.
 *
 * <p>Why it exists: Lucene's {@code OptimizedScalarQuantizer} runs that algorithm in scalar double arithmetic, 12-14 us
 * for a 384-dimension vector on the development VM, and a quantized HNSW walk quantizes every query: 13% of an 8-bit
 * walk's time (JFR, docs/PERFORMANCE.md). This one takes 2-3 us. Each element's point is computed exactly as that
 * quantizer computes it (the same float formula, {@code Math.round} semantics), but the sums run in float lanes with
 * a fixed-order final sum, so the interval may differ from Lucene's in the last bits, and where the descent's stop
 * (a step that does not lower the loss) is a near-tie it may stop a step earlier or later. Summing in double lanes
 * was tried: the same spread of losses, 1.5x the time. Core's {@code LaneScalarQuantizerTest} bounds all of it
 * against Lucene's quantizer.
 *
 * <p>Deterministic: the same input gives the same codes and terms on every call and JIT tier (no unordered lane
 * reduction). Thread-safe: instances hold only their settings; each call uses its own scratch.
 */
public final class SimdScalarQuantizer {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final int LANES = F.length();
    /** Byte lanes as many as the float lanes (the codes' store), where the shape exists. */
    private static final VectorSpecies<Byte> B_QUARTER =
            VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, F.vectorBitSize() / 4)));

    /**
     * The starting interval per bit count, in standard deviations around the mean: the points of the grid with the
     * least mean squared error for a unit Gaussian (the published values Lucene's quantizer starts from too).
     */
    private static final float[] GRID_HALF_WIDTH = {0.798f, 1.493f, 2.051f, 2.514f, 2.916f, 3.278f, 3.611f, 3.922f};

    private final float lambda;
    private final int iterations;

    /**
     * A quantization's corrective terms: the interval {@code [lower, upper]}, the dot product of the uncentred
     * vector with the centroid, and the sum of the codes.
     */
    public record Quantized(float lower, float upper, float centroidDot, int componentSum) {
    }

    /**
     * @param lambda weight of the whole error against the error parallel to the vector, in (0, 1]
     * @param iterations most coordinate-descent steps, >= 0
     */
    public SimdScalarQuantizer(float lambda, int iterations) {
        if (!(lambda > 0 && lambda <= 1)) {
            throw new IllegalArgumentException("lambda must be in (0, 1], got " + lambda);
        }
        if (iterations < 0) {
            throw new IllegalArgumentException("iterations must be >= 0, got " + iterations);
        }
        this.lambda = lambda;
        this.iterations = iterations;
    }

    /**
     * Quantizes {@code vector} against {@code centroid} to {@code bits} bits a dimension: {@code vector} is centred in
     * place (it holds {@code vector - centroid} afterwards) and {@code destination[0, d)} receives the codes, each in
     * {@code [0, 2^bits)} (as unsigned bytes).
     *
     * @throws IllegalArgumentException if {@code bits} is not in [1, 8] or the lengths do not match
     * @throws NullPointerException     naming the argument that is null
     */
    public Quantized quantize(float[] vector, float[] centroid, int bits, byte[] destination) {
        Objects.requireNonNull(vector, "vector");
        Objects.requireNonNull(centroid, "centroid");
        Objects.requireNonNull(destination, "destination");
        int d = vector.length;
        if (bits < 1 || bits > 8) {
            throw new IllegalArgumentException("bits must be in [1, 8], got " + bits);
        }
        if (centroid.length != d) {
            throw new IllegalArgumentException("centroid has " + centroid.length + " dimensions, vector " + d);
        }
        if (destination.length < d) {
            throw new IllegalArgumentException("destination holds " + destination.length + " codes, vector has " + d);
        }
        float[] partials = new float[5 * LANES];
        Moments m = centre(vector, centroid, partials);
        int points = 1 << bits;
        float lower = (float) clamp(-GRID_HALF_WIDTH[bits - 1] * m.std + m.mean, m.min, m.max);
        float upper = (float) clamp(GRID_HALF_WIDTH[bits - 1] * m.std + m.mean, m.min, m.max);
        float[] interval = {lower, upper};
        optimize(vector, interval, m.norm2, points, partials);
        int sum = codes(vector, interval[0], interval[1], points, destination);
        return new Quantized(interval[0], interval[1], m.centroidDot, sum);
    }

    /** What the first pass learns of the centred vector. */
    private record Moments(float centroidDot, float norm2, float min, float max, double mean, double std) {
    }

    /** Centres {@code x} on {@code c} in place and measures it. */
    private static Moments centre(float[] x, float[] c, float[] partials) {
        int d = x.length;
        FloatVector dotAcc = FloatVector.zero(F);
        FloatVector normAcc = FloatVector.zero(F);
        FloatVector sumAcc = FloatVector.zero(F);
        FloatVector minAcc = FloatVector.broadcast(F, Float.MAX_VALUE);
        FloatVector maxAcc = FloatVector.broadcast(F, -Float.MAX_VALUE);
        int i = 0;
        for (int bound = F.loopBound(d); i < bound; i += LANES) {
            FloatVector xv = FloatVector.fromArray(F, x, i);
            FloatVector cv = FloatVector.fromArray(F, c, i);
            dotAcc = xv.fma(cv, dotAcc);
            FloatVector v = xv.sub(cv);
            v.intoArray(x, i);
            minAcc = minAcc.min(v);
            maxAcc = maxAcc.max(v);
            normAcc = v.fma(v, normAcc);
            sumAcc = sumAcc.add(v);
        }
        dotAcc.intoArray(partials, 0);
        normAcc.intoArray(partials, LANES);
        sumAcc.intoArray(partials, 2 * LANES);
        double centroidDot = laneTotal(partials, 0);
        double norm2 = laneTotal(partials, 1);
        double total = laneTotal(partials, 2);
        float min = minAcc.reduceLanes(VectorOperators.MIN); // min and max do not depend on the order
        float max = maxAcc.reduceLanes(VectorOperators.MAX);
        for (; i < d; i++) {
            centroidDot += x[i] * c[i];
            x[i] -= c[i];
            min = Math.min(min, x[i]);
            max = Math.max(max, x[i]);
            norm2 += x[i] * x[i];
            total += x[i];
        }
        double mean = total / Math.max(1, d);
        // the variance as a second pass around the mean: no cancellation when the mean is far from zero
        FloatVector meanV = FloatVector.broadcast(F, (float) mean);
        FloatVector varAcc = FloatVector.zero(F);
        int j = 0;
        for (int bound = F.loopBound(d); j < bound; j += LANES) {
            FloatVector e = FloatVector.fromArray(F, x, j).sub(meanV);
            varAcc = e.fma(e, varAcc);
        }
        varAcc.intoArray(partials, 0);
        double variance = laneTotal(partials, 0);
        for (; j < d; j++) {
            double e = x[j] - mean;
            variance += e * e;
        }
        return new Moments((float) centroidDot, (float) norm2, min, max, mean, Math.sqrt(variance / Math.max(1, d)));
    }

    /** Coordinate descent on the interval while the loss improves (at most {@link #iterations} steps). */
    private void optimize(float[] x, float[] interval, float norm2, int points, float[] partials) {
        double loss = loss(x, interval[0], interval[1], points, norm2, partials);
        float scale = (1.0f - lambda) / norm2;
        if (!Float.isFinite(scale)) {
            return;
        }
        float last = points - 1;
        double[] sums = new double[5];
        for (int it = 0; it < iterations; it++) {
            float a = interval[0];
            float b = interval[1];
            gridSums(x, a, b, last, sums, partials);
            double daa = sums[0];
            double dab = sums[1];
            double dbb = sums[2];
            double dax = sums[3];
            double dbx = sums[4];
            double m0 = scale * dax * dax + lambda * daa;
            double m1 = scale * dax * dbx + lambda * dab;
            double m2 = scale * dbx * dbx + lambda * dbb;
            double det = m0 * m2 - m1 * m1;
            if (det == 0) {
                return; // the normal equations are singular: keep the interval
            }
            float aOpt = (float) ((m2 * dax - m1 * dbx) / det);
            float bOpt = (float) ((m0 * dbx - m1 * dax) / det);
            if (Math.abs(a - aOpt) < 1e-8 && Math.abs(b - bOpt) < 1e-8) {
                return;
            }
            double next = loss(x, aOpt, bOpt, points, norm2, partials);
            if (next > loss) {
                return; // unlike k-means this descent can get worse: stop at the best interval so far
            }
            interval[0] = aOpt;
            interval[1] = bOpt;
            loss = next;
        }
    }

    /**
     * The sums of the least-squares step for interval {@code [a, b]}: with {@code s} each element's point as a
     * fraction of the interval (by Lucene's float formula), sum (1-s)^2, (1-s)s, s^2, x(1-s) and xs.
     */
    private static void gridSums(float[] x, float a, float b, float last, double[] sums, float[] partials) {
        int d = x.length;
        // an empty interval maps every element to its one point, as Lucene's Math.round(NaN) = 0 does
        float stepInv = b > a ? last / (b - a) : 0f;
        // every scalar as a vector before the loop: a broadcast inside it was not always compiled to one
        FloatVector av = FloatVector.broadcast(F, a);
        FloatVector bv = FloatVector.broadcast(F, b);
        FloatVector stepInvV = FloatVector.broadcast(F, stepInv);
        FloatVector lastV = FloatVector.broadcast(F, last);
        FloatVector one = FloatVector.broadcast(F, 1f);
        FloatRound round = new FloatRound();
        FloatVector aa = FloatVector.zero(F);
        FloatVector ab = FloatVector.zero(F);
        FloatVector bb = FloatVector.zero(F);
        FloatVector ax = FloatVector.zero(F);
        FloatVector bx = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(d); i < bound; i += LANES) {
            FloatVector xv = FloatVector.fromArray(F, x, i);
            FloatVector s = round.apply(xv.min(bv).max(av).sub(av).mul(stepInvV)).div(lastV);
            FloatVector r = one.sub(s);
            aa = r.fma(r, aa);
            ab = r.fma(s, ab);
            bb = s.fma(s, bb);
            ax = xv.fma(r, ax);
            bx = xv.fma(s, bx);
        }
        aa.intoArray(partials, 0);
        ab.intoArray(partials, LANES);
        bb.intoArray(partials, 2 * LANES);
        ax.intoArray(partials, 3 * LANES);
        bx.intoArray(partials, 4 * LANES);
        for (int k = 0; k < 5; k++) {
            sums[k] = laneTotal(partials, k);
        }
        for (; i < d; i++) {
            float s = Math.round((clamp(x[i], a, b) - a) * stepInv) / last;
            double r = 1.0 - s;
            sums[0] += r * r;
            sums[1] += r * s;
            sums[2] += (double) s * s;
            sums[3] += x[i] * r;
            sums[4] += (double) x[i] * s;
        }
    }

    /** The anisotropic loss of quantizing {@code x} to {@code points} points of {@code [a, b]}. */
    private double loss(float[] x, float a, float b, int points, float norm2, float[] partials) {
        int d = x.length;
        float step = (b - a) / (points - 1);
        float stepInv = b > a ? 1f / step : 0f; // an empty interval: every element at its one point
        FloatVector av = FloatVector.broadcast(F, a);
        FloatVector bv = FloatVector.broadcast(F, b);
        FloatVector stepV = FloatVector.broadcast(F, step);
        FloatVector stepInvV = FloatVector.broadcast(F, stepInv);
        FloatRound round = new FloatRound();
        FloatVector xeAcc = FloatVector.zero(F);
        FloatVector eAcc = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(d); i < bound; i += LANES) {
            FloatVector xv = FloatVector.fromArray(F, x, i);
            FloatVector err = xv.sub(round.apply(xv.min(bv).max(av).sub(av).mul(stepInvV)).fma(stepV, av));
            xeAcc = xv.fma(err, xeAcc);
            eAcc = err.fma(err, eAcc);
        }
        xeAcc.intoArray(partials, 0);
        eAcc.intoArray(partials, LANES);
        double xe = laneTotal(partials, 0);
        double e = laneTotal(partials, 1);
        for (; i < d; i++) {
            float q = a + step * Math.round((clamp(x[i], a, b) - a) * stepInv);
            double err = x[i] - q;
            xe += x[i] * err;
            e += err * err;
        }
        return (1.0 - lambda) * xe * xe / norm2 + lambda * e;
    }

    /** Rounds each element of the centred {@code x} to its point of {@code [a, b]}; returns the codes' sum. */
    private static int codes(float[] x, float a, float b, int points, byte[] destination) {
        int d = x.length;
        if (!(b > a)) {
            Arrays.fill(destination, 0, d, (byte) 0); // one point: (x - a) / step is NaN, rounded to 0
            return 0;
        }
        float step = (b - a) / (points - 1);
        FloatVector av = FloatVector.broadcast(F, a);
        FloatVector bv = FloatVector.broadcast(F, b);
        FloatVector stepV = FloatVector.broadcast(F, step);
        FloatRound round = new FloatRound();
        IntVector sumAcc = IntVector.zero(I);
        int i = 0;
        if (I.length() == LANES && B_QUARTER.length() == LANES) {
            for (int bound = F.loopBound(d); i < bound; i += LANES) {
                FloatVector t = FloatVector.fromArray(F, x, i).min(bv).max(av).sub(av).div(stepV);
                IntVector k = (IntVector) round.apply(t).convert(VectorOperators.F2I, 0);
                sumAcc = sumAcc.add(k);
                ((ByteVector) k.convertShape(VectorOperators.I2B, B_QUARTER, 0)).intoArray(destination, i);
            }
        }
        int sum = sumAcc.reduceLanes(VectorOperators.ADD); // integer: the order does not matter
        for (; i < d; i++) {
            int k = Math.round((clamp(x[i], a, b) - a) / step);
            sum += k;
            destination[i] = (byte) k;
        }
        return sum;
    }

    /**
     * {@code Math.round} of lanes in {@code [0, 2^23)}, exactly, with adds and no masks (a masked add ran as Java
     * fallback code in C2 here; a form with two float-to-int conversions timed the same as this one): adding and
     * taking away 2^23 rounds to the nearest integer with ties to even; a tie ({@code t - r == 0.5}) then goes up, as {@code Math.round} does.
     * {@code 2 (t - r) - (1 - 2^-24)} is exact (Sterbenz), 2^-24 for a tie and at most 0 otherwise (below 0.5 a
     * fraction's float spacing is at least 2^-25 where it can come near 0.5), so times 2^24 it is the missing 1. The
     * constants are vectors made once per pass.
     */
    static final class FloatRound {
        private final FloatVector shift = FloatVector.broadcast(F, 0x1p23f);
        private final FloatVector two = FloatVector.broadcast(F, 2f);
        private final FloatVector belowOne = FloatVector.broadcast(F, 1f - 0x1p-24f);
        private final FloatVector tieScale = FloatVector.broadcast(F, 0x1p24f);
        private final FloatVector zero = FloatVector.zero(F);

        FloatVector apply(FloatVector t) {
            FloatVector nearestEven = t.add(shift).sub(shift);
            return nearestEven.add(t.sub(nearestEven).mul(two).sub(belowOne).mul(tieScale).max(zero));
        }
    }

    /**
     * The sum of lanes {@code [k * LANES, (k + 1) * LANES)} of {@code partials}, in lane order: the same on every
     * call and JIT tier (a {@code reduceLanes} order is left open). The passes store their accumulators there in
     * their own body: handing a vector to a method C2 does not inline boxes it (a call cost twice its passes).
     */
    private static double laneTotal(float[] partials, int k) {
        double s = 0;
        for (int i = k * LANES, end = i + LANES; i < end; i++) {
            s += partials[i];
        }
        return s;
    }

    private static double clamp(double x, double lo, double hi) {
        return Math.max(lo, Math.min(x, hi));
    }

    private static float clamp(float x, float lo, float hi) {
        return Math.max(lo, Math.min(x, hi));
    }
}
