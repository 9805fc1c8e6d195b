package dev.mempipe.ops;

import static dev.mempipe.ops.SimdAttentionKernels.accumulate1;
import static dev.mempipe.ops.SimdAttentionKernels.accumulate8;
import static dev.mempipe.ops.SimdAttentionKernels.dot;
import static dev.mempipe.ops.SimdAttentionKernels.dot2;
import static dev.mempipe.ops.SimdAttentionKernels.dot4;
import static dev.mempipe.ops.SimdAttentionKernels.range;
import static dev.mempipe.ops.SimdRows.F;
import static dev.mempipe.ops.SimdRows.LANES;

import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Decode attention with grouped-query heads and online softmax (FlashAttention-style running max and sum).
 *
 * <p>Layout of the work, and why:
 * <ul>
 *   <li>The selected rows (all L when dense) are cut into chunks whose size depends only on the row count,
 *       never on the thread count; chunks run in parallel and their partial states (max, sum, accumulator)
 *       are merged in chunk order. Results are therefore deterministic, and sparse attention over every row
 *       runs exactly the same arithmetic as dense attention: dense is sparse with the identity row list.</li>
 *   <li>A chunk walks its rows in blocks of {@link #BLOCK}. Each block's K and V rows (all Hkv heads, so
 *       each row is one contiguous read) are first copied into heap arrays. For scattered rows (a DSA top-k)
 *       this is what keeps many cache misses in flight: the copies of consecutive rows are independent, so
 *       the CPU overlaps them, where a kernel reading row by row would wait on each row's first miss. The
 *       kernels then run on cache-resident arrays, with bounds checks the JIT can hoist.</li>
 *   <li>Per block: the logits of every query head (the heads of a KV group share each loaded key vector),
 *       one max and rescale per head, then the weighted V rows, eight rows per pass over an accumulator.</li>
 * </ul>
 * Every (row, head) dot product and every accumulator element is computed in the same order whichever
 * kernel variant handles it (one vector accumulator, lane reduction, scalar tail; V rows added in selection
 * order), so how rows and heads are grouped into kernel calls never changes a bit of the result.
 *
 * <p>The output is clamped to the per-coordinate [min, max] of the selected V rows of its KV head: the exact
 * result is a convex combination of them, and the clamp keeps rounding from stepping outside that hull.
 */
final class SimdAttention {
    /** Rows per online-softmax step: a multiple of the vector length so the block's logits are whole vectors. */
    static final int BLOCK = Math.max(16, LANES);
    /** Rows one V kernel call adds (their weights stay in registers). */
    private static final int V_ROWS = 8;
    /** Chunks are at least this many rows (a fork costs microseconds) ... */
    private static final long MIN_CHUNK_ROWS = 256;
    /** ... and there are at most this many (each holds a partial state of Hq * (d + 2) floats). */
    private static final long MAX_CHUNKS = 64;

    private SimdAttention() {
    }

    static void attention(Tensor q, Tensor keys, Tensor values, int kvHeads, Indices idx, float scale, Tensor out) {
        int heads = (int) q.rows();
        int d = q.cols();
        float[] qs = new float[heads * d];
        float[] row = new float[d];
        for (int h = 0; h < heads; h++) {
            SimdRows.decode(q, h, row);
            System.arraycopy(row, 0, qs, h * d, d);
        }
        if ((long) BLOCK * keys.cols() > Integer.MAX_VALUE - 16) {
            // A block of rows is gathered into one Java array.
            throw new IllegalArgumentException("attention: K rows of Hkv*d = " + keys.cols() + " elements are too"
                    + " wide; at most " + (Integer.MAX_VALUE - 16) / BLOCK + " are supported");
        }
        int[] rows = idx == null ? null : idx.toArray();
        long n = rows == null ? keys.rows() : rows.length;
        long chunkRows = chunkRows(n);
        int chunks = (int) ((n + chunkRows - 1) / chunkRows);
        Partial[] parts = new Partial[chunks];
        Parallel.forRange(chunks, 1, (from, to) -> {
            Worker w = new Worker(qs, heads, kvHeads, d, scale, keys, values, rows);
            for (long c = from; c < to; c++) {
                parts[(int) c] = w.run(c * chunkRows, Math.min(n, (c + 1) * chunkRows));
            }
        }, SimdPrepareOps.touched(keys, values));
        Partial total = parts[0];
        for (int c = 1; c < chunks; c++) {
            total.merge(parts[c]);
        }
        total.writeTo(out, heads / kvHeads);
    }

