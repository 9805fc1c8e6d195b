package dev.mempipe.core.memory;

import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.RelevancyOps;
import dev.mempipe.spi.Tensor;
import org.apache.lucene.util.hnsw.RandomVectorScorer;
import org.apache.lucene.util.quantization.OptimizedScalarQuantizer.QuantizationResult;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The score of Lucene's {@code Lucene104ScalarQuantizedVectorScorer} for a DOT_PRODUCT query against
 * {@link QuantizedRows}' 8-bit ({@code UNSIGNED_BYTE}) or 4-bit ({@code PACKED_NIBBLE}) codes, with the integer dot
 * product of the codes computed by the backend's {@code codeDotRows} where the codes lie (a node's neighbours in one
 * call, four rows at a time on the CPU backend) and Lucene's corrective formula applied here, in Lucene's float order:
 * the same score to the bit ({@code CodeDotScorerTest}). Lucene's own scorer copies each row's codes out of the array,
 * boxes its corrections and scores one row per call; profiled at 100k x 384 (session 6), that was half of a quantized
 * walk's time, and made the 8-bit and 4-bit walks slower than the F32 walk they exist to beat.
 *
 * <p>A call allocates nothing: the node ids and dot products are in the scorer's {@link RowCallBuffers}, as
 * {@code EmbeddingRows}' graph scorer's are for {@code dotRows}.
 *
 * <p>Thread-safety: not safe for concurrent use (one per search); reads the codes, which must not change meanwhile
 * (the index's read lock).
 */
final class CodeDotScorer implements RandomVectorScorer {
    private static final VarHandle FLOAT_LE = MethodHandles.byteArrayViewVarHandle(float[].class,
            ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class,
            ByteOrder.LITTLE_ENDIAN);

    /** Bytes of a cache line on the processors we run on (x86-64, most Arm cores). */
    private static final int CACHE_LINE = 64;
    /** A value {@link #prefetch} compares its sum with: not a constant, so its loads are kept. */
    private static int prefetchGuard = Integer.MIN_VALUE;

    private final RelevancyOps ops;
    private final Tensor queryCodes;   // (1, packedLength) the query's codes, packed as the rows are
    private final Tensor codes;        // (rows, packedLength) every row's codes, in place
    private final int bits;
    private final byte[] records;      // every row's codes, then its corrective terms (QuantizedRows' records)
    private final int packedLength;
    private final int recordLength;
    private final int maxOrd;
    // the query's side of Lucene's formula, and what the rows share
    private final float ay;
    private final float ly;
    private final float y1;
    private final float queryAdditional;
    private final float centroidDp;
    private final float scale;         // 1 / (2^bits - 1) of the rows' codes
    private final int dimension;
    private final RowCallBuffers call = new RowCallBuffers(); // a call's node ids and their integer dot products

    /**
     * @param records     every row's record, {@code recordLength} apart ({@code rows} of them, maybe more capacity):
     *                    its {@code packedLength} code bytes, then its corrective terms as {@link QuantizedRows}
     *                    writes them
     * @param packedQuery the query's codes quantized as Lucene's scorer quantizes a query, packed as the rows are
     * @param query       the query's corrective terms
     * @param queryBits   bits per code of the query (Lucene's {@code getQueryBits()})
     */
    CodeDotScorer(RelevancyOps ops, int bits, byte[] records, int packedLength, int recordLength, int rows,
                  int dimension, byte[] packedQuery, QuantizationResult query, int queryBits, float centroidDp) {
        this.ops = ops;
        this.bits = bits;
        MemorySegment all = MemorySegment.ofArray(records);
        // the I8 views need a scales segment (4 bytes a row), which codeDotRows never reads: the records stand in
        this.queryCodes = Tensor.wrap(MemorySegment.ofArray(packedQuery), ElementType.I8, 1, packedLength,
                packedLength, all);
        // the codes are the first packedLength bytes of each record: a padded-row view, no copy
        this.codes = Tensor.wrap(all, ElementType.I8, rows, packedLength, recordLength, all);
        this.records = records;
        this.packedLength = packedLength;
        this.recordLength = recordLength;
        this.maxOrd = rows;
        this.dimension = dimension;
        float queryScale = 1f / ((1 << queryBits) - 1);
        this.scale = 1f / ((1 << bits) - 1);
        this.ay = query.lowerInterval();
        this.ly = (query.upperInterval() - ay) * queryScale;
        this.y1 = query.quantizedComponentSum();
        this.queryAdditional = query.additionalCorrection();
        this.centroidDp = centroidDp;
    }

    @Override
    public float score(int node) {
        call.load(node);
        ops.codeDotRows(queryCodes, codes, bits, call.idsView(1), call.resultView(1));
        return similarity(node, call.results()[0]);
    }

    @Override
    public float bulkScore(int[] nodes, float[] scores, int count) {
        if (count == 0) {
            return Float.NEGATIVE_INFINITY;
        }
        call.load(nodes, count);
        prefetch(nodes, count);
        ops.codeDotRows(queryCodes, codes, bits, call.idsView(count), call.resultView(count));
        int[] ids = call.ids();
        float[] dots = call.results();
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < count; j++) {
            scores[j] = similarity(ids[j], dots[j]);
            max = Math.max(max, scores[j]);
        }
        return max;
    }

    @Override
    public int maxOrd() {
        return maxOrd;
    }

    /**
     * Reads one byte of every cache line of the listed rows' records (codes and corrective terms) before the op
     * reads them: Java has no prefetch instruction, and these independent loads let the processor wait for many
     * rows' cache misses at once, where the op's kernel, busy with four rows' arithmetic, runs ahead by little more
     * than those four. The rows of a walk lie at random over the records; at 100k x 384 (40 MB of 8-bit records,
     * 32 MiB of L3) this made the 8-bit and 4-bit walks 10-20% faster (measured, docs/PERFORMANCE.md), and it costs
     * about 5 ns a row when the rows are already in cache. The sum is compared with a field the JIT cannot know, so
     * that it cannot drop the loads.
     */
    private void prefetch(int[] nodes, int count) {
        byte[] r = records;
        int length = recordLength;
        int sum = 0;
        for (int j = 0; j < count; j++) {
            int at = nodes[j] * length;
            for (int o = 0; o < length; o += CACHE_LINE) {
                sum += r[at + o];
            }
            sum += r[at + length - 1];
        }
        if (sum == prefetchGuard) {
            prefetchGuard = sum + 1; // never true for the walk's bytes in practice; correct either way
        }
    }

    /** Lucene's DOT_PRODUCT score of the corrected estimate, {@code (1 + clamp(estimate, -1, 1)) / 2}. */
    private float similarity(int node, float qcDist) {
        int at = node * recordLength + packedLength;
        float ax = (float) FLOAT_LE.get(records, at);
        float lx = ((float) FLOAT_LE.get(records, at + 4) - ax) * scale;
        float x1 = (int) INT_LE.get(records, at + 12);
        float score = ax * ay * dimension + ay * lx * x1 + ax * ly * y1 + lx * ly * qcDist;
        score += queryAdditional + (float) FLOAT_LE.get(records, at + 8) - centroidDp; // Lucene's order: the same float
        return (1f + Math.clamp(score, -1f, 1f)) / 2f; // Lucene 10.6 clamps the estimate to a cosine's range
    }
}
