package dev.mempipe.ops;

import dev.mempipe.spi.ElementType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register tiles of the blocked batched search ({@link SimdDotTopK}): four consecutive rows against four queries
 * per call, sixteen accumulators, so each key vector loaded (and, for BF16 and I8, decoded) feeds four
 * multiply-adds and each query vector four more: eight loads per sixteen FMAs where one query against one row is
 * load-bound at one load per FMA.
 *
 * <p><b>One arithmetic for every path.</b> Each (query, row) pair keeps one accumulator and sums its products in
 * one fixed order, whichever kernel computes it (the 4 x 4 tile, {@link #rows} of the one-query scan, {@link #row}
 * for the last rows): the FMAs of the scan's kernels ({@link SimdDotKernels}) in the same order, then the lanes
 * added by the fixed pairwise tree of {@link SimdRows#laneSum} (lanes {@code i} and {@code i ^ LANES/2} first), the
 * row scale of I8 keys, then the scalar tail. {@code reduceLanes} would add the lanes in one order when
 * interpreted and in another once compiled, so a query alone and in a batch, or the same call twice while the JIT
 * warms up, could differ in the last bit; with the fixed tree every tier gives the same float. The tile sums its
 * sixteen accumulators together (each level blends two vectors and adds one shuffled copy),
 * which is both the same tree and cheaper than sixteen separate reductions.
 *
 * <p>Stateless and thread-safe.
 */
final class SimdDotTiles {
    private static final VectorSpecies<Float> F = SimdDotKernels.F;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final int LANES = SimdDotKernels.LANES;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    /** Lanes whose index has bit s set: the upper partner at each level of the lane-sum tree. */
    private static final VectorMask<Float> M8 = bit(8);
    private static final VectorMask<Float> M4 = bit(4);
    private static final VectorMask<Float> M2 = bit(2);
    private static final VectorMask<Float> M1 = bit(1);
    private static final VectorShuffle<Float> S8 = VectorShuffle.fromOp(F, i -> (i ^ 8) & (LANES - 1));
    private static final VectorShuffle<Float> S4 = VectorShuffle.fromOp(F, i -> (i ^ 4) & (LANES - 1));
    private static final VectorShuffle<Float> S2 = VectorShuffle.fromOp(F, i -> (i ^ 2) & (LANES - 1));
    private static final VectorShuffle<Float> S1 = VectorShuffle.fromOp(F, i -> (i ^ 1) & (LANES - 1));
    private static final VectorMask<Float> M_TOP = bit(LANES / 2);
    private static final VectorShuffle<Float> S_TOP = VectorShuffle.fromOp(F, i -> i ^ (LANES / 2));
    /** Where the tile's reduction leaves accumulator t (query {@code t / 4}, row {@code t % 4}). */
    private static final int[] SUM_OF = sumPositions();
    /** Whether {@link #rows}' kernels add their four rows' lanes in one tree (widths up to 16 lanes). */
    private static final boolean ROWS_TREE = LANES == 4 || LANES == 8 || LANES == 16;
    /** The lanes where that tree leaves rows 0..3's sums (constants, so {@code lane(R0)} is one extract). */
    private static final int R0 = rowSumLane(0);
    private static final int R1 = rowSumLane(1);
    private static final int R2 = rowSumLane(2);
    private static final int R3 = rowSumLane(3);

    private SimdDotTiles() {
    }

    private static VectorMask<Float> bit(int s) {
        boolean[] set = new boolean[LANES];
        for (int i = 0; i < LANES; i++) {
            set[i] = (i & s) != 0;
        }
        return VectorMask.fromArray(F, set, 0);
    }

    /** Runs the tile's reduction once on accumulators whose sums name them. */
    private static int[] sumPositions() {
        float[] sums = new float[16];
        FloatVector[] a = new FloatVector[16];
        for (int t = 0; t < 16; t++) {
            a[t] = FloatVector.broadcast(F, t + 1);
        }
        FloatVector[] b = new FloatVector[8];
        for (int t = 0; t < 8; t++) {
            b[t] = first(a[2 * t], a[2 * t + 1]);
        }
        rest(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], sums);
        int[] at = new int[16];
        for (int p = 0; p < 16; p++) {
            at[Math.round(sums[p] / LANES) - 1] = p;
        }
        return at;
    }

    /** Runs {@link #rows}' reduction once on accumulators whose sums name them; the lane of row k's sum. */
    private static int rowSumLane(int k) {
        if (!ROWS_TREE) {
            return 0;
        }
        FloatVector r = rowsTree(FloatVector.broadcast(F, 1), FloatVector.broadcast(F, 2), FloatVector.broadcast(F, 3),
                FloatVector.broadcast(F, 4));
        for (int i = 0; i < LANES; i++) {
            if (Math.round(r.lane(i) / LANES) == k + 1) {
                return i;
            }
        }
        throw new AssertionError("no lane holds row " + k + "'s sum");
    }

    /**
     * {@link #rows}' reduction for {@link #rowSumLane}; the kernels write this same code out (a method taking four
     * vectors is not reliably inlined, and a vector passed to a method that is not inlined is boxed).
     */
    private static FloatVector rowsTree(FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3) {
        FloatVector b0 = first(a0, a1);
        FloatVector b1 = first(a2, a3);
        FloatVector r = LANES == 16 ? c4(b0, b1) : LANES == 8 ? c2(b0, b1) : c1(b0, b1);
        if (LANES == 16) {
            r = r.add(r.rearrange(S2));
        }
        return LANES >= 8 ? r.add(r.rearrange(S1)) : r;
    }

    /**
     * The levels below {@link #first} for eight vectors, into {@code sums}: the tile kernels write this same code out
     * (a method taking eight vectors is too large for C2 to inline, and a vector passed to a method that is not
     * inlined is boxed); only {@link #sumPositions} calls it, to find where each sum lands.
     */
    private static void rest(FloatVector b0, FloatVector b1, FloatVector b2, FloatVector b3, FloatVector b4,
                             FloatVector b5, FloatVector b6, FloatVector b7, float[] sums) {
        if (LANES == 16) {
            c1(c2(c4(b0, b1), c4(b2, b3)), c2(c4(b4, b5), c4(b6, b7))).intoArray(sums, 0);
        } else if (LANES == 8) {
            c1(c2(b0, b1), c2(b2, b3)).intoArray(sums, 0);
            c1(c2(b4, b5), c2(b6, b7)).intoArray(sums, 8);
        } else {
            c1(b0, b1).intoArray(sums, 0);
            c1(b2, b3).intoArray(sums, 4);
            c1(b4, b5).intoArray(sums, 8);
            c1(b6, b7).intoArray(sums, 12);
        }
    }

    // ---- the lane-sum tree ----

    /** Lanes with bit 8 clear: {@code a_i + a_(i^8)}; set: {@code b_i + b_(i^8)}. Likewise c4, c2, c1. */
    private static FloatVector c8(FloatVector a, FloatVector b) {
        return a.blend(b, M8).add(b.blend(a, M8).rearrange(S8));
    }

    private static FloatVector c4(FloatVector a, FloatVector b) {
        return a.blend(b, M4).add(b.blend(a, M4).rearrange(S4));
    }

    private static FloatVector c2(FloatVector a, FloatVector b) {
        return a.blend(b, M2).add(b.blend(a, M2).rearrange(S2));
    }

    private static FloatVector c1(FloatVector a, FloatVector b) {
        return a.blend(b, M1).add(b.blend(a, M1).rearrange(S1));
    }

    /** The top level of the lane-sum tree (lanes {@code i} and {@code i ^ LANES/2}) for two accumulators. */
    private static FloatVector first(FloatVector a, FloatVector b) {
        return a.blend(b, M_TOP).add(b.blend(a, M_TOP).rearrange(S_TOP));
    }

    /** Accumulator t's lane sum after the tile's reduction. */
    private static float sum(float[] sums, int t) {
        return sums[SUM_OF[t]];
    }

    /** Whether these kernels run keys of this type (F16 and I16 keys take {@link SimdDotKernels}' scan). */
    static boolean supports(ElementType keyType) {
        return keyType == ElementType.F32 || keyType == ElementType.BF16 || keyType == ElementType.I8;
    }

    /**
     * Rows {@code off + k * stride} (k = 0..3; scales {@code c0..c3} for I8, ignored otherwise) against queries
     * q0..q3 (laid out by {@link SimdDotKernels#layout}) into {@code out[qi * 4 + k]}; {@code sums} is 16 floats
     * of scratch.
     */
    static void tile(ElementType type, float[] q0, float[] q1, float[] q2, float[] q3, int d, MemorySegment seg,
                     long off, long stride, float c0, float c1, float c2, float c3, float[] sums, float[] out) {
        switch (type) {
            case F32 -> f32Tile(q0, q1, q2, q3, d, seg, off, stride, sums);
            case BF16 -> bf16Tile(q0, q1, q2, q3, d, seg, off, stride, sums);
            case I8 -> i8Tile(q0, q1, q2, q3, d, seg, off, stride, sums);
            default -> throw new AssertionError("no tile for " + type);
        }
        finish(type, q0, d, seg, off, stride, c0, c1, c2, c3, sums, 0, out);
        finish(type, q1, d, seg, off, stride, c0, c1, c2, c3, sums, 4, out);
        finish(type, q2, d, seg, off, stride, c0, c1, c2, c3, sums, 8, out);
        finish(type, q3, d, seg, off, stride, c0, c1, c2, c3, sums, 12, out);
    }

    /**
     * One query against {@code groups} groups of four rows: group g holds rows {@code row0 + g * rowStep + k * rowGap}
     * (k = 0..3, rows of {@code stride} bytes; I8 scales from {@code scales}, the keys' scale segment, by row) and
     * writes them to {@code out[o + g * os + k * og]}: the one-query scan's kernel (four rows side by side share each
     * query load), with the tile's arithmetic. The loop over groups runs inside each type's kernel, so the scan makes
     * one call a block, not one a group: C2 compiles a kernel this size on its own (too large to inline once compiled),
     * and with a call per four rows the one-query scan ran 8-24% slower at d = 128 and 4-13% at d = 384 in cache
     * (session 11, {@code BuildPairHarness}, both widths). One method per type: a method holding all three loops is too large for C2 to inline
     * the vector ops of the last one. The four rows' lanes are added in one tree ({@link #rowsTree}: the tile's
     * levels, the same additions as four {@code SimdRows.laneSum}s): with four separate {@code laneSum}s C2 reached
     * its node limit (NodeCountInliningCutoff) after the first row, so rows 1-3's lane sums and tails were calls that
     * boxed their accumulators (the BF16 kernel took twice as long at 512 bits, a fifth longer at 256).
     */
    static void rows(ElementType type, float[] q, int d, MemorySegment seg, long stride, long row0, long rowStep,
                     long rowGap, int groups, MemorySegment scales, float[] out, int o, int os, int og) {
        switch (type) {
            case F32 -> f32Rows(q, d, seg, stride, row0, rowStep, rowGap, groups, out, o, os, og);
            case BF16 -> bf16Rows(q, d, seg, stride, row0, rowStep, rowGap, groups, out, o, os, og);
            case I8 -> i8Rows(q, d, seg, stride, row0, rowStep, rowGap, groups, scales, out, o, os, og);
            default -> throw new AssertionError("no kernel for " + type);
        }
    }

    private static void f32Rows(float[] q, int d, MemorySegment seg, long stride, long row0, long rowStep, long rowGap,
                                int groups, float[] out, int o, int os, int og) {
        int end = SimdDotKernels.laneEnd(d);
        long gap = rowGap * stride;
        for (int g = 0; g < groups; g++) {
            long row = row0 + g * rowStep;
            long off = row * stride;
            long o1 = off + gap;
            long o2 = o1 + gap;
            long o3 = o2 + gap;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            MemorySegment r0 = seg.asSlice(off, 4L * d); // see SimdDotKernels.f32Rows
            MemorySegment r1 = seg.asSlice(o1, 4L * d);
            MemorySegment r2 = seg.asSlice(o2, 4L * d);
            MemorySegment r3 = seg.asSlice(o3, 4L * d);
            for (int i = 0; i < end; i += LANES) {
                FloatVector qv = FloatVector.fromArray(F, q, i);
                long b = 4L * i;
                a0 = FloatVector.fromMemorySegment(F, r0, b, LE).fma(qv, a0);
                a1 = FloatVector.fromMemorySegment(F, r1, b, LE).fma(qv, a1);
                a2 = FloatVector.fromMemorySegment(F, r2, b, LE).fma(qv, a2);
                a3 = FloatVector.fromMemorySegment(F, r3, b, LE).fma(qv, a3);
            }
            float s0;
            float s1;
            float s2;
            float s3;
            if (ROWS_TREE) { // rowsTree, written out
                FloatVector b0 = first(a0, a1);
                FloatVector b1 = first(a2, a3);
                FloatVector r = LANES == 16 ? c4(b0, b1) : LANES == 8 ? c2(b0, b1) : c1(b0, b1);
                if (LANES == 16) {
                    r = r.add(r.rearrange(S2));
                }
                if (LANES >= 8) {
                    r = r.add(r.rearrange(S1));
                }
                s0 = r.lane(R0);
                s1 = r.lane(R1);
                s2 = r.lane(R2);
                s3 = r.lane(R3);
            } else {
                s0 = SimdRows.laneSum(a0);
                s1 = SimdRows.laneSum(a1);
                s2 = SimdRows.laneSum(a2);
                s3 = SimdRows.laneSum(a3);
            }
            int at = o + g * os;
            if (end == d) { // no tail: tail() would return s (C2 ran out of nodes to inline four tail calls)
                out[at] = s0;
                out[at + og] = s1;
                out[at + 2 * og] = s2;
                out[at + 3 * og] = s3;
                continue;
            }
            out[at] = tail(ElementType.F32, q, d, end, seg, off, 1f, s0);
            out[at + og] = tail(ElementType.F32, q, d, end, seg, o1, 1f, s1);
            out[at + 2 * og] = tail(ElementType.F32, q, d, end, seg, o2, 1f, s2);
            out[at + 3 * og] = tail(ElementType.F32, q, d, end, seg, o3, 1f, s3);
        }
    }

    private static void bf16Rows(float[] q, int d, MemorySegment seg, long stride, long row0, long rowStep, long rowGap,
                                int groups, float[] out, int o, int os, int og) {
        int end = SimdDotKernels.pairEnd(d);
        long gap = rowGap * stride;
        for (int g = 0; g < groups; g++) {
            long row = row0 + g * rowStep;
            long off = row * stride;
            long o1 = off + gap;
            long o2 = o1 + gap;
            long o3 = o2 + gap;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            MemorySegment r0 = seg.asSlice(off, 2L * d); // see SimdDotKernels.f32Rows
            MemorySegment r1 = seg.asSlice(o1, 2L * d);
            MemorySegment r2 = seg.asSlice(o2, 2L * d);
            MemorySegment r3 = seg.asSlice(o3, 2L * d);
            for (int i = 0; i < end; i += 2 * LANES) {
                FloatVector qe = FloatVector.fromArray(F, q, i);
                FloatVector qo = FloatVector.fromArray(F, q, i + LANES);
                long b = 2L * i;
                a0 = bf16Fma(IntVector.fromMemorySegment(I, r0, b, LE), qe, qo, a0);
                a1 = bf16Fma(IntVector.fromMemorySegment(I, r1, b, LE), qe, qo, a1);
                a2 = bf16Fma(IntVector.fromMemorySegment(I, r2, b, LE), qe, qo, a2);
                a3 = bf16Fma(IntVector.fromMemorySegment(I, r3, b, LE), qe, qo, a3);
            }
            float s0;
            float s1;
            float s2;
            float s3;
            if (ROWS_TREE) { // rowsTree, written out
                FloatVector b0 = first(a0, a1);
                FloatVector b1 = first(a2, a3);
                FloatVector r = LANES == 16 ? c4(b0, b1) : LANES == 8 ? c2(b0, b1) : c1(b0, b1);
                if (LANES == 16) {
                    r = r.add(r.rearrange(S2));
                }
                if (LANES >= 8) {
                    r = r.add(r.rearrange(S1));
                }
                s0 = r.lane(R0);
                s1 = r.lane(R1);
                s2 = r.lane(R2);
                s3 = r.lane(R3);
            } else {
                s0 = SimdRows.laneSum(a0);
                s1 = SimdRows.laneSum(a1);
                s2 = SimdRows.laneSum(a2);
                s3 = SimdRows.laneSum(a3);
            }
            int at = o + g * os;
            if (end == d) { // no tail: tail() would return s (C2 ran out of nodes to inline four tail calls)
                out[at] = s0;
                out[at + og] = s1;
                out[at + 2 * og] = s2;
                out[at + 3 * og] = s3;
                continue;
            }
            out[at] = tail(ElementType.BF16, q, d, end, seg, off, 1f, s0);
            out[at + og] = tail(ElementType.BF16, q, d, end, seg, o1, 1f, s1);
            out[at + 2 * og] = tail(ElementType.BF16, q, d, end, seg, o2, 1f, s2);
            out[at + 3 * og] = tail(ElementType.BF16, q, d, end, seg, o3, 1f, s3);
        }
    }

    private static void i8Rows(float[] q, int d, MemorySegment seg, long stride, long row0, long rowStep, long rowGap,
                                int groups, MemorySegment scales, float[] out, int o, int os, int og) {
        int end = SimdDotKernels.i8End(d);
        long gap = rowGap * stride;
        for (int g = 0; g < groups; g++) {
            long row = row0 + g * rowStep;
            long off = row * stride;
            long o1 = off + gap;
            long o2 = o1 + gap;
            long o3 = o2 + gap;
            float c0 = scales.get(F32, row * Float.BYTES);
            float c1 = scales.get(F32, (row + rowGap) * Float.BYTES);
            float c2 = scales.get(F32, (row + 2 * rowGap) * Float.BYTES);
            float c3 = scales.get(F32, (row + 3 * rowGap) * Float.BYTES);
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            MemorySegment r0 = seg.asSlice(off, d); // see SimdDotKernels.f32Rows
            MemorySegment r1 = seg.asSlice(o1, d);
            MemorySegment r2 = seg.asSlice(o2, d);
            MemorySegment r3 = seg.asSlice(o3, d);
            for (int i = 0; i < end; i += LANES) {
                FloatVector qv = FloatVector.fromArray(F, q, i);
                a0 = SimdDotKernels.i8Load(r0, i).fma(qv, a0);
                a1 = SimdDotKernels.i8Load(r1, i).fma(qv, a1);
                a2 = SimdDotKernels.i8Load(r2, i).fma(qv, a2);
                a3 = SimdDotKernels.i8Load(r3, i).fma(qv, a3);
            }
            float s0;
            float s1;
            float s2;
            float s3;
            if (ROWS_TREE) { // rowsTree, written out
                FloatVector b0 = first(a0, a1);
                FloatVector b1 = first(a2, a3);
                FloatVector r = LANES == 16 ? c4(b0, b1) : LANES == 8 ? c2(b0, b1) : c1(b0, b1);
                if (LANES == 16) {
                    r = r.add(r.rearrange(S2));
                }
                if (LANES >= 8) {
                    r = r.add(r.rearrange(S1));
                }
                s0 = r.lane(R0);
                s1 = r.lane(R1);
                s2 = r.lane(R2);
                s3 = r.lane(R3);
            } else {
                s0 = SimdRows.laneSum(a0);
                s1 = SimdRows.laneSum(a1);
                s2 = SimdRows.laneSum(a2);
                s3 = SimdRows.laneSum(a3);
            }
            int at = o + g * os;
            if (end == d) { // no tail: tail() would return s * c (C2 ran out of nodes to inline four tail calls)
                out[at] = s0 * c0;
                out[at + og] = s1 * c1;
                out[at + 2 * og] = s2 * c2;
                out[at + 3 * og] = s3 * c3;
                continue;
            }
            out[at] = tail(ElementType.I8, q, d, end, seg, off, c0, s0);
            out[at + og] = tail(ElementType.I8, q, d, end, seg, o1, c1, s1);
            out[at + 2 * og] = tail(ElementType.I8, q, d, end, seg, o2, c2, s2);
            out[at + 3 * og] = tail(ElementType.I8, q, d, end, seg, o3, c3, s3);
        }
    }

    /** One query against one row (scale c for I8), with the tile's arithmetic. */
    static float row(ElementType type, float[] q, int d, MemorySegment seg, long off, float c) {
        return switch (type) {
            case F32 -> f32Row(q, d, seg, off);
            case BF16 -> bf16Row(q, d, seg, off);
            case I8 -> i8Row(q, d, seg, off, c);
            default -> throw new AssertionError("no kernel for " + type);
        };
    }

    private static float f32Row(float[] q, int d, MemorySegment seg, long off) {
        FloatVector a = FloatVector.zero(F);
        int end = SimdDotKernels.laneEnd(d);
        for (int i = 0; i < end; i += LANES) {
            a = FloatVector.fromMemorySegment(F, seg, off + 4L * i, LE).fma(FloatVector.fromArray(F, q, i), a);
        }
        return tail(ElementType.F32, q, d, end, seg, off, 1f, SimdRows.laneSum(a));
    }

    private static float bf16Row(float[] q, int d, MemorySegment seg, long off) {
        FloatVector a = FloatVector.zero(F);
        int end = SimdDotKernels.pairEnd(d);
        for (int i = 0; i < end; i += 2 * LANES) {
            a = bf16Fma(IntVector.fromMemorySegment(I, seg, off + 2L * i, LE), FloatVector.fromArray(F, q, i),
                    FloatVector.fromArray(F, q, i + LANES), a);
        }
        return tail(ElementType.BF16, q, d, end, seg, off, 1f, SimdRows.laneSum(a));
    }

    private static float i8Row(float[] q, int d, MemorySegment seg, long off, float c) {
        FloatVector a = FloatVector.zero(F);
        int end = SimdDotKernels.i8End(d);
        for (int i = 0; i < end; i += LANES) {
            a = SimdDotKernels.i8Load(seg, off + i).fma(FloatVector.fromArray(F, q, i), a);
        }
        return tail(ElementType.I8, q, d, end, seg, off, c, SimdRows.laneSum(a));
    }

    /** Elements the vector loop covers: whole vectors (F32, I8) or whole even/odd pairs of vectors (BF16). */
    private static int vectorEnd(ElementType type, int d) {
        return switch (type) {
            case BF16 -> SimdDotKernels.pairEnd(d);
            case I8 -> SimdDotKernels.i8End(d);
            default -> SimdDotKernels.laneEnd(d);
        };
    }

    /** {@code acc + even * qe + odd * qo}, even elements first, as {@link SimdDotKernels}' BF16 kernels. */
    private static FloatVector bf16Fma(IntVector v, FloatVector qe, FloatVector qo, FloatVector acc) {
        return SimdDotKernels.bf16Odd(v).fma(qo, SimdDotKernels.bf16Even(v).fma(qe, acc));
    }

    /**
     * A pair's score from its lane sum: times the row scale for I8, then the elements past the vector loop one
     * FMA at a time (decoded as {@code code * scale}), as the scan's kernels do.
     */
    private static float tail(ElementType type, float[] q, int d, int end, MemorySegment seg, long off, float c,
                              float laneSum) {
        float s = type == ElementType.I8 ? laneSum * c : laneSum;
        for (int i = end; i < d; i++) {
            float k = switch (type) {
                case F32 -> seg.get(F32, off + 4L * i);
                case BF16 -> SimdDotKernels.bf16At(seg, off, i);
                default -> SimdDotKernels.i8At(seg, off, i, c);
            };
            s = Math.fma(q[i], k, s);
        }
        return s;
    }

    /** Query {@code q}'s four scores of a tile from {@code sums[o, o + 4)} (after the reduction), with tails. */
    private static void finish(ElementType type, float[] q, int d, MemorySegment seg, long off, long stride, float c0,
                               float c1, float c2, float c3, float[] sums, int o, float[] out) {
        int end = vectorEnd(type, d);
        out[o] = tail(type, q, d, end, seg, off, c0, sum(sums, o));
        out[o + 1] = tail(type, q, d, end, seg, off + stride, c1, sum(sums, o + 1));
        out[o + 2] = tail(type, q, d, end, seg, off + 2 * stride, c2, sum(sums, o + 2));
        out[o + 3] = tail(type, q, d, end, seg, off + 3 * stride, c3, sum(sums, o + 3));
    }

    // ---- the 4 x 4 tiles: accumulator t = query t / 4, row t % 4 ----

    private static void f32Tile(float[] q0, float[] q1, float[] q2, float[] q3, int d, MemorySegment seg, long off,
                                long stride, float[] sums) {
        long o1 = off + stride;
        long o2 = o1 + stride;
        long o3 = o2 + stride;
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int end = SimdDotKernels.laneEnd(d);
        for (int i = 0; i < end; i += LANES) {
            long b = 4L * i;
            FloatVector k0 = FloatVector.fromMemorySegment(F, seg, off + b, LE);
            FloatVector k1 = FloatVector.fromMemorySegment(F, seg, o1 + b, LE);
            FloatVector k2 = FloatVector.fromMemorySegment(F, seg, o2 + b, LE);
            FloatVector k3 = FloatVector.fromMemorySegment(F, seg, o3 + b, LE);
            FloatVector q = FloatVector.fromArray(F, q0, i);
            a00 = k0.fma(q, a00);
            a01 = k1.fma(q, a01);
            a02 = k2.fma(q, a02);
            a03 = k3.fma(q, a03);
            q = FloatVector.fromArray(F, q1, i);
            a10 = k0.fma(q, a10);
            a11 = k1.fma(q, a11);
            a12 = k2.fma(q, a12);
            a13 = k3.fma(q, a13);
            q = FloatVector.fromArray(F, q2, i);
            a20 = k0.fma(q, a20);
            a21 = k1.fma(q, a21);
            a22 = k2.fma(q, a22);
            a23 = k3.fma(q, a23);
            q = FloatVector.fromArray(F, q3, i);
            a30 = k0.fma(q, a30);
            a31 = k1.fma(q, a31);
            a32 = k2.fma(q, a32);
            a33 = k3.fma(q, a33);
        }
        // the lane sums of the sixteen accumulators, written out as in rest() (see there why)
        FloatVector b0 = first(a00, a01);
        FloatVector b1 = first(a02, a03);
        FloatVector b2 = first(a10, a11);
        FloatVector b3 = first(a12, a13);
        FloatVector b4 = first(a20, a21);
        FloatVector b5 = first(a22, a23);
        FloatVector b6 = first(a30, a31);
        FloatVector b7 = first(a32, a33);
        if (LANES == 16) {
            c1(c2(c4(b0, b1), c4(b2, b3)), c2(c4(b4, b5), c4(b6, b7))).intoArray(sums, 0);
        } else if (LANES == 8) {
            c1(c2(b0, b1), c2(b2, b3)).intoArray(sums, 0);
            c1(c2(b4, b5), c2(b6, b7)).intoArray(sums, 8);
        } else {
            c1(b0, b1).intoArray(sums, 0);
            c1(b2, b3).intoArray(sums, 4);
            c1(b4, b5).intoArray(sums, 8);
            c1(b6, b7).intoArray(sums, 12);
        }
    }

    private static void bf16Tile(float[] q0, float[] q1, float[] q2, float[] q3, int d, MemorySegment seg, long off,
                                 long stride, float[] sums) {
        long o1 = off + stride;
        long o2 = o1 + stride;
        long o3 = o2 + stride;
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int end = SimdDotKernels.pairEnd(d);
        for (int i = 0; i < end; i += 2 * LANES) {
            long b = 2L * i;
            IntVector v0 = IntVector.fromMemorySegment(I, seg, off + b, LE);
            IntVector v1 = IntVector.fromMemorySegment(I, seg, o1 + b, LE);
            IntVector v2 = IntVector.fromMemorySegment(I, seg, o2 + b, LE);
            IntVector v3 = IntVector.fromMemorySegment(I, seg, o3 + b, LE);
            FloatVector e0 = SimdDotKernels.bf16Even(v0);
            FloatVector e1 = SimdDotKernels.bf16Even(v1);
            FloatVector e2 = SimdDotKernels.bf16Even(v2);
            FloatVector e3 = SimdDotKernels.bf16Even(v3);
            FloatVector d0 = SimdDotKernels.bf16Odd(v0);
            FloatVector d1 = SimdDotKernels.bf16Odd(v1);
            FloatVector d2 = SimdDotKernels.bf16Odd(v2);
            FloatVector d3 = SimdDotKernels.bf16Odd(v3);
            FloatVector qe = FloatVector.fromArray(F, q0, i);
            FloatVector qo = FloatVector.fromArray(F, q0, i + LANES);
            a00 = d0.fma(qo, e0.fma(qe, a00));
            a01 = d1.fma(qo, e1.fma(qe, a01));
            a02 = d2.fma(qo, e2.fma(qe, a02));
            a03 = d3.fma(qo, e3.fma(qe, a03));
            qe = FloatVector.fromArray(F, q1, i);
            qo = FloatVector.fromArray(F, q1, i + LANES);
            a10 = d0.fma(qo, e0.fma(qe, a10));
            a11 = d1.fma(qo, e1.fma(qe, a11));
            a12 = d2.fma(qo, e2.fma(qe, a12));
            a13 = d3.fma(qo, e3.fma(qe, a13));
            qe = FloatVector.fromArray(F, q2, i);
            qo = FloatVector.fromArray(F, q2, i + LANES);
            a20 = d0.fma(qo, e0.fma(qe, a20));
            a21 = d1.fma(qo, e1.fma(qe, a21));
            a22 = d2.fma(qo, e2.fma(qe, a22));
            a23 = d3.fma(qo, e3.fma(qe, a23));
            qe = FloatVector.fromArray(F, q3, i);
            qo = FloatVector.fromArray(F, q3, i + LANES);
            a30 = d0.fma(qo, e0.fma(qe, a30));
            a31 = d1.fma(qo, e1.fma(qe, a31));
            a32 = d2.fma(qo, e2.fma(qe, a32));
            a33 = d3.fma(qo, e3.fma(qe, a33));
        }
        // the lane sums of the sixteen accumulators, written out as in rest() (see there why)
        FloatVector b0 = first(a00, a01);
        FloatVector b1 = first(a02, a03);
        FloatVector b2 = first(a10, a11);
        FloatVector b3 = first(a12, a13);
        FloatVector b4 = first(a20, a21);
        FloatVector b5 = first(a22, a23);
        FloatVector b6 = first(a30, a31);
        FloatVector b7 = first(a32, a33);
        if (LANES == 16) {
            c1(c2(c4(b0, b1), c4(b2, b3)), c2(c4(b4, b5), c4(b6, b7))).intoArray(sums, 0);
        } else if (LANES == 8) {
            c1(c2(b0, b1), c2(b2, b3)).intoArray(sums, 0);
            c1(c2(b4, b5), c2(b6, b7)).intoArray(sums, 8);
        } else {
            c1(b0, b1).intoArray(sums, 0);
            c1(b2, b3).intoArray(sums, 4);
            c1(b4, b5).intoArray(sums, 8);
            c1(b6, b7).intoArray(sums, 12);
        }
    }

    private static void i8Tile(float[] q0, float[] q1, float[] q2, float[] q3, int d, MemorySegment seg, long off,
                               long stride, float[] sums) {
        long o1 = off + stride;
        long o2 = o1 + stride;
        long o3 = o2 + stride;
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int end = SimdDotKernels.i8End(d);
        for (int i = 0; i < end; i += LANES) {
            FloatVector k0 = SimdDotKernels.i8Load(seg, off + i);
            FloatVector k1 = SimdDotKernels.i8Load(seg, o1 + i);
            FloatVector k2 = SimdDotKernels.i8Load(seg, o2 + i);
            FloatVector k3 = SimdDotKernels.i8Load(seg, o3 + i);
            FloatVector q = FloatVector.fromArray(F, q0, i);
            a00 = k0.fma(q, a00);
            a01 = k1.fma(q, a01);
            a02 = k2.fma(q, a02);
            a03 = k3.fma(q, a03);
            q = FloatVector.fromArray(F, q1, i);
            a10 = k0.fma(q, a10);
            a11 = k1.fma(q, a11);
            a12 = k2.fma(q, a12);
            a13 = k3.fma(q, a13);
            q = FloatVector.fromArray(F, q2, i);
            a20 = k0.fma(q, a20);
            a21 = k1.fma(q, a21);
            a22 = k2.fma(q, a22);
            a23 = k3.fma(q, a23);
            q = FloatVector.fromArray(F, q3, i);
            a30 = k0.fma(q, a30);
            a31 = k1.fma(q, a31);
            a32 = k2.fma(q, a32);
            a33 = k3.fma(q, a33);
        }
        // the lane sums of the sixteen accumulators, written out as in rest() (see there why)
        FloatVector b0 = first(a00, a01);
        FloatVector b1 = first(a02, a03);
        FloatVector b2 = first(a10, a11);
        FloatVector b3 = first(a12, a13);
        FloatVector b4 = first(a20, a21);
        FloatVector b5 = first(a22, a23);
        FloatVector b6 = first(a30, a31);
        FloatVector b7 = first(a32, a33);
        if (LANES == 16) {
            c1(c2(c4(b0, b1), c4(b2, b3)), c2(c4(b4, b5), c4(b6, b7))).intoArray(sums, 0);
        } else if (LANES == 8) {
            c1(c2(b0, b1), c2(b2, b3)).intoArray(sums, 0);
            c1(c2(b4, b5), c2(b6, b7)).intoArray(sums, 8);
        } else {
            c1(b0, b1).intoArray(sums, 0);
            c1(b2, b3).intoArray(sums, 4);
            c1(b4, b5).intoArray(sums, 8);
            c1(b6, b7).intoArray(sums, 12);
        }
    }
}
