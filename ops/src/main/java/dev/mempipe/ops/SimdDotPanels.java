package dev.mempipe.ops;

import dev.mempipe.spi.ElementType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The batched search's matrix kernel ({@link SimdDotTopK}'s plan for batches of at least {@link #QUERIES} queries):
 * an outer product over packed query panels, the form of a BLAS {@code sgemm} micro-kernel. The vector lanes hold
 * {@link #QUERIES} queries (two vectors); each key element is broadcast once and multiplied into both, for four
 * rows at a time: eight accumulators, two panel loads and four broadcasts per eight FMAs, no horizontal sums. The
 * 4 x 4 dot-product tile ({@link SimdDotTiles}) needs eight vector loads per sixteen FMAs and a lane sum per pair;
 * this kernel runs near the FMA ports' limit (on Zen 4 about 85 GFLOP/s a core at 512 bits, as OpenBLAS's
 * {@code sgemm}; docs/PERFORMANCE.md has the measured figures).
 *
 * <p><b>The same float as the one-query scan.</b> The scan gives each (query, row) pair one vector accumulator whose
 * lane {@code j} adds, in increasing order, the products of the elements of lane class {@code j} (F32 and I8:
 * elements {@code j, j + L, j + 2L, ...}; BF16: the even and odd element of lane {@code j}'s pair in each block of
 * {@code 2L}), then adds the lanes with {@link SimdRows#laneSum}'s tree, scales I8 rows and adds the tail elements
 * one FMA at a time ({@link SimdDotTiles}). The panels are packed class by class ({@code body[(j * steps + s) *
 * QUERIES + lane]} is query {@code lane}'s element of class {@code j} at step {@code s}), so the kernel computes
 * the lane sums of class {@code j} for every query in its lanes with the same FMAs in the same order, keeps them
 * apart per class, and adds the classes with the same tree. Every query therefore gets, to the bit, the score it
 * gets alone, and its ranking does not depend on the batch it came in.
 *
 * <p>Stateless and thread-safe; a {@link Panels} is read-only once packed, so the tasks of one search share it.
 */
final class SimdDotPanels {
    private static final VectorSpecies<Float> F = SimdDotKernels.F;
    private static final int LANES = SimdDotKernels.LANES;
    /** Queries per panel: two vectors of lanes. */
    static final int QUERIES = 2 * LANES;
    /** Rows per kernel call. */
    static final int ROWS = 4;
    /** Floats of scratch per kernel call: one partial sum per lane class, query and row. */
    static final int SCRATCH = LANES * ROWS * QUERIES;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    private SimdDotPanels() {
    }

    /**
     * Whether a batch of {@code m} queries against keys of this type takes this kernel: F32, BF16 and I8 keys (the
     * types with a fixed summation order), vectors of 4 to 16 lanes (the widths {@link SimdRows#laneSum}'s tree
     * covers), and at least one full panel of queries.
     */
    static boolean applies(ElementType type, int m) {
        return SimdDotTiles.supports(type) && LANES >= 4 && LANES <= 16 && m >= QUERIES;
    }

    /** The queries of the full panels, packed; queries past the last full panel are left to the caller. */
    record Panels(float[][] body, float[][] tail, int steps, int end, int d) {
        /** Queries these panels hold. */
        int queries() {
            return body.length * QUERIES;
        }
    }

    /**
     * Packs {@code qs} (laid out for the key type by {@link SimdDotKernels#layout}) into {@code qs.length /
     * QUERIES} panels.
     */
    static Panels pack(float[][] qs, ElementType type, int d) {
        int end = vectorEnd(type, d);
        int steps = end / LANES;
        int count = qs.length / QUERIES;
        float[][] body = new float[count][end * QUERIES];
        float[][] tail = new float[count][(d - end) * QUERIES];
        for (int p = 0; p < count; p++) {
            for (int lane = 0; lane < QUERIES; lane++) {
                float[] q = qs[p * QUERIES + lane];
                for (int j = 0; j < LANES; j++) {
                    for (int s = 0; s < steps; s++) {
                        // the laid-out query holds class j's element of step s at j + s * LANES, for every type
                        body[p][(j * steps + s) * QUERIES + lane] = q[j + s * LANES];
                    }
                }
                for (int i = end; i < d; i++) {
                    tail[p][(i - end) * QUERIES + lane] = q[i];
                }
            }
        }
        return new Panels(body, tail, steps, end, d);
    }

    /**
     * Rows {@code off + t * stride} (t = 0..3; row scales {@code c0..c3} for I8, ignored otherwise) against panel
     * {@code p}: the score of row t for the panel's query {@code lane} goes to {@code out[t * QUERIES + lane]}.
     * {@code part} is {@link #SCRATCH} floats of scratch.
     */
    static void score(ElementType type, Panels panels, int p, MemorySegment seg, long off, long stride, float c0,
                      float c1, float c2, float c3, float[] part, float[] out) {
        float[] body = panels.body[p];
        switch (type) {
            case F32 -> f32Classes(body, panels.steps, seg, off, stride, part);
            case BF16 -> bf16Classes(body, panels.steps, seg, off, stride, part);
            case I8 -> i8Classes(body, panels.steps, seg, off, stride, part);
            default -> throw new AssertionError("no panel kernel for " + type);
        }
        addClasses(part);
        float[] tail = panels.tail[p];
        finish(type, tail, panels.end, panels.d, seg, off, c0, part, 0, out);
        finish(type, tail, panels.end, panels.d, seg, off + stride, c1, part, 1, out);
        finish(type, tail, panels.end, panels.d, seg, off + 2 * stride, c2, part, 2, out);
        finish(type, tail, panels.end, panels.d, seg, off + 3 * stride, c3, part, 3, out);
    }

    /**
     * Adds the classes' partial sums with {@link SimdRows#laneSum}'s tree (lane {@code i} and lane {@code i + h} for
     * h = LANES/2, ..., 1), every (query, row) pair at once; the sums are left in class 0's slot.
     */
    private static void addClasses(float[] part) {
        int slot = ROWS * QUERIES;
        for (int h = LANES / 2; h >= 1; h /= 2) {
            for (int z = 0; z < h; z++) {
                int a = z * slot;
                int b = (z + h) * slot;
                for (int i = 0; i < slot; i += LANES) {
                    FloatVector.fromArray(F, part, a + i).add(FloatVector.fromArray(F, part, b + i))
                            .intoArray(part, a + i);
                }
            }
        }
    }

    /** Row {@code row}'s scores: its lane sums, times the scale for I8, then the tail elements one FMA each. */
    private static void finish(ElementType type, float[] tail, int end, int d, MemorySegment seg, long off, float c,
                               float[] part, int row, float[] out) {
        int o = row * QUERIES;
        FloatVector s0 = FloatVector.fromArray(F, part, o);
        FloatVector s1 = FloatVector.fromArray(F, part, o + LANES);
        if (type == ElementType.I8) {
            s0 = s0.mul(c);
            s1 = s1.mul(c);
        }
        for (int i = end; i < d; i++) {
            float k = switch (type) {
                case F32 -> seg.get(F32, off + 4L * i);
                case BF16 -> SimdDotKernels.bf16At(seg, off, i);
                default -> SimdDotKernels.i8At(seg, off, i, c);
            };
            int t = (i - end) * QUERIES;
            FloatVector kv = FloatVector.broadcast(F, k);
            s0 = FloatVector.fromArray(F, tail, t).fma(kv, s0);
            s1 = FloatVector.fromArray(F, tail, t + LANES).fma(kv, s1);
        }
        s0.intoArray(out, o);
        s1.intoArray(out, o + LANES);
    }

    /** Elements the lane classes cover (as the scan's vector loop): the rest is the tail. */
    private static int vectorEnd(ElementType type, int d) {
        return switch (type) {
            case BF16 -> SimdDotKernels.pairEnd(d);
            case I8 -> SimdDotKernels.i8End(d);
            default -> SimdDotKernels.laneEnd(d);
        };
    }

    // ---- the kernels: one per key type (a method holding all three is too large for C2 to inline its vectors) ----
    // part[j * ROWS * QUERIES + row * QUERIES + lane] = class j's sum for (query lane, row)

    private static void f32Classes(float[] body, int steps, MemorySegment seg, long off, long stride, float[] part) {
        long o1 = off + stride;
        long o2 = o1 + stride;
        long o3 = o2 + stride;
        for (int j = 0; j < LANES; j++) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
            int p = j * steps * QUERIES;
            long e = 4L * j;
            for (int s = 0; s < steps; s++, p += QUERIES, e += 4L * LANES) {
                FloatVector q0 = FloatVector.fromArray(F, body, p);
                FloatVector q1 = FloatVector.fromArray(F, body, p + LANES);
                FloatVector k = FloatVector.broadcast(F, seg.get(F32, off + e));
                a0 = k.fma(q0, a0);
                b0 = k.fma(q1, b0);
                k = FloatVector.broadcast(F, seg.get(F32, o1 + e));
                a1 = k.fma(q0, a1);
                b1 = k.fma(q1, b1);
                k = FloatVector.broadcast(F, seg.get(F32, o2 + e));
                a2 = k.fma(q0, a2);
                b2 = k.fma(q1, b2);
                k = FloatVector.broadcast(F, seg.get(F32, o3 + e));
                a3 = k.fma(q0, a3);
                b3 = k.fma(q1, b3);
            }
            int o = j * ROWS * QUERIES;
            a0.intoArray(part, o);
            b0.intoArray(part, o + LANES);
            a1.intoArray(part, o + QUERIES);
            b1.intoArray(part, o + QUERIES + LANES);
            a2.intoArray(part, o + 2 * QUERIES);
            b2.intoArray(part, o + 2 * QUERIES + LANES);
            a3.intoArray(part, o + 3 * QUERIES);
            b3.intoArray(part, o + 3 * QUERIES + LANES);
        }
    }

    /** BF16: class j's steps alternate the even and the odd element of its pair in each block of 2 LANES. */
    private static void bf16Classes(float[] body, int steps, MemorySegment seg, long off, long stride, float[] part) {
        long o1 = off + stride;
        long o2 = o1 + stride;
        long o3 = o2 + stride;
        for (int j = 0; j < LANES; j++) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
            int p = j * steps * QUERIES;
            for (int s = 0; s < steps; s++, p += QUERIES) {
                long e = 2L * ((s >> 1) * 2 * LANES + 2 * j + (s & 1));
                FloatVector q0 = FloatVector.fromArray(F, body, p);
                FloatVector q1 = FloatVector.fromArray(F, body, p + LANES);
                FloatVector k = FloatVector.broadcast(F, bf16(seg, off + e));
                a0 = k.fma(q0, a0);
                b0 = k.fma(q1, b0);
                k = FloatVector.broadcast(F, bf16(seg, o1 + e));
                a1 = k.fma(q0, a1);
                b1 = k.fma(q1, b1);
                k = FloatVector.broadcast(F, bf16(seg, o2 + e));
                a2 = k.fma(q0, a2);
                b2 = k.fma(q1, b2);
                k = FloatVector.broadcast(F, bf16(seg, o3 + e));
                a3 = k.fma(q0, a3);
                b3 = k.fma(q1, b3);
            }
            int o = j * ROWS * QUERIES;
            a0.intoArray(part, o);
            b0.intoArray(part, o + LANES);
            a1.intoArray(part, o + QUERIES);
            b1.intoArray(part, o + QUERIES + LANES);
            a2.intoArray(part, o + 2 * QUERIES);
            b2.intoArray(part, o + 2 * QUERIES + LANES);
            a3.intoArray(part, o + 3 * QUERIES);
            b3.intoArray(part, o + 3 * QUERIES + LANES);
        }
    }

    /** I8: the codes as floats (exact); the row scale is applied to the lane sums, as the scan does. */
    private static void i8Classes(float[] body, int steps, MemorySegment seg, long off, long stride, float[] part) {
        long o1 = off + stride;
        long o2 = o1 + stride;
        long o3 = o2 + stride;
        for (int j = 0; j < LANES; j++) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
            int p = j * steps * QUERIES;
            long e = j;
            for (int s = 0; s < steps; s++, p += QUERIES, e += LANES) {
                FloatVector q0 = FloatVector.fromArray(F, body, p);
                FloatVector q1 = FloatVector.fromArray(F, body, p + LANES);
                FloatVector k = FloatVector.broadcast(F, seg.get(ValueLayout.JAVA_BYTE, off + e));
                a0 = k.fma(q0, a0);
                b0 = k.fma(q1, b0);
                k = FloatVector.broadcast(F, seg.get(ValueLayout.JAVA_BYTE, o1 + e));
                a1 = k.fma(q0, a1);
                b1 = k.fma(q1, b1);
                k = FloatVector.broadcast(F, seg.get(ValueLayout.JAVA_BYTE, o2 + e));
                a2 = k.fma(q0, a2);
                b2 = k.fma(q1, b2);
                k = FloatVector.broadcast(F, seg.get(ValueLayout.JAVA_BYTE, o3 + e));
                a3 = k.fma(q0, a3);
                b3 = k.fma(q1, b3);
            }
            int o = j * ROWS * QUERIES;
            a0.intoArray(part, o);
            b0.intoArray(part, o + LANES);
            a1.intoArray(part, o + QUERIES);
            b1.intoArray(part, o + QUERIES + LANES);
            a2.intoArray(part, o + 2 * QUERIES);
            b2.intoArray(part, o + 2 * QUERIES + LANES);
            a3.intoArray(part, o + 3 * QUERIES);
            b3.intoArray(part, o + 3 * QUERIES + LANES);
        }
    }

    /** A BF16 element as a float: its bits are the float's upper half (as {@code bf16Even}/{@code bf16Odd}). */
    private static float bf16(MemorySegment seg, long at) {
        return Float.intBitsToFloat(seg.get(I16, at) << 16);
    }
}
