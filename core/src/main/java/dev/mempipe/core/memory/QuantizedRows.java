package dev.mempipe.core.memory;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.OpArgs;
import org.apache.lucene.codecs.hnsw.DefaultFlatVectorScorer;
import org.apache.lucene.codecs.lucene104.Lucene104ScalarQuantizedVectorScorer;
import org.apache.lucene.codecs.lucene104.OffHeapScalarQuantizedVectorValues;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.util.hnsw.RandomVectorScorer;
import org.apache.lucene.util.quantization.OptimizedScalarQuantizer;
import org.apache.lucene.util.quantization.OptimizedScalarQuantizer.QuantizationResult;
import org.apache.lucene.util.quantization.QuantizedByteVectorValues;

import java.io.IOException;
import java.util.Arrays;

/**
 * Lucene's quantized codes of the unit rows of an {@link HnswVectors}, on the heap, for an {@link HnswIndex} that
 * walks its graph with them ({@link HnswQuantization}). Each row is quantized as Lucene's
 * {@code Lucene104ScalarQuantizedVectorsWriter} writes it: {@link OptimizedScalarQuantizer} against the centroid of the
 * rows (DOT_PRODUCT), packed for the encoding, with its four corrective terms; Lucene's
 * {@code Lucene104ScalarQuantizedVectorScorer} reads them through this class.
 *
 * <p>The centroid is the mean of the rows quantized at the first {@link #extendTo}; when the rows have doubled since,
 * every row is quantized again against the new mean (Lucene recomputes it on each merge).
 *
 * <p>Thread-safety: {@link #extendTo} and {@link #clear} need the index's write lock; {@link #copy()}s made under
 * its read lock may then be read by one thread each (each has its own decoding buffer).
 */
final class QuantizedRows extends QuantizedByteVectorValues {
    private static final int CORRECTIONS = 4; // lower, upper, additional, component sum

    /** Lucene's scorer of its quantized formats (the raw-vector delegate is never used: the values are codes). */
    private static final Lucene104ScalarQuantizedVectorScorer LUCENE_SCORER =
            new Lucene104ScalarQuantizedVectorScorer(DefaultFlatVectorScorer.INSTANCE);

    private final Codes codes;
    private final byte[] row; // what vectorValue returns, per copy

    /** The codes and corrections of every row, shared by the copies. */
    private static final class Codes {
        final ScalarEncoding encoding;
        final int dimension;
        final int packedLength;
        final OptimizedScalarQuantizer quantizer = new OptimizedScalarQuantizer(VectorSimilarityFunction.DOT_PRODUCT);
        byte[] packed = new byte[0];
        float[] corrections = new float[0];
        float[] centroid;
        float centroidDp;
        int centroidRows; // rows the centroid was computed from
        int size;

        Codes(ScalarEncoding encoding, int dimension) {
            this.encoding = encoding;
            this.dimension = dimension;
            this.packedLength = encoding.getDocPackedLength(dimension);
        }
    }

    QuantizedRows(ScalarEncoding encoding, int dimension) {
        this(new Codes(encoding, dimension));
    }

    private QuantizedRows(Codes codes) {
        this.codes = codes;
        this.row = new byte[codes.packedLength];
    }

    /** Quantizes rows {@code [size(), rows)} of {@code vectors} (all of them again when the centroid moves). */
    void extendTo(HnswVectors vectors, int rows) {
        Codes c = codes;
        if (rows <= c.size) {
            return;
        }
        if (c.centroid == null || rows >= 2L * c.centroidRows) {
            c.centroid = centroid(vectors, rows, c.dimension);
            c.centroidDp = dot(c.centroid, c.centroid);
            c.centroidRows = rows;
            c.size = 0;
        }
        if ((long) rows * c.packedLength > Integer.MAX_VALUE - 16) {
            throw new IllegalStateException(rows + " rows of " + c.packedLength + " code bytes exceed one array");
        }
        c.packed = Arrays.copyOf(c.packed, Math.max(c.packed.length, rows * c.packedLength));
        c.corrections = Arrays.copyOf(c.corrections, Math.max(c.corrections.length, rows * CORRECTIONS));
        float[] unit = new float[c.dimension];
        byte[] discrete = new byte[c.encoding.getDiscreteDimensions(c.dimension)];
        byte[] packedRow = new byte[c.packedLength];
        for (int r = c.size; r < rows; r++) {
            vectors.readUnit(r, unit);
            QuantizationResult q = c.quantizer.scalarQuantize(unit, discrete, c.encoding.getBits(), c.centroid);
            pack(c.encoding, discrete, packedRow);
            System.arraycopy(packedRow, 0, c.packed, r * c.packedLength, c.packedLength);
            c.corrections[r * CORRECTIONS] = q.lowerInterval();
            c.corrections[r * CORRECTIONS + 1] = q.upperInterval();
            c.corrections[r * CORRECTIONS + 2] = q.additionalCorrection();
            c.corrections[r * CORRECTIONS + 3] = Float.intBitsToFloat(q.quantizedComponentSum());
        }
        c.size = rows;
    }

