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
 * lie: the same query quantization (Lucene's quantizer, called by {@link QuantizedRows#walkScorer}), the same corrective formula,
 * and the same integer dot product of the codes, exact. What differs is the kernel around it: Lucene's scorer copies
 * each row's codes out of the array ({@code vectorValue}), boxes its corrections, and scores one row per call with a
 * byte kernel that widens through shorts; here the codes are read in place, as whole numbers in float lanes against
 * the query's codes as floats (a widening, a mask, a conversion and a multiply-add per lane; 4-bit codes give
 * two lanes per byte), and a node's neighbours are scored four rows at a time, so that their cache misses overlap.
 * Profiled at 100k x 384 (session 6), Lucene's per-row scoring was half of a quantized walk's time, and made the
 * 8-bit and 4-bit walks slower than the F32 walk they exist to beat. The scores equal Lucene's to the bit
 * ({@code SimdCodeScorerTest}).
 *
 * <p>Exact: each code product is a whole number below 2^16 and each lane sums at most {@link #EXACT_LOADS} of them
 * (below 2^24) before its sum goes to an int, so the dot product is the integer Lucene's kernel computes; longer
 * 8-bit rows (over 4096 dimensions at 512 bits) are left to Lucene's scorer ({@link #supports}). One loop per kernel,
 * with no flush inside it, each small enough for C2 to inline every vector operation: a vector that meets a call C2
 * did not inline is boxed (JFR showed a float[] per row of the 4-bit kernel until its lane sums were simplified).
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
    /** Loads a lane may sum exactly: 255 * 255 * 256 < 2^24, the float's exact whole numbers (8-bit codes). */
    private static final int EXACT_LOADS = 256;

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
        if (!supports(encoding, dimension)) {
            throw new IllegalArgumentException("codes of " + encoding + " at " + dimension + " dimensions are Lucene's"
                    + " scorer's: see supports");
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

    /** Whether the scores of {@code encoding}'s codes of {@code dimension} floats are computed exactly here. */
    static boolean supports(ScalarEncoding encoding, int dimension) {
        return switch (encoding) {
            case UNSIGNED_BYTE -> encoding.getDocPackedLength(dimension) <= EXACT_LOADS * LANES;
            case PACKED_NIBBLE -> 2L * 225 * encoding.getDocPackedLength(dimension) < 1 << 24; // a row's whole sum
            default -> false;
        };
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
        if (j < count) {
            // the last one to three rows also go four at a time (the last repeated: in cache by then), so their cache
            // misses overlap too: one row at a time they took about a fifth of a walk (JFR, session 6)
            int last = nodes[count - 1];
            dots4((long) nodes[j] * packedLength, (long) nodes[Math.min(j + 1, count - 1)] * packedLength,
                    (long) nodes[Math.min(j + 2, count - 1)] * packedLength, (long) last * packedLength);
            for (int t = 0; j + t < count; t++) {
                scores[j + t] = similarity(nodes[j + t], dots[t]);
                max = Math.max(max, scores[j + t]);
            }
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
        int end = B.loopBound(packedLength);
        long total = nibbles ? nibbles1(o, end) : bytes1(o, end);
        for (int i = end; i < packedLength; i++) {
            total += tail(codes[o + i], (int) high[i], nibbles ? (int) low[i] : 0);
        }
        return total;
    }

    /** 8-bit codes of one row against the query, lanes {@code [0, end)}. */
    private long bytes1(int o, int end) {
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < end; i += LANES) {
            acc = toFloat(bytes(o + i)).fma(FloatVector.fromArray(F, high, i), acc);
        }
        return wholeSum(acc);
    }

    /** 4-bit codes of one row against the query, bytes {@code [0, end)}. */
    private long nibbles1(int o, int end) {
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < end; i += LANES) {
            IntVector x = bytes(o + i);
            acc = toFloat(x.lanewise(VectorOperators.ASHR, 4)).fma(FloatVector.fromArray(F, high, i),
                    toFloat(x.and(0xF)).fma(FloatVector.fromArray(F, low, i), acc));
        }
        return wholeSum(acc);
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
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int i = 0; i < end; i += LANES) {
            FloatVector h = FloatVector.fromArray(F, high, i);
            a0 = toFloat(bytes(o0 + i)).fma(h, a0);
            a1 = toFloat(bytes(o1 + i)).fma(h, a1);
            a2 = toFloat(bytes(o2 + i)).fma(h, a2);
            a3 = toFloat(bytes(o3 + i)).fma(h, a3);
        }
        totals[0] = wholeSum(a0);
        totals[1] = wholeSum(a1);
        totals[2] = wholeSum(a2);
        totals[3] = wholeSum(a3);
        return totals;
    }

    /** 4-bit codes of four rows against the query, bytes {@code [0, end)} (two dimensions a byte). */
    private long[] nibbles4(int o0, int o1, int o2, int o3, int end) {
        long[] totals = this.totals;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int i = 0; i < end; i += LANES) {
            FloatVector h = FloatVector.fromArray(F, high, i);
            FloatVector l = FloatVector.fromArray(F, low, i);
            IntVector x0 = bytes(o0 + i);
            IntVector x1 = bytes(o1 + i);
            IntVector x2 = bytes(o2 + i);
            IntVector x3 = bytes(o3 + i);
            a0 = toFloat(x0.lanewise(VectorOperators.ASHR, 4)).fma(h, toFloat(x0.and(0xF)).fma(l, a0));
            a1 = toFloat(x1.lanewise(VectorOperators.ASHR, 4)).fma(h, toFloat(x1.and(0xF)).fma(l, a1));
            a2 = toFloat(x2.lanewise(VectorOperators.ASHR, 4)).fma(h, toFloat(x2.and(0xF)).fma(l, a2));
            a3 = toFloat(x3.lanewise(VectorOperators.ASHR, 4)).fma(h, toFloat(x3.and(0xF)).fma(l, a3));
        }
        // a float lane sum, exact: the whole row's sum is below 2 * 225 * packedLength, far below 2^24 (supports);
        // the int conversion of wholeSum took this method past C2's inlining node limit, and it then boxed the sums
        totals[0] = (long) a0.reduceLanes(VectorOperators.ADD);
        totals[1] = (long) a1.reduceLanes(VectorOperators.ADD);
        totals[2] = (long) a2.reduceLanes(VectorOperators.ADD);
        totals[3] = (long) a3.reduceLanes(VectorOperators.ADD);
        return totals;
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
