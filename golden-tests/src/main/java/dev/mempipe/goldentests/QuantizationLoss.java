package dev.mempipe.goldentests;

/**
 * The oracle of a scalar quantization's quality: the anisotropic loss that optimized scalar quantization (Lucene's
 * quantized vector formats, mempipe's {@code SimdScalarQuantizer}) minimizes over the interval, in double, from its
 * definition: {@code (1 - lambda) * (x . e)^2 / |x|^2 + lambda * |e|^2}, with {@code e = x - q} and {@code q} each
 * element rounded ({@code Math.round}) to the nearest of {@code 2^bits} points of {@code [a, b]}.
 */
public final class QuantizationLoss {
    private QuantizationLoss() {
    }

    /** The loss of quantizing the (centred) {@code x} to {@code bits} bits over {@code [a, b]}. */
    public static double of(float[] x, float a, float b, int bits, double lambda) {
        double step = ((double) b - a) / ((1 << bits) - 1);
        double xe = 0;
        double e = 0;
        double norm2 = 0;
        for (float xi : x) {
            double q = step == 0 ? a : a + step * Math.round((Math.max(a, Math.min(xi, b)) - a) / step);
            xe += xi * (xi - q);
            e += (xi - q) * (xi - q);
            norm2 += (double) xi * xi;
        }
        return (1 - lambda) * xe * xe / norm2 + lambda * e;
    }
}
