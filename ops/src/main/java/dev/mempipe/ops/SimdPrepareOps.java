package dev.mempipe.ops;

import static dev.mempipe.ops.SimdRows.F;
import static dev.mempipe.ops.SimdRows.LANES;

import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.OpArgs;
import dev.mempipe.spi.PoolMode;
import dev.mempipe.spi.PrepareOps;
import dev.mempipe.spi.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Stage 1 on the Vector API. Every op decodes input rows into f32 scratch with {@link SimdRows#decode}, so
 * each element type is handled once, and splits large inputs over rows (or pages) with {@link Parallel};
 * each output row is computed by one thread from its own inputs only, so results do not depend on the split.
 */
final class SimdPrepareOps implements PrepareOps {
    /** Elements a parallel chunk should cover at least: below this, forking costs more than it saves. */
    private static final long MIN_ELEMENTS_PER_CHUNK = 1 << 14;
    /**
     * Adding then subtracting 1.5 * 2^23 rounds an f32 of magnitude below 2^22 to an integer, ties to even
     * (the FPU's own rounding mode); the Vector API has no lane-wise rint. Quantized values are at most a few
     * times maxCode, far below 2^22.
     */
    private static final float ROUND_MAGIC = 0x1.8p23f;

    private final Capabilities caps;
    private final SimdState state;
    /** Widest F32 row a one-vector {@code l2Normalize} may take on its direct path; 0 when F32 is not declared. */
    private final long oneRowMaxCols;

    SimdPrepareOps(Capabilities caps, SimdState state) {
        this.state = state;
        this.caps = caps;
        boolean f32 = caps.supports(Op.L2_NORMALIZE) && caps.supports(Op.L2_NORMALIZE, ElementType.F32)
                && caps.writes(Op.L2_NORMALIZE, ElementType.F32)
                && Op.L2_NORMALIZE.descriptor().outputTypes().contains(ElementType.F32)
                && caps.limits(Op.L2_NORMALIZE).maxRows() >= 1;
        this.oneRowMaxCols = f32 ? caps.limits(Op.L2_NORMALIZE).maxCols() : 0;
    }

    @Override
    public void pageMinMax(Tensor keys, int pageSize, Tensor min, Tensor max) {
        state.ensureOpen("pageMinMax");
        OpArgs.pageMinMax(caps, keys, pageSize, min, max);
        minMaxPages(keys, 0, pageSize, min, max);
    }

    @Override
    public void pageMinMaxAppend(Tensor keys, long fromRow, int pageSize, Tensor min, Tensor max) {
        state.ensureOpen("pageMinMaxAppend");
        OpArgs.pageMinMaxAppend(caps, keys, fromRow, pageSize, min, max);
        minMaxPages(keys, fromRow, pageSize, min, max);
    }

    /**
     * Writes every page holding a row {@code >= fromRow}. The first such page, when it also holds older rows,
     * starts from its stored summary: min/max commute with the monotonic F16/BF16 rounding, so merging the
     * rounded summary gives the same bits as a batch pass over all rows.
     */
    private static void minMaxPages(Tensor keys, long fromRow, int pageSize, Tensor min, Tensor max) {
        long rows = keys.rows();
        if (fromRow >= rows) {
            return;
        }
        long firstPage = fromRow / pageSize;
        long pages = OpArgs.ceilDiv(rows, pageSize) - firstPage;
        int d = keys.cols();
        long grain = Math.max(1, MIN_ELEMENTS_PER_CHUNK / Math.max(1, (long) pageSize * d));
        Parallel.forRange(pages, grain, (from, to) -> {
            float[] row = new float[d];
            float[] lo = new float[d];
            float[] hi = new float[d];
            for (long p = firstPage + from; p < firstPage + to; p++) {
                long start = p * pageSize;
                long end = Math.min(start + pageSize, rows);
                long r = start;
                if (start < fromRow) {
                    SimdRows.decode(min, p, lo);
                    SimdRows.decode(max, p, hi);
                    r = fromRow;
                } else {
                    SimdRows.decode(keys, r, lo);
                    System.arraycopy(lo, 0, hi, 0, d);
                    r++;
                }
                for (; r < end; r++) {
                    SimdRows.decode(keys, r, row);
                    minMaxInto(row, lo, hi, d);
                }
                SimdRows.encode(lo, min, p);
                SimdRows.encode(hi, max, p);
            }
        }, touched(keys, min, max));
    }

    private static void minMaxInto(float[] row, float[] lo, float[] hi, int d) {
        int i = 0;
        for (int bound = F.loopBound(d); i < bound; i += LANES) {
            FloatVector x = FloatVector.fromArray(F, row, i);
            FloatVector.fromArray(F, lo, i).min(x).intoArray(lo, i);
            FloatVector.fromArray(F, hi, i).max(x).intoArray(hi, i);
        }
        for (; i < d; i++) {
            lo[i] = Math.min(lo[i], row[i]);
            hi[i] = Math.max(hi[i], row[i]);
        }
    }

    @Override
    public void pagePool(Tensor keys, int pageSize, PoolMode mode, Tensor out) {
        state.ensureOpen("pagePool");
        OpArgs.pagePool(caps, keys, pageSize, mode, out);
        long rows = keys.rows();
        int d = keys.cols();
        long grain = Math.max(1, MIN_ELEMENTS_PER_CHUNK / Math.max(1, (long) pageSize * d));
        Parallel.forRange(out.rows(), grain, (from, to) -> {
            float[] row = new float[d];
            float[] acc = new float[d];
            for (long p = from; p < to; p++) {
                long start = p * pageSize;
                long end = Math.min(start + pageSize, rows);
                SimdRows.decode(keys, start, acc);
                for (long r = start + 1; r < end; r++) {
                    SimdRows.decode(keys, r, row);
                    poolInto(mode, row, acc, d);
                }
                if (mode == PoolMode.MEAN) {
                    // Divide rather than multiply by a reciprocal: one rounding instead of two.
                    float count = end - start;
                    int i = 0;
                    for (int bound = F.loopBound(d); i < bound; i += LANES) {
                        FloatVector.fromArray(F, acc, i).div(count).intoArray(acc, i);
                    }
                    for (; i < d; i++) {
                        acc[i] /= count;
                    }
                }
                SimdRows.encode(acc, out, p);
            }
        }, touched(keys, out));
    }

    private static void poolInto(PoolMode mode, float[] row, float[] acc, int d) {
        int i = 0;
        for (int bound = F.loopBound(d); i < bound; i += LANES) {
            FloatVector x = FloatVector.fromArray(F, row, i);
            FloatVector a = FloatVector.fromArray(F, acc, i);
            (switch (mode) {
                case MEAN -> a.add(x);
                case MAX -> a.max(x);
                case MIN -> a.min(x);
            }).intoArray(acc, i);
        }
        for (; i < d; i++) {
            acc[i] = switch (mode) {
                case MEAN -> acc[i] + row[i];
                case MAX -> Math.max(acc[i], row[i]);
                case MIN -> Math.min(acc[i], row[i]);
            };
        }
    }

    @Override
    public void project(Tensor x, Tensor w, Tensor y) {
        state.ensureOpen("project");
        OpArgs.project(caps, x, w, y);
        SimdPrepareProject.project(x, w, y);
    }

    @Override
    public void quantize(Tensor x, Tensor q) {
        state.ensureOpen("quantize");
        OpArgs.quantize(caps, x, q);
        quantizeRows(x, q);
    }

    @Override
    public void dequantize(Tensor q, Tensor y) {
        state.ensureOpen("dequantize");
        OpArgs.dequantize(caps, q, y);
        // Decoding an integer row is exactly code * scale in f32.
        decodeEncodeRows(q, y);
    }

    @Override
    public void convert(Tensor x, Tensor y) {
        state.ensureOpen("convert");
        OpArgs.convert(caps, x, y);
        if (y.type().isQuantized()) {
            quantizeRows(x, y);
        } else {
            decodeEncodeRows(x, y);
        }
    }

    private static void decodeEncodeRows(Tensor x, Tensor y) {
        int d = x.cols();
        Parallel.forRange(x.rows(), rowGrain(d), (from, to) -> {
            float[] row = new float[d];
            for (long r = from; r < to; r++) {
                SimdRows.decode(x, r, row);
                SimdRows.encode(row, y, r);
            }
        }, touched(x, y));
    }

    /** The contract's symmetric quantization, row by row; see {@link Tensor#quantizeCode}. */
    private static void quantizeRows(Tensor x, Tensor q) {
        int d = x.cols();
        ElementType type = q.type();
        float maxCode = type.maxCode();
        Parallel.forRange(x.rows(), rowGrain(d), (from, to) -> {
            float[] row = new float[d];
            for (long r = from; r < to; r++) {
                SimdRows.decode(x, r, row);
                float scale = maxAbs(row, d) / maxCode;
                int i = 0;
                if (scale == 0) {
                    Arrays.fill(row, 0f);
                } else {
                    for (int bound = F.loopBound(d); i < bound; i += LANES) {
                        FloatVector.fromArray(F, row, i).div(scale).add(ROUND_MAGIC).sub(ROUND_MAGIC)
                                .max(-maxCode).min(maxCode).intoArray(row, i);
                    }
                    for (; i < d; i++) {
                        row[i] = Tensor.quantizeCode(row[i], scale, (int) maxCode);
                    }
                }
                writeCodes(row, q, r);
                q.setScale(r, scale);
            }
        }, touched(x, q));
    }

    /** Stores integral f32 values (already rounded and clamped) as the row's codes; NaN becomes 0 as in a cast. */
    private static void writeCodes(float[] codes, Tensor q, long r) {
        MemorySegment seg = q.data();
        long base = r * q.rowStride();
        int d = q.cols();
        if (q.type() == ElementType.I8) {
            for (int i = 0; i < d; i++) {
                seg.set(ValueLayout.JAVA_BYTE, base + i, (byte) (int) codes[i]);
            }
        } else {
            for (int i = 0; i < d; i++) {
                seg.set(ValueLayout.JAVA_SHORT_UNALIGNED, base + 2L * i, (short) (int) codes[i]);
            }
        }
    }

    private static float maxAbs(float[] row, int d) {
        FloatVector m = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(d); i < bound; i += LANES) {
            m = m.max(FloatVector.fromArray(F, row, i).abs());
        }
        float max = m.reduceLanes(VectorOperators.MAX);
        for (; i < d; i++) {
            max = Math.max(max, Math.abs(row[i]));
        }
        return max;
    }

    @Override
    public void l2Normalize(Tensor x, Tensor y) {
        state.ensureOpen("l2Normalize");
        if (oneFloatRow(x, y)) {
            // one F32 vector (a search's query): the generic check and the parallel loop cost more than the work
            int d = x.cols();
            float[] row = new float[d];
            MemorySegment.copy(x.data(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, row, 0, d);
            normalize(row, d);
            MemorySegment.copy(row, 0, y.data(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, d);
            return;
        }
        OpArgs.l2Normalize(caps, x, y);
        int d = x.cols();
        Parallel.forRange(x.rows(), rowGrain(d), (from, to) -> {
            float[] row = new float[d];
            for (long r = from; r < to; r++) {
                SimdRows.decode(x, r, row);
                normalize(row, d);
                SimdRows.encode(row, y, r);
            }
        }, touched(x, y));
    }

    /**
     * Whether this is a valid call on one F32 vector, checked directly: every condition of the generic check for it
     * (types declared, memory alive, shapes, limits). Anything else, valid or not, goes through the generic check,
     * which also words every error.
     */
    private boolean oneFloatRow(Tensor x, Tensor y) {
        return x != null && y != null && x.type() == ElementType.F32 && y.type() == ElementType.F32 && x.rows() == 1
                && y.rows() == 1 && x.cols() == y.cols() && x.cols() <= oneRowMaxCols && x.isAlive() && y.isAlive();
    }

    /**
     * Divides by the norm. The sum of squares is f32; when it overflows or loses precision to underflow (a row
     * of values near 1e20 or 1e-20), the row is first divided by its largest magnitude so that the result is
     * still the unit vector a careful user expects.
     */
    private static void normalize(float[] row, int d) {
        float sum = sumOfSquares(row, d);
        if (!(sum >= Float.MIN_NORMAL && sum < Float.POSITIVE_INFINITY)) {
            float m = maxAbs(row, d);
            if (m == 0) {
                return; // a zero row stays zero
            }
            if (m < Float.POSITIVE_INFINITY) { // an infinite or NaN element leaves NaN/inf, as division does
                divide(row, d, m);
                sum = sumOfSquares(row, d);
            }
        }
        divide(row, d, (float) Math.sqrt(sum));
    }

    /** f32 sum of squares, reduced with {@link SimdRows#laneSum} so every call gives the same bits. */
    private static float sumOfSquares(float[] row, int d) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(d); i < bound; i += LANES) {
            FloatVector x = FloatVector.fromArray(F, row, i);
            acc = x.fma(x, acc);
        }
        float sum = SimdRows.laneSum(acc);
        for (; i < d; i++) {
            sum = Math.fma(row[i], row[i], sum);
        }
        return sum;
    }

    private static void divide(float[] row, int d, float by) {
        int i = 0;
        for (int bound = F.loopBound(d); i < bound; i += LANES) {
            FloatVector.fromArray(F, row, i).div(by).intoArray(row, i);
        }
        for (; i < d; i++) {
            row[i] /= by;
        }
    }

    @Override
    public void rope(Tensor x, Indices positions, float theta, Tensor y) {
        state.ensureOpen("rope");
        OpArgs.rope(caps, x, positions, theta, y);
        int d = x.cols();
        int half = d / 2;
        // theta^(-2i/d) once per call, in double as the contract says.
        double[] inverseFrequency = new double[half];
        for (int i = 0; i < half; i++) {
            inverseFrequency[i] = Math.pow(theta, -2.0 * i / d);
        }
        int[] pos = positions.toArray();
        Parallel.forRange(x.rows(), rowGrain(d), (from, to) -> {
            float[] row = new float[d];
            for (long r = from; r < to; r++) {
                SimdRows.decode(x, r, row);
                double p = pos[(int) r];
                for (int i = 0; i < half; i++) {
                    double angle = p * inverseFrequency[i];
                    double cos = Math.cos(angle);
                    double sin = Math.sin(angle);
                    double x0 = row[2 * i];
                    double x1 = row[2 * i + 1];
                    // Rotate in double and round once: the rows are decoded before y is written, so y may be x.
                    row[2 * i] = (float) (x0 * cos - x1 * sin);
                    row[2 * i + 1] = (float) (x0 * sin + x1 * cos);
                }
                SimdRows.encode(row, y, r);
            }
        }, touched(x, y));
    }

    @Override
    public Bm25Index bm25Index(Indices offsets, Indices tokens) {
        state.ensureOpen("bm25Index");
        OpArgs.bm25Index(caps, offsets, tokens);
        return SimdBm25Indexer.build(offsets.toArray(), tokens);
    }

    /**
     * The memory an op's parallel body reads or writes, for {@link Parallel}: confined segments keep the work
     * on the calling thread.
     */
    static MemorySegment[] touched(Tensor... tensors) {
        MemorySegment[] out = new MemorySegment[2 * tensors.length];
        for (int i = 0; i < tensors.length; i++) {
            out[2 * i] = tensors[i].data();
            out[2 * i + 1] = tensors[i].scales();
        }
        return out;
    }

    private static long rowGrain(int d) {
        return Math.max(1, MIN_ELEMENTS_PER_CHUNK / Math.max(1, d));
    }
}