    /** A function of the row count alone (see the class comment), rounded to whole blocks. */
    static long chunkRows(long n) {
        long rows = Math.max(MIN_CHUNK_ROWS, (n + MAX_CHUNKS - 1) / MAX_CHUNKS);
        return (rows + BLOCK - 1) / BLOCK * BLOCK;
    }

    /** Online-softmax state of a run of rows: per query head the running max, the sum of weights, acc. */
    private static final class Partial {
        final int heads;
        final int d;
        final float[] max;
        final float[] sum;
        final float[] acc;
        /** Per KV head and coordinate, the range of the V rows seen. */
        final float[] vMin;
        final float[] vMax;

        Partial(int heads, int kvHeads, int d) {
            this.heads = heads;
            this.d = d;
            max = new float[heads];
            Arrays.fill(max, Float.NEGATIVE_INFINITY);
            sum = new float[heads];
            acc = new float[heads * d];
            vMin = new float[kvHeads * d];
            vMax = new float[kvHeads * d];
            Arrays.fill(vMin, Float.POSITIVE_INFINITY);
            Arrays.fill(vMax, Float.NEGATIVE_INFINITY);
        }

        /** Folds {@code o} (the rows after this state's rows) into this state. */
        void merge(Partial o) {
            for (int h = 0; h < heads; h++) {
                float m = Math.max(max[h], o.max[h]);
                float a = m == max[h] ? 1f : SimdAttentionExp.expNonPositive(max[h] - m);
                float b = m == o.max[h] ? 1f : SimdAttentionExp.expNonPositive(o.max[h] - m);
                sum[h] = Math.fma(o.sum[h], b, sum[h] * a);
                max[h] = m;
                int i = h * d;
                int end = i + d;
                for (int bound = i + F.loopBound(d); i < bound; i += LANES) {
                    FloatVector x = FloatVector.fromArray(F, acc, i).mul(a);
                    FloatVector.fromArray(F, o.acc, i).fma(FloatVector.broadcast(F, b), x).intoArray(acc, i);
                }
                for (; i < end; i++) {
                    acc[i] = Math.fma(o.acc[i], b, acc[i] * a);
                }
            }
            for (int i = 0; i < vMin.length; i++) {
                vMin[i] = Math.min(vMin[i], o.vMin[i]);
                vMax[i] = Math.max(vMax[i], o.vMax[i]);
            }
        }

        void writeTo(Tensor out, int group) {
            float[] row = new float[d];
            for (int h = 0; h < heads; h++) {
                int kv = (h / group) * d;
                for (int i = 0; i < d; i++) {
                    float v = acc[h * d + i] / sum[h];
                    row[i] = Math.min(vMax[kv + i], Math.max(vMin[kv + i], v));
                }
                SimdRows.encode(row, out, h);
            }
        }
    }

    /** One thread's scratch for running chunks: the gathered block of K and V rows, decoded to f32. */
    private static final class Worker {
        private final float[] q;
        private final int heads;
        private final int kvHeads;
        private final int group;
        private final int d;
        private final float scale;
        private final Tensor keys;
        private final Tensor values;
        private final int[] rows;
        /** Row width Hkv * d: the stride of the gathered rows in {@link #kBlock} and {@link #vBlock}. */
        private final int width;
        private final float[] kBlock;
        private final float[] vBlock;
        /** Logits, then weights, of the block: {@code [heads][BLOCK]}, -inf past the block's last row. */
        private final float[] logits;
        /** One decoded row of a non-F32 K or V. */
        private final float[] decoded;

        Worker(float[] q, int heads, int kvHeads, int d, float scale, Tensor keys, Tensor values, int[] rows) {
            this.q = q;
            this.heads = heads;
            this.kvHeads = kvHeads;
            this.group = heads / kvHeads;
            this.d = d;
            this.scale = scale;
            this.keys = keys;
            this.values = values;
            this.rows = rows;
            this.width = keys.cols();
            int blockRows = (int) Math.min(BLOCK, rows == null ? keys.rows() : rows.length);
            this.kBlock = new float[blockRows * width];
            this.vBlock = new float[blockRows * width];
            this.logits = new float[heads * BLOCK];
            this.decoded = new float[width];
        }

        Partial run(long start, long end) {
            Partial p = new Partial(heads, kvHeads, d);
            for (long b = start; b < end; b += BLOCK) {
                block(p, b, (int) Math.min(BLOCK, end - b));
            }
            return p;
        }

