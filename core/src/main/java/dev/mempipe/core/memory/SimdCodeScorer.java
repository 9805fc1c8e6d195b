package dev.mempipe.core.memory;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.apache.lucene.util.hnsw.RandomVectorScorer;
import org.apache.lucene.util.quantization.OptimizedScalarQuantizer.QuantizationResult;
import org.apache.lucene.util.quantization.QuantizedByteVectorValues.ScalarEncoding;

/**
 * The score of Lucene's {@code Lucene104ScalarQuantizedVectorScorer} for a DOT_PRODUCT query against
 * {@link QuantizedRows}' 8-bit ({@code UNSIGNED_BYTE}) or 4-bit ({@code PACKED_NIBBLE}) codes, computed where the codes
 * lie: the same query quantization (Lucene's, by {@link QuantizedRows#quantizeQuery}), the same corrective formula,
 * and the same integer dot product of the codes, exact. What differs is the kernel around it: Lucene's scorer copies
 * each row's codes out of the array ({@code vectorValue}), boxes its corrections, and scores one row per call with a
 * byte kernel that widens through shorts; here the codes are read in place, as whole numbers in float lanes against
 * the query's codes as floats (one zero-extension, one conversion and one multiply-add per lane; 4-bit codes give
 * two lanes per byte), and a node's neighbours are scored four rows at a time, so that their cache misses overlap.
 * Profiled at 100k x 384 (session 6), Lucene's per-row scoring was half of a quantized walk's time, and made the
 * 8-bit and 4-bit walks slower than the F32 walk they exist to beat. The scores equal Lucene's to the bit
 * ({@code SimdCodeScorerTest}).
 *
 * <p>Exact: each code product is a whole number below 2^16 and each lane sums at most {@link #FLUSH} of them (below
 * 2^24) before its sum goes to an int, so the dot product is the integer Lucene's kernel computes.
 *
 * <p>Thread-safety: not safe for concurrent use (one per search); reads the codes, which must not change meanwhile
 * (the index's read lock).
 */
