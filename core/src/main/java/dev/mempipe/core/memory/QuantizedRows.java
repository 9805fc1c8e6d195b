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
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Lucene's quantized codes of the unit rows of an {@link HnswVectors}, on the heap, for an {@link HnswIndex} that
 * walks its graph with them ({@link HnswQuantization}). Each row is quantized as Lucene's
 * {@code Lucene104ScalarQuantizedVectorsWriter} writes it: Lucene's optimized scalar quantization against the centroid
 * of the rows (DOT_PRODUCT), packed for the encoding, with its four corrective terms. The quantizer is a
 * {@link LaneScalarQuantizer} (Lucene's {@link OptimizedScalarQuantizer} computed in vector lanes), for the rows and
 * every walk's query alike, and Lucene's scorer gets the same one from {@link #getQuantizer()}. A walk over 8-bit or
 * 4-bit codes scores them in place ({@link #walkScorer}: the backend's {@code codeDotRows} and Lucene's corrective
 * formula); Lucene's {@code Lucene104ScalarQuantizedVectorScorer} reads them through this class otherwise (BINARY
 * codes).
 *
 * <p>The centroid is the mean of the rows quantized at the first {@link #extendTo}; when the rows have doubled since,
 * every row is quantized again against the new mean (Lucene recomputes it on each merge).
 *
 * <p>Thread-safety: {@link #extendTo} and {@link #clear} need the index's write lock; {@link #copy()}s made under
 * its read lock may then be read by one thread each (each has its own decoding buffer).
 */
final class QuantizedRows extends QuantizedByteVectorValues {
    /** Bytes of a row's corrective terms (lower, upper, additional, component sum as int bits), after its codes. */
    static final int CORRECTION_BYTES = 16;
    private static final VarHandle FLOAT_LE = MethodHandles.byteArrayViewVarHandle(float[].class,
            ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class,
            ByteOrder.LITTLE_ENDIAN);

    /** Lucene's scorer of its quantized formats (the raw-vector delegate is never used: the values are codes). */
    private static final Lucene104ScalarQuantizedVectorScorer LUCENE_SCORER =
            new Lucene104ScalarQuantizedVectorScorer(DefaultFlatVectorScorer.INSTANCE);

    private final Codes codes;
    private final byte[] row; // what vectorValue returns, per copy

    /**
     * The codes and corrections of every row, shared by the copies: one record per row, its packed codes then its
     * four corrective terms (little-endian floats, the component sum as an int), as Lucene's format stores a vector.
     * A walk scores a node's neighbours and then reads their corrections: kept in one array (session 7's JFR had the
     * corrections' own cache misses, from a float[] beside the codes, at 11-13% of a quantized walk), a row's terms
     * sit right after the codes just read, in the same or the next cache line.
     */
    private static final class Codes {
        final ScalarEncoding encoding;
        final int dimension;
        final int packedLength;
        final int recordLength; // packedLength + CORRECTION_BYTES
        final OptimizedScalarQuantizer quantizer = new LaneScalarQuantizer();
        byte[] records = new byte[0];
        float[] centroid;
        float centroidDp;
        int centroidRows; // rows the centroid was computed from
        int size;

        Codes(ScalarEncoding encoding, int dimension) {
            this.encoding = encoding;
            this.dimension = dimension;
            this.packedLength = encoding.getDocPackedLength(dimension);
            this.recordLength = packedLength + CORRECTION_BYTES;
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
        if ((long) rows * c.recordLength > Integer.MAX_VALUE - 16) {
            throw new IllegalStateException(rows + " rows of " + c.packedLength + " code bytes and "
                    + CORRECTION_BYTES + " bytes of corrections exceed one array");
        }
        c.records = Arrays.copyOf(c.records, Math.max(c.records.length, rows * c.recordLength));
        float[] unit = new float[c.dimension];
        byte[] discrete = new byte[c.encoding.getDiscreteDimensions(c.dimension)];
        byte[] packedRow = new byte[c.packedLength];
        for (int r = c.size; r < rows; r++) {
            vectors.readUnit(r, unit);
            QuantizationResult q = c.quantizer.scalarQuantize(unit, discrete, c.encoding.getBits(), c.centroid);
            pack(c.encoding, discrete, packedRow);
            int at = r * c.recordLength;
            System.arraycopy(packedRow, 0, c.records, at, c.packedLength);
            at += c.packedLength;
            FLOAT_LE.set(c.records, at, q.lowerInterval());
            FLOAT_LE.set(c.records, at + 4, q.upperInterval());
            FLOAT_LE.set(c.records, at + 8, q.additionalCorrection());
            INT_LE.set(c.records, at + 12, q.quantizedComponentSum());
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
        // as Lucene's scorer quantizes a query (with this quantizer): a copy (quantizing centres it in place), at the
        // query's bits; then packed as the rows are, so that codeDotRows pairs each query code with the row's code of
        // its dimension
        QuantizationResult terms = c.quantizer.scalarQuantize(unitQuery.clone(), discrete,
                c.encoding.getQueryBits(), c.centroid);
        byte[] packedQuery = new byte[c.packedLength];
        pack(c.encoding, discrete, packedQuery);
        return new CodeDotScorer(backend.relevancy(), bits, c.records, c.packedLength, c.recordLength, c.size,
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

    /** Bytes a walk reads for one visited row: its packed codes and corrective terms. */
    long recordBytes() {
        return codes.recordLength;
    }

    /** Heap bytes of the codes and corrections of the rows held. */
    long bytes() {
        return (long) codes.size * codes.recordLength;
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
        System.arraycopy(codes.records, ord * codes.recordLength, row, 0, codes.packedLength);
        return row;
    }

    @Override
    public QuantizationResult getCorrectiveTerms(int ord) {
        byte[] r = codes.records;
        int at = ord * codes.recordLength + codes.packedLength;
        return new QuantizationResult((float) FLOAT_LE.get(r, at), (float) FLOAT_LE.get(r, at + 4),
                (float) FLOAT_LE.get(r, at + 8), (int) INT_LE.get(r, at + 12));
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