        private void block(Partial p, long first, int count) {
            gather(first, count);
            Arrays.fill(logits, Float.NEGATIVE_INFINITY);
            for (int j = 0; j < count; j++) {
                for (int kv = 0; kv < kvHeads; kv++) {
                    int at = j * width + kv * d;
                    int h = kv * group;
                    int end = h + group;
                    for (; h + 4 <= end; h += 4) {
                        dot4(q, h * d, d, kBlock, at, scale, logits, h * BLOCK + j, BLOCK);
                    }
                    if (h + 2 <= end) {
                        dot2(q, h * d, d, kBlock, at, scale, logits, h * BLOCK + j, BLOCK);
                        h += 2;
                    }
                    if (h < end) {
                        logits[h * BLOCK + j] = dot(q, h * d, d, kBlock, at, scale);
                    }
                }
            }
            for (int h = 0; h < heads; h++) {
                softmaxStep(p, h);
            }
            for (int kv = 0; kv < kvHeads; kv++) {
                range(p.vMin, p.vMax, kv * d, d, vBlock, kv * d, width, count);
            }
            int j = 0;
            for (; j + V_ROWS <= count; j += V_ROWS) {
                for (int kv = 0; kv < kvHeads; kv++) {
                    int base = j * width + kv * d;
                    for (int h = kv * group; h < (kv + 1) * group; h++) {
                        accumulate8(p.acc, h * d, d, logits, h * BLOCK + j, vBlock, base, width);
                    }
                }
            }
            for (; j < count; j++) {
                for (int kv = 0; kv < kvHeads; kv++) {
                    int at = j * width + kv * d;
                    for (int h = kv * group; h < (kv + 1) * group; h++) {
                        accumulate1(p.acc, h * d, d, logits[h * BLOCK + j], vBlock, at);
                    }
                }
            }
        }

        /**
         * Copies the block's K and V rows into the block arrays (decoding non-F32 rows). The copies of
         * consecutive rows are independent, so the CPU overlaps their cache misses: the gather is what keeps
         * several scattered rows in flight.
         */
        private void gather(long first, int count) {
            for (int j = 0; j < count; j++) {
                long r = rows == null ? first + j : rows[(int) (first + j)];
                copyRow(keys, r, kBlock, j * width);
                copyRow(values, r, vBlock, j * width);
            }
        }

        private void copyRow(Tensor t, long r, float[] dst, int at) {
            if (t.type() == ElementType.F32) {
                MemorySegment.copy(t.data(), ValueLayout.JAVA_FLOAT_UNALIGNED, r * t.rowStride(), dst, at, width);
            } else {
                SimdRows.decode(t, r, decoded);
                System.arraycopy(decoded, 0, dst, at, width);
            }
        }

        /**
         * One online-softmax step for head h: the block max, the rescale of the earlier state, and the
         * block's logits replaced by their weights {@code exp(logit - max)} (at most 1, so nothing overflows
         * however large the logits are).
         */
        private void softmaxStep(Partial p, int h) {
            int base = h * BLOCK;
            FloatVector mv = FloatVector.fromArray(F, logits, base);
            for (int i = LANES; i < BLOCK; i += LANES) {
                mv = mv.max(FloatVector.fromArray(F, logits, base + i));
            }
            float old = p.max[h];
            float m = Math.max(old, mv.reduceLanes(VectorOperators.MAX));
            float alpha = m == old ? 1f : SimdAttentionExp.expNonPositive(old - m);
            FloatVector mb = FloatVector.broadcast(F, m);
            FloatVector s = FloatVector.zero(F);
            for (int i = 0; i < BLOCK; i += LANES) {
                FloatVector w = SimdAttentionExp.expNonPositive(FloatVector.fromArray(F, logits, base + i).sub(mb));
                w.intoArray(logits, base + i);
                s = s.add(w);
            }
            p.sum[h] = Math.fma(p.sum[h], alpha, SimdRows.laneSum(s));
            p.max[h] = m;
            if (alpha != 1f) {
                // x * 1 == x exactly, so skipping the rescale when the max did not move changes no bit.
                int i = h * d;
                int end = i + d;
                for (int bound = i + F.loopBound(d); i < bound; i += LANES) {
                    FloatVector.fromArray(F, p.acc, i).mul(alpha).intoArray(p.acc, i);
                }
                for (; i < end; i++) {
                    p.acc[i] *= alpha;
                }
            }
        }
    }
}
