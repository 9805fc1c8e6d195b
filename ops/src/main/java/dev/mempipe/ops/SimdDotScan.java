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
 * The kernel of {@code dotTopK}'s one-query scan: one query against four rows side by side (F32, BF16 or I8 keys),
 * the four accumulators' lanes summed <em>together</em>. Each row's sum is bit for bit what
 * {@link SimdDotTiles#rows4} gives (the same multiply-adds, then {@link SimdRows#laneSum}'s pairwise tree: lanes
 * {@code i} and {@code i ^ LANES/2} first, down to {@code i ^ 1}), so a query ranks rows the same alone and in a
 * batch.
 *
 * <p>Why a kernel of its own: summing each accumulator on its own takes four dependent shuffle-and-add levels per
 * row, and on the scan's short rows (384 elements: 24 vector loads of I8) those were about a third of a row's time
 * on a 512-bit machine (a BF16 row: 47-63 ns against 33-39 ns with the shared tree, cache-resident, measured). The
 * shared tree blends two accumulators into one vector at each of the first two levels, so four rows take five
 * shuffles instead of sixteen. For vectors of fewer than 4 or more than 16 lanes it falls back to
 * {@link SimdDotTiles#rows4}.
 *
 * <p>Stateless; thread-safe.
 */
final class SimdDotScan {
    private static final VectorSpecies<Float> F = SimdDotKernels.F;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final int LANES = SimdDotKernels.LANES;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    /** Whether the shared tree applies (it has two blend levels, and laneSum's tree stops at 16 lanes). */
    private static final boolean SHARED_TREE = LANES >= 4 && LANES <= 16;
    private static final VectorMask<Float> M_HALF = bit(LANES / 2);
    private static final VectorMask<Float> M_QUARTER = bit(Math.max(1, LANES / 4));
    private static final VectorShuffle<Float> S_HALF = VectorShuffle.fromOp(F, i -> (i ^ (LANES / 2)) & (LANES - 1));
    private static final VectorShuffle<Float> S_QUARTER =
            VectorShuffle.fromOp(F, i -> (i ^ Math.max(1, LANES / 4)) & (LANES - 1));
    private static final VectorShuffle<Float> S_2 = VectorShuffle.fromOp(F, i -> (i ^ 2) & (LANES - 1));
    private static final VectorShuffle<Float> S_1 = VectorShuffle.fromOp(F, i -> (i ^ 1) & (LANES - 1));
    /** The lane that holds row k's sum after {@link #sum4}. */
    private static final int[] LANE_OF = SHARED_TREE ? lanesOfSums() : new int[4];

    private SimdDotScan() {
    }

    /** Floats of scratch {@link #rows4} needs. */
    static int scratchLength() {
        return LANES;
    }

    /**
     * Rows {@code off + k * gap} (k = 0..3; scales {@code c0..c3} for I8, ignored otherwise) against {@code q} (laid
     * out by {@link SimdDotKernels#layout}) into {@code out[o + k * og]}; {@code sums} holds
     * {@link #scratchLength()} floats of scratch.
     */
    static void rows4(ElementType type, float[] q, int d, MemorySegment seg, long off, long gap, float c0, float c1,
                      float c2, float c3, float[] out, int o, int og, float[] sums) {
        if (!SHARED_TREE) {
            SimdDotTiles.rows4(type, q, d, seg, off, gap, c0, c1, c2, c3, out, o, og);
            return;
        }
        switch (type) {
            case F32 -> f32Rows4(q, d, seg, off, gap, out, o, og, sums);
            case BF16 -> bf16Rows4(q, d, seg, off, gap, out, o, og, sums);
            case I8 -> i8Rows4(q, d, seg, off, gap, c0, c1, c2, c3, out, o, og, sums);
            default -> throw new AssertionError("no scan kernel for " + type);
        }
    }

    private static void f32Rows4(float[] q, int d, MemorySegment seg, long off, long gap, float[] out, int o, int og,
                                 float[] sums) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        long o1 = off + gap;
        long o2 = o1 + gap;
        long o3 = o2 + gap;
        int end = SimdDotKernels.laneEnd(d);
        for (int i = 0; i < end; i += LANES) {
            FloatVector qv = FloatVector.fromArray(F, q, i);
            long b = 4L * i;
            a0 = FloatVector.fromMemorySegment(F, seg, off + b, LE).fma(qv, a0);
            a1 = FloatVector.fromMemorySegment(F, seg, o1 + b, LE).fma(qv, a1);
            a2 = FloatVector.fromMemorySegment(F, seg, o2 + b, LE).fma(qv, a2);
            a3 = FloatVector.fromMemorySegment(F, seg, o3 + b, LE).fma(qv, a3);
        }
        sum4(a0, a1, a2, a3).intoArray(sums, 0);
        out[o] = f32Tail(q, d, end, seg, off, sums[LANE_OF[0]]);
        out[o + og] = f32Tail(q, d, end, seg, o1, sums[LANE_OF[1]]);
        out[o + 2 * og] = f32Tail(q, d, end, seg, o2, sums[LANE_OF[2]]);
        out[o + 3 * og] = f32Tail(q, d, end, seg, o3, sums[LANE_OF[3]]);
    }

    private static void bf16Rows4(float[] q, int d, MemorySegment seg, long off, long gap, float[] out, int o, int og,
                                  float[] sums) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        long o1 = off + gap;
        long o2 = o1 + gap;
        long o3 = o2 + gap;
        int end = SimdDotKernels.pairEnd(d);
        for (int i = 0; i < end; i += 2 * LANES) {
            FloatVector qe = FloatVector.fromArray(F, q, i);
            FloatVector qo = FloatVector.fromArray(F, q, i + LANES);
            long b = 2L * i;
            IntVector v0 = IntVector.fromMemorySegment(I, seg, off + b, LE);
            IntVector v1 = IntVector.fromMemorySegment(I, seg, o1 + b, LE);
            IntVector v2 = IntVector.fromMemorySegment(I, seg, o2 + b, LE);
            IntVector v3 = IntVector.fromMemorySegment(I, seg, o3 + b, LE);
            // even elements first, as SimdDotKernels' BF16 kernels and the tiles
            a0 = SimdDotKernels.bf16Odd(v0).fma(qo, SimdDotKernels.bf16Even(v0).fma(qe, a0));
            a1 = SimdDotKernels.bf16Odd(v1).fma(qo, SimdDotKernels.bf16Even(v1).fma(qe, a1));
            a2 = SimdDotKernels.bf16Odd(v2).fma(qo, SimdDotKernels.bf16Even(v2).fma(qe, a2));
            a3 = SimdDotKernels.bf16Odd(v3).fma(qo, SimdDotKernels.bf16Even(v3).fma(qe, a3));
        }
        sum4(a0, a1, a2, a3).intoArray(sums, 0);
        out[o] = bf16Tail(q, d, end, seg, off, sums[LANE_OF[0]]);
        out[o + og] = bf16Tail(q, d, end, seg, o1, sums[LANE_OF[1]]);
        out[o + 2 * og] = bf16Tail(q, d, end, seg, o2, sums[LANE_OF[2]]);
        out[o + 3 * og] = bf16Tail(q, d, end, seg, o3, sums[LANE_OF[3]]);
    }

    private static void i8Rows4(float[] q, int d, MemorySegment seg, long off, long gap, float c0, float c1,
                                float c2, float c3, float[] out, int o, int og, float[] sums) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        long o1 = off + gap;
        long o2 = o1 + gap;
        long o3 = o2 + gap;
        int end = SimdDotKernels.i8End(d);
        for (int i = 0; i < end; i += LANES) {
            FloatVector qv = FloatVector.fromArray(F, q, i);
            a0 = SimdDotKernels.i8Load(seg, off + i).fma(qv, a0);
            a1 = SimdDotKernels.i8Load(seg, o1 + i).fma(qv, a1);
            a2 = SimdDotKernels.i8Load(seg, o2 + i).fma(qv, a2);
            a3 = SimdDotKernels.i8Load(seg, o3 + i).fma(qv, a3);
        }
        sum4(a0, a1, a2, a3).intoArray(sums, 0);
        out[o] = i8Tail(q, d, end, seg, off, c0, sums[LANE_OF[0]]);
        out[o + og] = i8Tail(q, d, end, seg, o1, c1, sums[LANE_OF[1]]);
        out[o + 2 * og] = i8Tail(q, d, end, seg, o2, c2, sums[LANE_OF[2]]);
        out[o + 3 * og] = i8Tail(q, d, end, seg, o3, c3, sums[LANE_OF[3]]);
    }

    // ---- the tails: elements past the vector loop one FMA at a time, as SimdDotTiles' kernels ----

    private static float f32Tail(float[] q, int d, int end, MemorySegment seg, long off, float laneSum) {
        float s = laneSum;
        for (int i = end; i < d; i++) {
            s = Math.fma(q[i], seg.get(F32, off + 4L * i), s);
        }
        return s;
    }

    private static float bf16Tail(float[] q, int d, int end, MemorySegment seg, long off, float laneSum) {
        float s = laneSum;
        for (int i = end; i < d; i++) {
            s = Math.fma(q[i], SimdDotKernels.bf16At(seg, off, i), s);
        }
        return s;
    }

    /** The lane sum times the row's scale, then the tail decoded as {@code code * scale}. */
    private static float i8Tail(float[] q, int d, int end, MemorySegment seg, long off, float c, float laneSum) {
        float s = laneSum * c;
        for (int i = end; i < d; i++) {
            s = Math.fma(q[i], SimdDotKernels.i8At(seg, off, i, c), s);
        }
        return s;
    }

    // ---- the shared tree ----

    /**
     * The lane sums of four accumulators in one vector (row k's at lane {@code LANE_OF[k]}): the first level pairs
     * lanes {@code i, i ^ LANES/2} of a0 (lanes with that bit clear) and of a1 (set), likewise a2 and a3; the
     * second pairs {@code i, i ^ LANES/4} of those two results; the levels below add a vector to itself.
     */
    private static FloatVector sum4(FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3) {
        FloatVector v = quarter(half(a0, a1), half(a2, a3));
        if (LANES >= 16) {
            v = v.add(v.rearrange(S_2));
        }
        if (LANES >= 8) {
            v = v.add(v.rearrange(S_1));
        }
        return v;
    }

    private static FloatVector half(FloatVector a, FloatVector b) {
        return a.blend(b, M_HALF).add(b.blend(a, M_HALF).rearrange(S_HALF));
    }

    private static FloatVector quarter(FloatVector a, FloatVector b) {
        return a.blend(b, M_QUARTER).add(b.blend(a, M_QUARTER).rearrange(S_QUARTER));
    }

    private static VectorMask<Float> bit(int s) {
        boolean[] set = new boolean[LANES];
        for (int i = 0; i < LANES; i++) {
            set[i] = (i & s) != 0;
        }
        return VectorMask.fromArray(F, set, 0);
    }

    /** Runs {@link #sum4} once on accumulators whose sums name them. */
    private static int[] lanesOfSums() {
        float[] sums = new float[LANES];
        sum4(FloatVector.broadcast(F, 1), FloatVector.broadcast(F, 2), FloatVector.broadcast(F, 3),
                FloatVector.broadcast(F, 4)).intoArray(sums, 0);
        int[] at = new int[4];
        for (int lane = LANES - 1; lane >= 0; lane--) {
            at[Math.round(sums[lane] / LANES) - 1] = lane;
        }
        return at;
    }
}