final class SimdCodeScorer implements RandomVectorScorer {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** As many bytes as F has lanes: one load gives one float vector (two for 4-bit codes). */
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.length() * 8));
    private static final int LANES = F.length();
    /** Loads per lane sum: 255 * 255 * 256 < 2^24, the float's exact whole numbers. */
    private static final int FLUSH = 256;

    private final byte[] codes;       // every row's packed codes, packedLength apart
    private final float[] corrections; // (lower, upper, additional, component sum as int bits) per row
    private final int packedLength;
    private final boolean nibbles;    // PACKED_NIBBLE: byte i holds dimension i (high nibble) and half + i (low)
    private final float[] high;       // the query's codes (as floats) that meet each byte, or its high nibble
    private final float[] low;        // the query's codes that meet a byte's low nibble (4-bit), else null
    private final int maxOrd;
    // the query's side of Lucene's formula, and what the rows share
    private final float ay;
    private final float ly;
    private final float y1;
    private final float queryAdditional;
    private final float centroidDp;
    private final float scale;        // 1 / (2^bits - 1) of the rows' codes
    private final int dimension;
    private final float[] dots = new float[4];
    private final long[] totals = new long[4];

    /**
     * @param queryCodes  the query quantized as Lucene's scorer quantizes it: {@code discrete} unsigned codes
     * @param query       its corrective terms
     */
    SimdCodeScorer(ScalarEncoding encoding, byte[] codes, float[] corrections, int packedLength, int rows,
                   int dimension, byte[] queryCodes, QuantizationResult query, float centroidDp) {
        if (encoding != ScalarEncoding.UNSIGNED_BYTE && encoding != ScalarEncoding.PACKED_NIBBLE) {
            throw new IllegalArgumentException("encoding must be UNSIGNED_BYTE or PACKED_NIBBLE, got " + encoding);
        }
        this.codes = codes;
        this.corrections = corrections;
        this.packedLength = packedLength;
        this.nibbles = encoding == ScalarEncoding.PACKED_NIBBLE;
        this.maxOrd = rows;
        this.dimension = dimension;
        this.high = new float[packedLength];
        this.low = nibbles ? new float[packedLength] : null;
        for (int i = 0; i < packedLength; i++) {
            high[i] = Byte.toUnsignedInt(queryCodes[i]);
            if (nibbles) {
                low[i] = Byte.toUnsignedInt(queryCodes[packedLength + i]);
            }
        }
        float queryScale = 1f / ((1 << encoding.getQueryBits()) - 1);
        this.scale = 1f / ((1 << encoding.getBits()) - 1);
        this.ay = query.lowerInterval();
        this.ly = (query.upperInterval() - ay) * queryScale;
        this.y1 = query.quantizedComponentSum();
        this.queryAdditional = query.additionalCorrection();
        this.centroidDp = centroidDp;
    }

    @Override
    public float score(int node) {
        return similarity(node, dot((long) node * packedLength));
    }

    @Override
    public float bulkScore(int[] nodes, float[] scores, int count) {
        float max = Float.NEGATIVE_INFINITY;
        int j = 0;
        for (; j + 4 <= count; j += 4) {
            dots4((long) nodes[j] * packedLength, (long) nodes[j + 1] * packedLength,
                    (long) nodes[j + 2] * packedLength, (long) nodes[j + 3] * packedLength);
            for (int t = 0; t < 4; t++) {
                scores[j + t] = similarity(nodes[j + t], dots[t]);
                max = Math.max(max, scores[j + t]);
            }
        }
        for (; j < count; j++) {
            scores[j] = score(nodes[j]);
            max = Math.max(max, scores[j]);
        }
        return max;
    }

    @Override
    public int maxOrd() {
        return maxOrd;
    }

    /** Lucene's DOT_PRODUCT score of the corrected estimate, {@code (1 + clamp(estimate, -1, 1)) / 2}. */
    private float similarity(int node, float qcDist) {
        int at = node * 4;
        float ax = corrections[at];
        float lx = (corrections[at + 1] - ax) * scale;
        float x1 = Float.floatToRawIntBits(corrections[at + 3]);
        float score = ax * ay * dimension + ay * lx * x1 + ax * ly * y1 + lx * ly * qcDist;
        score += queryAdditional + corrections[at + 2] - centroidDp; // Lucene's order: the same float
        return (1f + Math.clamp(score, -1f, 1f)) / 2f; // Lucene 10.6 clamps the estimate to a cosine's range
    }

    /** The integer dot product of the query's codes with the row at {@code off}, as a float (exact below 2^24). */
    private float dot(long off) {
        int o = Math.toIntExact(off);
        long total = 0;
        int i = 0;
        int end = B.loopBound(packedLength);
        while (i < end) {
            FloatVector acc = FloatVector.zero(F);
            int stop = Math.min(end, i + FLUSH * LANES);
            for (; i < stop; i += LANES) {
                IntVector x = bytes(o + i);
                if (nibbles) {
                    acc = nibbleDot(x, FloatVector.fromArray(F, high, i), FloatVector.fromArray(F, low, i), acc);
                } else {
                    acc = toFloat(x).fma(FloatVector.fromArray(F, high, i), acc);
                }
            }
            total += wholeSum(acc);
        }
        for (; i < packedLength; i++) {
            int x = Byte.toUnsignedInt(codes[o + i]);
            total += nibbles ? (long) (x >>> 4) * (int) high[i] + (long) (x & 0xF) * (int) low[i]
                    : (long) x * (int) high[i];
        }
        return total;
    }

    /** {@link #dot} of four rows into {@link #dots}, their loads interleaved. */
    private void dots4(long off0, long off1, long off2, long off3) {
        int o0 = Math.toIntExact(off0);
        int o1 = Math.toIntExact(off1);
        int o2 = Math.toIntExact(off2);
        int o3 = Math.toIntExact(off3);
        int end = B.loopBound(packedLength);
        long[] totals = nibbles ? nibbles4(o0, o1, o2, o3, end) : bytes4(o0, o1, o2, o3, end);
        for (int i = end; i < packedLength; i++) {
            int h = (int) high[i];
            int l = nibbles ? (int) low[i] : 0;
            totals[0] += tail(codes[o0 + i], h, l);
            totals[1] += tail(codes[o1 + i], h, l);
            totals[2] += tail(codes[o2 + i], h, l);
            totals[3] += tail(codes[o3 + i], h, l);
        }
        for (int t = 0; t < 4; t++) {
            dots[t] = totals[t];
        }
    }

    /** 8-bit codes of four rows against the query, lanes {@code [0, end)}. */
    private long[] bytes4(int o0, int o1, int o2, int o3, int end) {
        long[] totals = this.totals;
        java.util.Arrays.fill(totals, 0);
        int i = 0;
        while (i < end) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            int stop = Math.min(end, i + FLUSH * LANES);
            for (; i < stop; i += LANES) {
                FloatVector h = FloatVector.fromArray(F, high, i);
                a0 = toFloat(bytes(o0 + i)).fma(h, a0);
                a1 = toFloat(bytes(o1 + i)).fma(h, a1);
                a2 = toFloat(bytes(o2 + i)).fma(h, a2);
                a3 = toFloat(bytes(o3 + i)).fma(h, a3);
            }
            totals[0] += wholeSum(a0);
            totals[1] += wholeSum(a1);
            totals[2] += wholeSum(a2);
            totals[3] += wholeSum(a3);
        }
        return totals;
    }

    /** 4-bit codes of four rows against the query, bytes {@code [0, end)} (two dimensions a byte). */
    private long[] nibbles4(int o0, int o1, int o2, int o3, int end) {
        long[] totals = this.totals;
        java.util.Arrays.fill(totals, 0);
        int i = 0;
        while (i < end) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            int stop = Math.min(end, i + FLUSH * LANES);
            for (; i < stop; i += LANES) {
                FloatVector h = FloatVector.fromArray(F, high, i);
                FloatVector l = FloatVector.fromArray(F, low, i);
                a0 = nibbleDot(bytes(o0 + i), h, l, a0);
                a1 = nibbleDot(bytes(o1 + i), h, l, a1);
                a2 = nibbleDot(bytes(o2 + i), h, l, a2);
                a3 = nibbleDot(bytes(o3 + i), h, l, a3);
            }
            totals[0] += wholeSum(a0);
            totals[1] += wholeSum(a1);
            totals[2] += wholeSum(a2);
            totals[3] += wholeSum(a3);
        }
        return totals;
    }

    /** {@code acc} plus a byte's high nibble times {@code high} and its low nibble times {@code low}, per lane. */
    private static FloatVector nibbleDot(IntVector x, FloatVector high, FloatVector low, FloatVector acc) {
        FloatVector hi = toFloat(x.lanewise(VectorOperators.LSHR, 4));
        FloatVector lo = toFloat(x.and(0xF));
        return hi.fma(high, lo.fma(low, acc));
    }

    private long tail(byte code, int high, int low) {
        int x = Byte.toUnsignedInt(code);
        return nibbles ? (long) (x >>> 4) * high + (long) (x & 0xF) * low : (long) x * high;
    }

    /**
     * {@link #LANES} code bytes from {@code at} as unsigned ints: sign-extended, then masked (the JIT compiles this
     * pair into vector instructions; ZERO_EXTEND_B2I ran as Java code, twice as slow as Lucene's kernel).
     */
    private IntVector bytes(int at) {
        return ((IntVector) ByteVector.fromArray(B, codes, at).convertShape(VectorOperators.B2I, I, 0)).and(0xFF);
    }

    private static FloatVector toFloat(IntVector x) {
        return (FloatVector) x.convert(VectorOperators.I2F, 0);
    }

    /** The lanes' sum, each lane a whole number below 2^24: converted to ints first, so the sum is exact. */
    private static long wholeSum(FloatVector acc) {
        return ((IntVector) acc.convert(VectorOperators.F2I, 0)).reduceLanesToLong(VectorOperators.ADD);
    }
}