    /**
     * A scorer of {@code unitQuery} against the codes, for one graph walk on {@code backend}: the scores of Lucene's
     * {@code Lucene104ScalarQuantizedVectorScorer} (DOT_PRODUCT), for 8-bit and 4-bit codes computed by a
     * {@link CodeDotScorer} over the backend's {@code codeDotRows} (the same scores to the bit, the codes read in
     * place), and by Lucene's scorer itself for what that op does not cover: other encodings (BINARY), rows wider
     * than its exactness bound, and a backend that does not declare it (a device backend's walk keeps Lucene's
     * host scorer rather than the op's plain-Java default). Call under the index's read lock; one thread uses the
     * scorer.
     */
    RandomVectorScorer walkScorer(Backend backend, float[] unitQuery) throws IOException {
        Codes c = codes;
        int bits = codeBits(c.encoding);
        if (bits == 0 || c.packedLength > OpArgs.maxCodeBytes(bits) || !backend.capabilities().supports(
                Op.CODE_DOT_ROWS) || !backend.capabilities().supports(Op.CODE_DOT_ROWS, ElementType.I8)) {
            return luceneScorer(unitQuery);
        }
        byte[] discrete = new byte[c.encoding.getDiscreteDimensions(c.dimension)];
        // as Lucene's scorer quantizes a query: a copy (quantizing centres it in place), at the query's bits; then
        // packed as the rows are, so that codeDotRows pairs each query code with the row's code of its dimension
        QuantizationResult terms = c.quantizer.scalarQuantize(unitQuery.clone(), discrete,
                c.encoding.getQueryBits(), c.centroid);
        byte[] packedQuery = new byte[c.packedLength];
        pack(c.encoding, discrete, packedQuery);
        return new CodeDotScorer(backend.relevancy(), bits, c.packed, c.corrections, c.packedLength, c.size,
                c.dimension, packedQuery, terms, c.encoding.getQueryBits(), c.centroidDp);
    }

    /** Lucene's own scorer of the codes (what {@link #walkScorer} falls back to, and the oracle of its scores). */
    RandomVectorScorer luceneScorer(float[] unitQuery) throws IOException {
        return LUCENE_SCORER.getRandomVectorScorer(VectorSimilarityFunction.DOT_PRODUCT, copy(), unitQuery);
    }

    /**
     * The {@code bits} of {@code codeDotRows} that reads {@code encoding}'s codes as Lucene's scorer pairs them with a
     * query's, or 0: 8-bit rows meet an 8-bit query; 4-bit rows (packed two a byte) meet a 4-bit query.
     */
    private static int codeBits(ScalarEncoding encoding) {
        if (encoding == ScalarEncoding.UNSIGNED_BYTE && encoding.getQueryBits() == 8) {
            return 8;
        }
        if (encoding == ScalarEncoding.PACKED_NIBBLE && encoding.getQueryBits() == 4) {
            return 4;
        }
        return 0;
    }

    /** Forgets every code (rows were renumbered). */
    void clear() {
        codes.size = 0;
        codes.centroid = null;
        codes.centroidRows = 0;
    }

    /** Heap bytes of the codes and corrections of the rows held. */
    long bytes() {
        return (long) codes.size * (codes.packedLength + 4L * CORRECTIONS);
    }

    /** The encoding's packing of discrete codes, as Lucene's writer packs an index record. */
    private static void pack(ScalarEncoding encoding, byte[] discrete, byte[] packed) {
        switch (encoding) {
            case UNSIGNED_BYTE, SEVEN_BIT -> System.arraycopy(discrete, 0, packed, 0, packed.length);
            case PACKED_NIBBLE -> OffHeapScalarQuantizedVectorValues.packNibbles(discrete, packed);
            case SINGLE_BIT_QUERY_NIBBLE -> OptimizedScalarQuantizer.packAsBinary(discrete, packed);
            case DIBIT_QUERY_NIBBLE -> OptimizedScalarQuantizer.transposeDibit(discrete, packed);
        }
    }

    private static float[] centroid(HnswVectors vectors, int rows, int d) {
        double[] sum = new double[d];
        float[] unit = new float[d];
        for (int r = 0; r < rows; r++) {
            vectors.readUnit(r, unit);
            for (int i = 0; i < d; i++) {
                sum[i] += unit[i];
            }
        }
        float[] mean = new float[d];
        for (int i = 0; i < d; i++) {
            mean[i] = (float) (sum[i] / Math.max(1, rows));
        }
        return mean;
    }

    private static float dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return (float) s;
    }

    // ---- QuantizedByteVectorValues ----

    @Override
    public byte[] vectorValue(int ord) {
        System.arraycopy(codes.packed, ord * codes.packedLength, row, 0, codes.packedLength);
        return row;
    }

    @Override
    public QuantizationResult getCorrectiveTerms(int ord) {
        float[] c = codes.corrections;
        int at = ord * CORRECTIONS;
        return new QuantizationResult(c[at], c[at + 1], c[at + 2], Float.floatToRawIntBits(c[at + 3]));
    }

    @Override
    public OptimizedScalarQuantizer getQuantizer() {
        return codes.quantizer;
    }

    @Override
    public ScalarEncoding getScalarEncoding() {
        return codes.encoding;
    }

    @Override
    public float[] getCentroid() {
        return codes.centroid;
    }

    @Override
    public float getCentroidDP() {
        return codes.centroidDp;
    }

    @Override
    public QuantizedRows copy() {
        return new QuantizedRows(codes);
    }

    @Override
    public int dimension() {
        return codes.dimension;
    }

    @Override
    public int size() {
        return codes.size;
    }

    @Override
    public int getVectorByteLength() {
        return codes.packedLength;
    }
}
