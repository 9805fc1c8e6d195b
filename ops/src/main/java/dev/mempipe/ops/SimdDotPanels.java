package dev.mempipe.ops;

import dev.mempipe.spi.ElementType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
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
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());

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
     * Rows {@code off + t * stride} of {@code seg} (t = 0..3; row scales {@code c0..c3} for I8, ignored otherwise)
     * against panel {@code p}: the score of row t for the panel's query {@code lane} goes to
     * {@code out[t * QUERIES + lane]}. The kernel reads the rows' lane-class elements as F32 at {@code elems +
     * elemOff + t * elemStride}: the rows themselves for F32 keys, their {@link #decode}d copy for BF16 and I8;
     * the tail elements come from {@code seg}. {@code part} is {@link #SCRATCH} floats of scratch.
     */
    static void score(ElementType type, Panels panels, int p, MemorySegment elems, long elemOff, long elemStride,
                      MemorySegment seg, long off, long stride, float c0, float c1, float c2, float c3, float[] part,
                      float[] out) {
        f32Classes(panels.body[p], panels.steps, elems, elemOff, elemStride, part);
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

    /**
     * The lanes (bit {@code lane}) of row {@code row}'s scores in {@code out} that {@link SimdDotTopK}'s offer must
     * see: the weighted score not below the query's cut, or NaN (which the offer reports). A superset is harmless;
     * the offer decides.
     */
    static long candidates(float[] out, int row, float weight, float[] cuts) {
        int o = row * QUERIES;
        FloatVector s0 = FloatVector.fromArray(F, out, o).mul(weight);
        FloatVector s1 = FloatVector.fromArray(F, out, o + LANES).mul(weight);
        long low = s0.compare(VectorOperators.LT, FloatVector.fromArray(F, cuts, 0)).not().toLong();
        long high = s1.compare(VectorOperators.LT, FloatVector.fromArray(F, cuts, LANES)).not().toLong();
        return low | high << LANES;
    }

    /** Elements the lane classes cover (as the scan's vector loop): the rest is the tail. */
    private static int vectorEnd(ElementType type, int d) {
        return switch (type) {
            case BF16 -> SimdDotKernels.pairEnd(d);
            case I8 -> SimdDotKernels.i8End(d);
            default -> SimdDotKernels.laneEnd(d);
        };
    }

    // ---- the kernel: part[j * ROWS * QUERIES + row * QUERIES + lane] = class j's sum for (query lane, row) ----

    private static void f32Classes(float[] body, int steps, MemorySegment seg, long off, long stride, float[] part) {
        // each row as a slice read at the element offset: see SimdDotKernels.f32Rows (bounds checks in short loops)
        long rowBytes = 4L * LANES * steps;
        MemorySegment r0 = seg.asSlice(off, rowBytes);
        MemorySegment r1 = seg.asSlice(off + stride, rowBytes);
        MemorySegment r2 = seg.asSlice(off + 2 * stride, rowBytes);
        MemorySegment r3 = seg.asSlice(off + 3 * stride, rowBytes);
        for (int j = 0; j < LANES; j++) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
            int p = j * steps * QUERIES;
            long e = 4L * j;
            for (int s = 0; s < steps; s++, p += QUERIES, e += 4L * LANES) {
                FloatVector q0 = FloatVector.fromArray(F, body, p);
                FloatVector q1 = FloatVector.fromArray(F, body, p + LANES);
                FloatVector k = FloatVector.broadcast(F, r0.get(F32, e));
                a0 = k.fma(q0, a0);
                b0 = k.fma(q1, b0);
                k = FloatVector.broadcast(F, r1.get(F32, e));
                a1 = k.fma(q0, a1);
                b1 = k.fma(q1, b1);
                k = FloatVector.broadcast(F, r2.get(F32, e));
                a2 = k.fma(q0, a2);
                b2 = k.fma(q1, b2);
                k = FloatVector.broadcast(F, r3.get(F32, e));
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

    /**
     * Decodes the lane-class elements of rows {@code [0, count)} at {@code seg + off + t * stride} (BF16 or I8 keys)
     * into {@code dst} (native memory, as the keys: a heap segment here would make the kernel's
     * loads polymorphic, 8x slower), {@code end} floats a row, in the order the F32 kernel reads them: I8 codes as floats (exact,
     * unscaled); BF16 elements with each block of {@code 2 LANES} split into its even elements, then its odd ones
     * (as {@link SimdDotKernels#layout} lays out the query), so class {@code j}'s element at step {@code s} is at
     * {@code j + s * LANES} for every type. The decoding is done once per cached block and shared by every panel.
     */
    static void decode(ElementType type, MemorySegment seg, long off, long stride, int count, int end,
                       MemorySegment dst) {
        for (int t = 0; t < count; t++) {
            // the row and its decoded copy as slices read at the loop index (see SimdDotKernels.f32Rows)
            MemorySegment to = dst.asSlice(4L * t * end, 4L * end);
            if (type == ElementType.I8) {
                MemorySegment row = seg.asSlice(off + t * stride, end);
                for (int i = 0; i < end; i += LANES) {
                    SimdDotKernels.i8Load(row, i).intoMemorySegment(to, 4L * i, LE);
                }
            } else {
                MemorySegment row = seg.asSlice(off + t * stride, 2L * end);
                for (int i = 0; i < end; i += 2 * LANES) {
                    IntVector v = IntVector.fromMemorySegment(I, row, 2L * i, LE);
                    SimdDotKernels.bf16Even(v).intoMemorySegment(to, 4L * i, LE);
                    SimdDotKernels.bf16Odd(v).intoMemorySegment(to, 4L * (i + LANES), LE);
                }
            }
        }
    }
}
