package dev.mempipe.core.memory;

import dev.mempipe.ops.SimdScalarQuantizer;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.util.quantization.OptimizedScalarQuantizer;

/**
 * Lucene's {@link OptimizedScalarQuantizer} (DOT_PRODUCT, its default lambda 0.1 and 5 steps) computed by
 * {@link SimdScalarQuantizer} in vector lanes: the quantizer of {@link QuantizedRows}, for its rows and for every query
 * of a quantized walk, and the one Lucene's own scorer of those rows calls (through
 * {@code QuantizedByteVectorValues.getQuantizer()}), so rows and queries are always quantized alike.
 *
 * <p>Same algorithm, 4.4-5.1x faster on 384 dimensions (JMH {@code QueryQuantizerBenchmark}); each code is the one
 * Lucene's quantizer gives for the same interval, and the interval agrees with Lucene's to its last bits, or, where the
 * descent's stop is a near-tie, is a step away at the same loss on average ({@code LaneScalarQuantizerTest}).
 * Thread-safe (no state but the settings).
 */
final class LaneScalarQuantizer extends OptimizedScalarQuantizer {
    /** Lucene's defaults ({@code OptimizedScalarQuantizer}'s DEFAULT_LAMBDA and DEFAULT_ITERS). */
    static final float LAMBDA = 0.1f;
    static final int ITERATIONS = 5;

    private final SimdScalarQuantizer lanes = new SimdScalarQuantizer(LAMBDA, ITERATIONS);

    LaneScalarQuantizer() {
        super(VectorSimilarityFunction.DOT_PRODUCT, LAMBDA, ITERATIONS);
    }

    /** Centres {@code vector} on {@code centroid} in place, as Lucene's quantizer does, and quantizes it. */
    @Override
    public QuantizationResult scalarQuantize(float[] vector, byte[] destination, byte bits, float[] centroid) {
        SimdScalarQuantizer.Quantized q = lanes.quantize(vector, centroid, bits, destination);
        return new QuantizationResult(q.lower(), q.upper(), q.centroidDot(), q.componentSum());
    }

    /** Each bit count quantizes the same centred vector (as Lucene's); {@code vector} is centred in place. */
    @Override
    public QuantizationResult[] multiScalarQuantize(float[] vector, byte[][] destinations, byte[] bits,
                                                    float[] centroid) {
        if (bits.length != destinations.length) {
            throw new IllegalArgumentException(bits.length + " bit counts for " + destinations.length
                    + " destinations");
        }
        float[] original = vector.clone();
        QuantizationResult[] results = new QuantizationResult[bits.length];
        for (int i = 0; i < bits.length; i++) {
            System.arraycopy(original, 0, vector, 0, vector.length);
            results[i] = scalarQuantize(vector, destinations[i], bits[i], centroid);
        }
        return results;
    }
}
