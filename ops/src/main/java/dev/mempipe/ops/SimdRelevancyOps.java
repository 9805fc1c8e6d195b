package dev.mempipe.ops;

import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.FloatFormats;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.OpArgs;
import dev.mempipe.spi.RelevancyOps;
import dev.mempipe.spi.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Stage 2 on the Vector API. The scans ({@code dot}, {@code cosine}, {@code indexerScore},
 * {@code questBound}) read the memory once, in blocks of {@link #BLOCK} rows, with the type-specialized
 * kernels of {@link SimdDotKernels}; scans bigger than about {@link #MIN_WORK} multiply-adds split over the
 * cores. Stateless and safe for concurrent use.
 */
final class SimdRelevancyOps implements RelevancyOps {
    /** Rows scored per block (scanned as four quarters side by side); its scores for a query group stay in L2. */
    private static final int BLOCK = 1024;
    /** Queries scored per pass over the memory (more are compute-bound anyway); 64 KB of scores per task. */
    private static final int QUERY_GROUP = 16;
    /** Multiply-adds below which a scan stays on the calling thread (16K rows of d=128 for one query). */
    private static final long MIN_WORK = 1L << 21;
    /** Elements read per step by the vector ops (softmax, groupMax). */
    private static final int READ_BLOCK = 4096;
    /** Below this many widths, cosine is computed in double: the f32 norm's roundings would not fit 2 d u. */
    private static final int COSINE_F32_MIN_WIDTH = 32;

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final boolean NATIVE_LITTLE_ENDIAN = ByteOrder.nativeOrder() == LE;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;

    /** {@code dotRows} calls of at most this many rows take the small-call path (an HNSW node has up to 2M = 32). */
    static final int SMALL_ROW_SET = 64;

    private final Capabilities caps;
    private final SimdState state;
    // what the capabilities declare for dotRows, read once for its small-call path
    private final Set<ElementType> smallKeyTypes;
    private final long smallMaxRows;
    private final long smallMaxCols;
    // what the capabilities declare for codeDotRows, read once for its direct check
    private final boolean codeDeclared;
    private final long codeMaxRows;
    private final long codeMaxCols;

    SimdRelevancyOps(Capabilities caps, SimdState state) {
        this.state = state;
        this.caps = caps;
        Set<ElementType> keyTypes = EnumSet.noneOf(ElementType.class);
        boolean f32 = caps.supports(Op.DOT_ROWS) && caps.supports(Op.DOT_ROWS, ElementType.F32)
                && caps.writes(Op.DOT_ROWS, ElementType.F32)
                && Op.DOT_ROWS.descriptor().outputTypes().contains(ElementType.F32);
        for (ElementType t : ElementType.values()) {
            if (f32 && caps.supports(Op.DOT_ROWS, t)) {
                keyTypes.add(t);
            }
        }
        this.smallKeyTypes = keyTypes;
        this.smallMaxRows = f32 ? caps.limits(Op.DOT_ROWS).maxRows() : 0;
        this.smallMaxCols = f32 ? caps.limits(Op.DOT_ROWS).maxCols() : 0;
        this.codeDeclared = caps.supports(Op.CODE_DOT_ROWS) && caps.supports(Op.CODE_DOT_ROWS, ElementType.I8)
                && caps.writes(Op.CODE_DOT_ROWS, ElementType.F32);
        this.codeMaxRows = codeDeclared ? caps.limits(Op.CODE_DOT_ROWS).maxRows() : 0;
        this.codeMaxCols = codeDeclared ? caps.limits(Op.CODE_DOT_ROWS).maxCols() : 0;
    }

    @Override
    public void dot(Tensor q, Tensor m, Tensor s) {
        state.ensureOpen("dot");
        OpArgs.dot(caps, q, m, s);
        scores(q, m, s, false);
    }

    @Override
    public void cosine(Tensor q, Tensor m, Tensor s) {
        state.ensureOpen("cosine");
        OpArgs.cosine(caps, q, m, s);
        scores(q, m, s, true);
    }

    @Override
    public void dotRows(Tensor q, Tensor keys, Indices rowIds, Tensor s) {
        state.ensureOpen("dotRows");
        if (smallFloatCall(q, keys, rowIds, s)) {
            // an HNSW walk scores a node's few dozen neighbours thousands of times a search: no generic check
            // (its maps cost more than the scores), no parallel split set-up, the caller's thread, and heap arrays
            // read and written in place
            smallFloatRows(q, keys, rowIds, s);
            return;
        }
        OpArgs.check(caps, Op.DOT_ROWS, q, keys, rowIds, s);
        boolean exact = q.type().isQuantized() && keys.type().isQuantized();
        MemorySegment[] touched = {q.data(), q.scales(), keys.data(), keys.scales(), rowIds.data(), s.data()};
        // Rows are scored four at a time so that their cache misses overlap (an HNSW walk's neighbours are far
        // apart in memory); large sets split over the cores like the scans.
        if (exact) {
            exactRowScores(q, keys, rowIds, s, touched);
        } else {
            floatRowScores(q, keys, rowIds, s, touched);
        }
    }

    /**
     * Four listed rows at a time on the calling thread ({@link SimdCodeDots}): a quantized HNSW walk calls it once per
     * visited node, with a few dozen rows, so a valid call is recognized by a direct check (as {@code dotRows}' small
     * calls are) and anything else goes through the generic check, which words every error.
     */
    @Override
    public void codeDotRows(Tensor queryCodes, Tensor codes, int bits, Indices rowIds, Tensor s) {
        state.ensureOpen("codeDotRows");
        if (!validCodeCall(queryCodes, codes, bits, rowIds, s)) {
            OpArgs.codeDotRows(caps, queryCodes, codes, bits, rowIds, s);
        }
        SimdCodeDots.rows(queryCodes, codes, bits, rowIds, s);
    }

    /** Whether every condition of {@code OpArgs.codeDotRows} holds, checked without its generic machinery. */
    private boolean validCodeCall(Tensor queryCodes, Tensor codes, int bits, Indices rowIds, Tensor s) {
        if (!codeDeclared || queryCodes == null || codes == null || rowIds == null || s == null
                || (bits != 4 && bits != 8)) {
            return false;
        }
        int count = rowIds.length();
        int p = queryCodes.cols();
        if (queryCodes.type() != ElementType.I8 || codes.type() != ElementType.I8 || s.type() != ElementType.F32
                || queryCodes.rows() != 1 || s.rows() != 1 || s.cols() != count || codes.cols() != p
                || p > OpArgs.maxCodeBytes(bits) || codes.rows() > codeMaxRows || p > codeMaxCols
                || count > codeMaxCols) {
            return false;
        }
        if (!queryCodes.isAlive() || !codes.isAlive() || !rowIds.isAlive() || !s.isAlive()) {
            return false;
        }
        long n = codes.rows();
        int[] ids = heapInts(rowIds.data(), count);
        for (int i = 0; i < count; i++) {
            int r = ids != null ? ids[i] : rowIds.get(i);
            if (r < 0 || r >= n) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether this is a valid call of at most {@link #SMALL_ROW_SET} rows with an F32 query and F32 scores, checked
     * directly: every condition of the generic check for such a call (types declared, memory alive, shapes, limits,
     * row ids in range). Anything else, valid or not, goes through the generic check, which also words every error.
     */
    private boolean smallFloatCall(Tensor q, Tensor keys, Indices rowIds, Tensor s) {
        if (q == null || keys == null || rowIds == null || s == null) {
            return false;
        }
        int count = rowIds.length();
        if (count > SMALL_ROW_SET || q.type() != ElementType.F32 || s.type() != ElementType.F32 || q.rows() != 1
                || s.rows() != 1 || s.cols() != count || keys.cols() != q.cols() || !smallKeyTypes.contains(keys.type())
                || keys.rows() > smallMaxRows || keys.cols() > smallMaxCols || count > smallMaxCols) {
            return false;
        }
        if (!q.isAlive() || !keys.isAlive() || !rowIds.isAlive() || !s.isAlive()) {
            return false;
        }
        long n = keys.rows();
        int[] ids = heapInts(rowIds.data(), count); // an HNSW walk's own array: read without a segment check each
        for (int i = 0; i < count; i++) {
            int r = ids != null ? ids[i] : rowIds.get(i);
            if (r < 0 || r >= n) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@link #floatRowScores} of a small call on this thread. A query, row ids or scores that wrap a Java array from
     * its first element (an HNSW walk's) are used in place: no decoding copy of the query (unless 16-bit keys want
     * it laid out in pairs), no staging of the scores.
     */
    private static void smallFloatRows(Tensor q, Tensor keys, Indices rowIds, Tensor s) {
        int d = q.cols();
        int count = rowIds.length();
        ElementType type = keys.type();
        float[] query = type.byteSize() == 2 ? null : heapFloats(q.data(), d);
        if (query == null) {
            query = queries(q, 0, 1, type, false)[0];
        }
        int[] ids = heapInts(rowIds.data(), count);
        float[] out = heapFloats(s.data(), count);
        boolean inPlace = out != null;
        if (!inPlace) {
            out = new float[count];
        }
        MemorySegment seg = keys.data();
        long stride = keys.rowStride();
        boolean quantized = type.isQuantized();
        // groups of four rows; the last one to three rows go as the call's last four, so that their cache misses
        // overlap as a group's do (one row at a time, the tails of an HNSW walk's calls took a tenth of an F32
        // walk); a row scored twice gets the same score twice, from the same kernel
        if (count >= 4) {
            int groups = (count + 3) / 4;
            SimdDotKernels.Groups rows = SimdDotKernels.Groups.mine(groups);
            for (int g = 0; g < groups; g++) {
                int first = Math.min(4 * g, count - 4);
                for (int k = 0; k < 4; k++) {
                    int r = ids != null ? ids[first + k] : rowIds.get(first + k);
                    rows.set(g, k, r * stride, rowScale(keys, quantized, r));
                }
            }
            SimdDotKernels.rows(type, query, d, seg, rows, 0, count / 4, out, 0, 4, 1);
            if (count % 4 != 0) { // the last group overlaps the one before it
                SimdDotKernels.rows(type, query, d, seg, rows, groups - 1, 1, out, count - 4, 4, 1);
            }
        }
        for (int j = 0; count < 4 && j < count; j++) { // a call of fewer than four rows: one at a time
            int r = ids != null ? ids[j] : rowIds.get(j);
            out[j] = SimdDotKernels.row(type, query, d, seg, r * stride, rowScale(keys, quantized, r), null, 0);
        }
        if (!inPlace) {
            storeRow(s, 0, 0, out, 0, count);
        }
    }

    /** The float[] behind a heap segment from its first element, of at least {@code length}, or null. */
    private static float[] heapFloats(MemorySegment segment, int length) {
        return inPlace(segment) && segment.heapBase().orElse(null) instanceof float[] a && a.length >= length ? a
                : null;
    }

    /** The int[] behind a heap segment from its first element, of at least {@code length}, or null. */
    private static int[] heapInts(MemorySegment segment, int length) {
        return inPlace(segment) && segment.heapBase().orElse(null) instanceof int[] a && a.length >= length ? a
                : null;
    }

    /** Whether a heap segment's array may be used as the tensor: from its start, on a little-endian machine. */
    private static boolean inPlace(MemorySegment segment) {
        return NATIVE_LITTLE_ENDIAN && segment.address() == 0; // tensors are little-endian, arrays native
    }

    private static void floatRowScores(Tensor q, Tensor keys, Indices rowIds, Tensor s, MemorySegment[] touched) {
        int d = q.cols();
        ElementType type = keys.type();
        float[] query = queries(q, 0, 1, type, false)[0];
        MemorySegment seg = keys.data();
        long stride = keys.rowStride();
        boolean quantized = type.isQuantized();
        Parallel.RangeBody body = (from, to) -> {
            float[] out = new float[(int) Math.min(BLOCK, to - from)];
            for (long j0 = from; j0 < to; j0 += BLOCK) {
                int count = (int) Math.min(BLOCK, to - j0);
                int groups = count / 4;
                SimdDotKernels.Groups rows = SimdDotKernels.Groups.mine(groups);
                for (int j = 0; j < 4 * groups; j++) {
                    int r = rowIds.get((int) j0 + j);
                    rows.set(j / 4, j % 4, r * stride, rowScale(keys, quantized, r));
                }
                SimdDotKernels.rows(type, query, d, seg, rows, 0, groups, out, 0, 4, 1);
                int j = 4 * groups;
                for (; j < count; j++) {
                    int r = rowIds.get((int) j0 + j);
                    out[j] = SimdDotKernels.row(type, query, d, seg, r * stride, rowScale(keys, quantized, r), null,
                            0);
                }
                storeRow(s, 0, j0, out, 0, count);
            }
        };
        forRange(rowIds.length(), grain(d), 4, touched, body);
    }

    /** Integer-by-integer rows: exact long sums of code products, scaled once in double, as {@link #exactScores}. */
    private static void exactRowScores(Tensor q, Tensor keys, Indices rowIds, Tensor s, MemorySegment[] touched) {
        int d = q.cols();
        ElementType keyType = keys.type();
        boolean bytePair = q.type() == ElementType.I8 && keyType == ElementType.I8;
        int[] codes = new int[d];
        float[] codesF = new float[d];
        for (int i = 0; i < d; i++) {
            codes[i] = q.code(0, i);
            codesF[i] = codes[i];
        }
        double qScale = q.scale(0);
        MemorySegment seg = keys.data();
        long stride = keys.rowStride();
        forRange(rowIds.length(), grain(d), 4, touched, (from, to) -> {
            int size = (int) Math.min(BLOCK, to - from);
            long[] sums = new long[size];
            float[] out = new float[size];
            for (long j0 = from; j0 < to; j0 += BLOCK) {
                int count = (int) Math.min(BLOCK, to - j0);
                int j = 0;
                if (bytePair) {
                    for (; j + 4 <= count; j += 4) {
                        SimdDotKernels.exactI8Rows4(codesF, d, seg, rowIds.get((int) j0 + j) * stride,
                                rowIds.get((int) j0 + j + 1) * stride, rowIds.get((int) j0 + j + 2) * stride,
                                rowIds.get((int) j0 + j + 3) * stride, sums, j, 1);
                    }
                    for (; j < count; j++) {
                        sums[j] = SimdDotKernels.exactI8Row(codesF, d, seg, rowIds.get((int) j0 + j) * stride);
                    }
                } else {
                    for (; j < count; j++) {
                        sums[j] = SimdDotKernels.exactIntRow(codes, d, keyType, seg, rowIds.get((int) j0 + j) * stride);
                    }
                }
                for (j = 0; j < count; j++) {
                    out[j] = (float) (sums[j] * qScale * keys.scale(rowIds.get((int) j0 + j)));
                }
                storeRow(s, 0, j0, out, 0, count);
            }
        });
    }

    private static float rowScale(Tensor keys, boolean quantized, int row) {
        return quantized ? keys.scale(row) : 1f;
    }

    @Override
    public void questBound(Tensor q, Tensor min, Tensor max, Tensor s) {
        state.ensureOpen("questBound");
        OpArgs.questBound(caps, q, min, max, s);
        // One scan per KV head over its band of the summaries.
        int d = q.cols();
        for (int j = 0; j < q.rows(); j++) {
            boundPages(q.rowSlice(j, j + 1), min.columns(j * d, d), max.columns(j * d, d), s.rowSlice(j, j + 1));
        }
    }

    private static void boundPages(Tensor q, Tensor min, Tensor max, Tensor s) {
        int d = q.cols();
        float[] query = new float[d];
        SimdRows.decode(q, 0, query);
        boolean f32 = min.type() == ElementType.F32 && max.type() == ElementType.F32;
        forRange(min.rows(), grain(2L * d), 1, touched(q, min, max, s), (from, to) -> {
            float[] out = new float[BLOCK];
            float[] lo = f32 ? null : new float[d];
            float[] hi = f32 ? null : new float[d];
            for (long p0 = from; p0 < to; p0 += BLOCK) {
                int count = (int) Math.min(BLOCK, to - p0);
                if (f32) {
                    SimdDotKernels.questBoundF32(query, d, min.data(), p0 * min.rowStride(), min.rowStride(),
                            max.data(), p0 * max.rowStride(), max.rowStride(), count, out);
                } else {
                    for (int k = 0; k < count; k++) {
                        SimdRows.decode(min, p0 + k, lo);
                        SimdRows.decode(max, p0 + k, hi);
                        out[k] = SimdDotKernels.questBound(query, lo, hi, d);
                    }
                }
                storeRow(s, 0, p0, out, 0, count);
            }
        });
    }

    @Override
    public void groupMax(Tensor s, int groupSize, Tensor y) {
        state.ensureOpen("groupMax");
        OpArgs.groupMax(caps, s, groupSize, y);
        for (long j = 0; j < s.rows(); j++) {
            groupMaxima(s.rowSlice(j, j + 1), groupSize, y.rowSlice(j, j + 1));
        }
    }

    private static void groupMaxima(Tensor s, int groupSize, Tensor y) {
        int n = s.cols();
        long groups = OpArgs.ceilDiv(n, groupSize);
        forRange(groups, Math.max(1, 16 * READ_BLOCK / groupSize), 1, touched(s, y), (gFrom, gTo) -> {
            long from = gFrom * groupSize;
            long to = Math.min(gTo * groupSize, n);
            float[] buf = new float[(int) Math.min(READ_BLOCK, to - from)];
            long group = gFrom;
            float best = Float.NEGATIVE_INFINITY;
            for (long b = from; b < to; b += buf.length) {
                int len = (int) Math.min(buf.length, to - b);
                readRow0(s, b, buf, len);
                int i = 0;
                while (i < len) {
                    long groupEnd = Math.min((group + 1) * groupSize, n);
                    int stop = (int) Math.min(len, groupEnd - b);
                    best = Math.max(best, SimdDotKernels.max(buf, i, stop));
                    i = stop;
                    if (b + i == groupEnd) {
                        SimdRows.store(y, 0, (int) group, best);
                        group++;
                        best = Float.NEGATIVE_INFINITY;
                    }
                }
            }
        });
    }

    @Override
    public void indexerScore(Tensor q, Tensor w, Tensor keys, Tensor kScale, Tensor s) {
        state.ensureOpen("indexerScore");
        OpArgs.indexerScore(caps, q, w, keys, kScale, s);
        indexerScores(q, w, keys, kScale, s);
    }

    private static void indexerScores(Tensor q, Tensor w, Tensor keys, Tensor kScale, Tensor s) {
        int heads = (int) q.rows();
        int d = q.cols();
        float[][] qs = queries(q, 0, heads, keys.type(), false);
        float[] weights = new float[heads];
        SimdRows.decode(w, 0, weights);
        // All H heads are scored per key row while it is in L1 (four per load), then combined per row.
        forRange(keys.rows(), grain((long) Math.max(1, heads) * d), 1, touched(q, w, keys, kScale, s),
                (from, to) -> {
            float[] dots = new float[Math.max(1, heads) * BLOCK];
            float[] rowScale = new float[BLOCK];
            float[] out = new float[BLOCK];
            if (kScale == null) {
                Arrays.fill(rowScale, 1f);
            }
            for (long r0 = from; r0 < to; r0 += BLOCK) {
                int count = (int) Math.min(BLOCK, to - r0);
                SimdDotKernels.scan(keys.type(), qs, d, keys.data(), r0 * keys.rowStride(), keys.rowStride(),
                        keys.scales(), r0, count, dots, BLOCK, null);
                if (kScale != null) {
                    readRow0(kScale, r0, rowScale, count);
                }
                for (int r = 0; r < count; r++) {
                    double sum = 0;
                    for (int h = 0; h < heads; h++) {
                        sum += weights[h] * Math.max(0.0, (double) rowScale[r] * dots[h * BLOCK + r]);
                    }
                    out[r] = (float) sum;
                }
                storeRow(s, 0, r0, out, 0, count);
            }
        });
    }

    @Override
    public void softmax(Tensor s, float scale, Tensor p) {
        state.ensureOpen("softmax");
        OpArgs.softmax(caps, s, scale, p);
        softmaxInto(s, scale, p);
    }

    private static void softmaxInto(Tensor s, float scale, Tensor p) {
        int n = s.cols();
        // Pass 1: the largest scale*s_i is scale*max(s) or scale*min(s) by scale's sign. Products of two f32
        // are exact in double, so scale*s_i - shift cannot overflow, even for scores like 1e30 * 1e10.
        float[] buf = new float[Math.min(n, READ_BLOCK)];
        float hi = Float.NEGATIVE_INFINITY;
        float lo = Float.POSITIVE_INFINITY;
        for (int b = 0; b < n; b += buf.length) {
            int len = Math.min(buf.length, n - b);
            readRow0(s, b, buf, len);
            hi = Math.max(hi, SimdDotKernels.max(buf, 0, len));
            lo = Math.min(lo, SimdDotKernels.min(buf, 0, len));
        }
        double factor = scale;
        double shift = factor * (scale >= 0 ? hi : lo);
        // Pass 2: per-block sums of exp(scale*s_i - shift), added in block order: the total does not depend
        // on how the blocks were split over threads.
        double[] partial = new double[(n + READ_BLOCK - 1) / READ_BLOCK];
        forRange(n, 16 * READ_BLOCK, READ_BLOCK, touched(s), (from, to) -> {
            float[] in = new float[READ_BLOCK];
            double[] e = new double[READ_BLOCK];
            for (long b = from; b < to; b += READ_BLOCK) {
                int len = (int) Math.min(READ_BLOCK, to - b);
                readRow0(s, b, in, len);
                partial[(int) (b / READ_BLOCK)] = expShifted(in, len, factor, shift, e);
            }
        });
        double total = 0;
        for (double x : partial) {
            total += x;
        }
        double inverse = 1 / total;
        // Pass 3: recompute the exponentials (cheaper than keeping n doubles) and normalize; p may be s.
        forRange(n, 16 * READ_BLOCK, READ_BLOCK, touched(s, p), (from, to) -> {
            float[] in = new float[READ_BLOCK];
            double[] e = new double[READ_BLOCK];
            for (long b = from; b < to; b += READ_BLOCK) {
                int len = (int) Math.min(READ_BLOCK, to - b);
                readRow0(s, b, in, len);
                expShifted(in, len, factor, shift, e);
                for (int i = 0; i < len; i++) {
                    in[i] = (float) (e[i] * inverse);
                }
                storeRow(p, 0, b, in, 0, len);
            }
        });
    }

    @Override
    public void bm25Score(Indices query, Bm25Index index, Bm25Params params, Tensor s) {
        state.ensureOpen("bm25Score");
        OpArgs.bm25Score(caps, query, index, params, s);
        double[] scores = SimdBm25Scorer.score(query, index, params);
        storeRow(s, 0, 0, toFloats(scores), 0, scores.length);
    }

    private static float[] toFloats(double[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) x[i];
        }
        return out;
    }

    // ---- dot and cosine ----

    private static void scores(Tensor q, Tensor m, Tensor s, boolean cosine) {
        boolean exact = q.type().isQuantized() && m.type().isQuantized();
        for (long j0 = 0; j0 < q.rows(); j0 += QUERY_GROUP) {
            int count = (int) Math.min(QUERY_GROUP, q.rows() - j0);
            if (exact) {
                exactScores(q, j0, count, m, s, cosine);
            } else {
                floatScores(q, j0, count, m, s, cosine);
            }
        }
    }

    /**
     * Decodes queries {@code [j0, j0+count)} and lays them out for {@code keyType}'s kernels; for cosine
     * each is divided by its norm first (in double), so the kernels' products stay near the keys' magnitude.
     */
    private static float[][] queries(Tensor q, long j0, int count, ElementType keyType, boolean unit) {
        int d = q.cols();
        float[][] qs = new float[count][];
        float[] row = new float[d];
        for (int j = 0; j < count; j++) {
            SimdRows.decode(q, j0 + j, row);
            if (unit) {
                double norm = Math.sqrt(squaredNorm(row, d));
                for (int i = 0; i < d; i++) {
                    row[i] = norm == 0 ? 0f : (float) (row[i] / norm);
                }
            }
            qs[j] = SimdDotKernels.layout(row, d, keyType);
        }
        return qs;
    }

    private static void floatScores(Tensor q, long j0, int mq, Tensor m, Tensor s, boolean cosine) {
        int d = q.cols();
        ElementType keyType = m.type();
        float[][] qs = queries(q, j0, mq, keyType, cosine);
        float[][] unit = cosine ? queries(q, j0, mq, ElementType.F32, true) : null;
        boolean[] zeroQuery = new boolean[mq];
        for (int j = 0; cosine && j < mq; j++) {
            zeroQuery[j] = SimdDotKernels.max(unit[j], 0, d) == 0 && SimdDotKernels.min(unit[j], 0, d) == 0;
        }
        boolean doubleCosine = cosine && d < COSINE_F32_MIN_WIDTH;
        forRange(m.rows(), grain((long) mq * d), 1, touched(q, m, s), (from, to) -> {
            // a block's scores per query, no wider than the range: a call over one row (an append's norm) then
            // allocates a few bytes, not mq * 4 KB
            int stride = (int) Math.min(BLOCK, to - from);
            float[] out = new float[mq * stride];
            float[] norms = cosine ? new float[stride] : null;
            float[] row = cosine ? new float[d] : null;
            for (long r0 = from; r0 < to; r0 += BLOCK) {
                int count = (int) Math.min(BLOCK, to - r0);
                if (!doubleCosine) {
                    SimdDotKernels.scan(keyType, qs, d, m.data(), r0 * m.rowStride(), m.rowStride(), m.scales(),
                            r0, count, out, stride, norms);
                }
                if (cosine) {
                    for (int r = 0; r < count; r++) {
                        float n2 = doubleCosine ? 0f : norms[r];
                        if (n2 >= Float.MIN_NORMAL && n2 < Float.POSITIVE_INFINITY) {
                            double norm = Math.sqrt(n2);
                            for (int j = 0; j < mq; j++) {
                                out[j * stride + r] = (float) (out[j * stride + r] / norm);
                            }
                        } else {
                            // zero, tiny or huge rows, and narrow ones: all in double from the decoded row
                            cosineInDouble(unit, m, r0 + r, row, out, stride, r);
                        }
                        for (int j = 0; j < mq; j++) {
                            if (zeroQuery[j]) {
                                out[j * stride + r] = 0f; // 0 when the query's norm is 0, whatever the row holds
                            }
                        }
                    }
                }
                for (int j = 0; j < mq; j++) {
                    storeRow(s, j0 + j, r0, out, j * stride, count);
                }
            }
        });
    }

    private static void cosineInDouble(float[][] unit, Tensor m, long r, float[] row, float[] out, int os, int o) {
        int d = m.cols();
        SimdRows.decode(m, r, row);
        double norm = Math.sqrt(squaredNorm(row, d));
        for (int j = 0; j < unit.length; j++) {
            double dot = 0;
            for (int i = 0; i < d; i++) {
                dot += (double) unit[j][i] * row[i];
            }
            out[j * os + o] = norm == 0 ? 0f : (float) (dot / norm);
        }
    }

    private static double squaredNorm(float[] x, int d) {
        double sum = 0;
        for (int i = 0; i < d; i++) {
            sum += (double) x[i] * x[i];
        }
        return sum;
    }

    /**
     * Integer-by-integer: exact long sums of code products, scaled once, {@code sum * scale_q * scale_m} in
     * double (as the reference), then rounded to the output. Cosine divides by the exact code norms, so the
     * scales cancel to their sign.
     */
    private static void exactScores(Tensor q, long j0, int mq, Tensor m, Tensor s, boolean cosine) {
        int d = q.cols();
        ElementType keyType = m.type();
        boolean bytePair = q.type() == ElementType.I8 && keyType == ElementType.I8;
        float[][] codesF = new float[mq][d];
        int[][] codes = new int[mq][d];
        double[] qScale = new double[mq];
        double[] qNorm = new double[mq];
        for (int j = 0; j < mq; j++) {
            long sq = 0;
            for (int i = 0; i < d; i++) {
                int c = q.code(j0 + j, i);
                codes[j][i] = c;
                codesF[j][i] = c;
                sq += (long) c * c;
            }
            qScale[j] = q.scale(j0 + j);
            qNorm[j] = Math.sqrt(sq);
        }
        MemorySegment seg = m.data();
        long stride = m.rowStride();
        forRange(m.rows(), grain((long) mq * d), 1, touched(q, m, s), (from, to) -> {
            long[] sums = new long[mq * BLOCK];
            float[] out = new float[mq * BLOCK];
            for (long r0 = from; r0 < to; r0 += BLOCK) {
                int count = (int) Math.min(BLOCK, to - r0);
                long off = r0 * stride;
                int h = count / 4; // four quarters side by side, as SimdDotKernels.scan does
                for (int j = 0; j < mq; j++) {
                    int r = 0;
                    if (bytePair) {
                        for (; r < h; r++) {
                            SimdDotKernels.exactI8Rows4(codesF[j], d, seg, off + r * stride, h * stride, sums,
                                    j * BLOCK + r, h);
                        }
                        r = 4 * h;
                        for (; r < count; r++) {
                            sums[j * BLOCK + r] = SimdDotKernels.exactI8Row(codesF[j], d, seg, off + r * stride);
                        }
                    } else {
                        for (; r < count; r++) {
                            sums[j * BLOCK + r] = SimdDotKernels.exactIntRow(codes[j], d, keyType, seg,
                                    off + r * stride);
                        }
                    }
                }
                for (int r = 0; r < count; r++) {
                    double mScale = m.scale(r0 + r);
                    double mNorm = cosine ? Math.sqrt(SimdDotKernels.codeNormSquared(keyType, seg,
                            off + r * stride, d)) : 0;
                    for (int j = 0; j < mq; j++) {
                        double dot = sums[j * BLOCK + r] * qScale[j] * mScale;
                        double denominator = qNorm[j] * Math.abs(qScale[j]) * mNorm * Math.abs(mScale);
                        out[j * BLOCK + r] = !cosine ? (float) dot
                                : denominator == 0 ? 0f : (float) (dot / denominator);
                    }
                }
                for (int j = 0; j < mq; j++) {
                    storeRow(s, j0 + j, r0, out, j * BLOCK, count);
                }
            }
        });
    }

    /**
     * {@link Parallel#forRange(long, long, long, Parallel.RangeBody)} when every touched segment may be used by
     * the pool's threads; on the calling thread when one belongs to a confined arena.
     */
    private static void forRange(long n, long grain, long align, MemorySegment[] touched, Parallel.RangeBody body) {
        if (Parallel.shareable(touched)) {
            Parallel.forRange(n, grain, align, body);
        } else {
            Parallel.forRangeHere(n, grain, align, body);
        }
    }

    /** The data and scale segments of the tensors an op touches (null tensors are skipped). */
    private static MemorySegment[] touched(Tensor... tensors) {
        MemorySegment[] out = new MemorySegment[2 * tensors.length];
        for (int i = 0; i < tensors.length; i++) {
            if (tensors[i] != null) {
                out[2 * i] = tensors[i].data();
                out[2 * i + 1] = tensors[i].scales();
            }
        }
        return out;
    }

    /** Rows per parallel chunk at least: {@link #MIN_WORK} multiply-adds, and one block. */
    private static long grain(long workPerRow) {
        return Math.max(BLOCK, MIN_WORK / Math.max(1, workPerRow));
    }

    // ---- softmax ----

    /** {@code e[i] = exp(factor * s[i] - shift)} for {@code i < len}; returns their sum. */
    private static double expShifted(float[] s, int len, double factor, double shift, double[] e) {
        for (int i = 0; i < len; i++) {
            e[i] = factor * s[i] - shift;
        }
        DoubleVector acc = DoubleVector.zero(D);
        int i = 0;
        for (int bound = len - D.length(); i <= bound; i += D.length()) {
            DoubleVector v = DoubleVector.fromArray(D, e, i).lanewise(VectorOperators.EXP);
            v.intoArray(e, i);
            acc = acc.add(v);
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < len; i++) {
            e[i] = Math.exp(e[i]);
            sum += e[i];
        }
        return sum;
    }

    // ---- reading and writing vectors ----

    /** Decodes elements {@code [col, col+len)} of row 0 of {@code t} into {@code dst}. */
    private static void readRow0(Tensor t, long col, float[] dst, int len) {
        MemorySegment seg = t.data();
        long at = col * t.type().byteSize();
        switch (t.type()) {
            case F32 -> MemorySegment.copy(seg, F32, at, dst, 0, len);
            case F16 -> {
                for (int i = 0; i < len; i++) {
                    dst[i] = Float.float16ToFloat(seg.get(I16, at + 2L * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < len; i++) {
                    dst[i] = FloatFormats.bf16ToFloat(seg.get(I16, at + 2L * i));
                }
            }
            case I8 -> {
                float scale = t.scale(0);
                for (int i = 0; i < len; i++) {
                    dst[i] = seg.get(ValueLayout.JAVA_BYTE, at + i) * scale;
                }
            }
            case I16 -> {
                float scale = t.scale(0);
                for (int i = 0; i < len; i++) {
                    dst[i] = seg.get(I16, at + 2L * i) * scale;
                }
            }
        }
    }

    /** Stores {@code src[from, from+len)} into row {@code row} of a float output from column {@code col}. */
    private static void storeRow(Tensor t, long row, long col, float[] src, int from, int len) {
        MemorySegment seg = t.data();
        long at = row * t.rowStride() + col * t.type().byteSize();
        switch (t.type()) {
            case F32 -> MemorySegment.copy(src, from, seg, F32, at, len);
            case F16 -> {
                for (int i = 0; i < len; i++) {
                    seg.set(I16, at + 2L * i, Float.floatToFloat16(src[from + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < len; i++) {
                    seg.set(I16, at + 2L * i, FloatFormats.floatToBf16(src[from + i]));
                }
            }
            default -> throw new IllegalStateException("outputs are float types, got " + t.type());
        }
    }
}
