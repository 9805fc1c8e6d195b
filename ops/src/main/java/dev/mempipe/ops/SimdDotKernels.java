package dev.mempipe.ops;

import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.FloatFormats;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Type-specialized scan kernels of the dot-like ops: f32 queries (decoded once, on the heap) against memory
 * rows read straight from a {@link MemorySegment} in their stored type, so no row is ever decoded into a
 * scratch array. The scans are memory-bound: each kernel exists to keep the loads flowing, not to save
 * FLOPs.
 *
 * <ul>
 *   <li>Single query: four rows per iteration, one accumulator each, sharing every query vector load; the four
 *       rows come from the four quarters of a block ({@link #scan}), so the hardware prefetcher runs four
 *       streams. Cosine adds the same four rows' norms right after, from L1.</li>
 *   <li>Several queries: one row against four queries per iteration (two accumulators each), so a row is
 *       decoded once per four queries and re-read from L1, never from memory.</li>
 *   <li>2-byte keys (BF16, F16, I16) are loaded as int lanes holding an (even, odd) element pair and split
 *       with a shift and a mask: one full-width load and no cross-lane widening. The query is permuted to
 *       match once ({@link #layout}); the sum's terms are the same, in another order.</li>
 *   <li>F16 has no conversion op in the Vector API: {@code bits << 13} viewed as f32 times 2^112 is the
 *       exact value for normal and subnormal halves; infinities and NaNs get the all-ones exponent back
 *       with a masked OR (the SSE2 "half to float" of F16C-less x86). That decode is many IR nodes, so F16
 *       kernels take one row at a time (see {@link #f16Dot}).</li>
 *   <li>I8 keys widen 8 bytes to one float vector (B2F); integer keys sum {@code q_i * code_i} and
 *       multiply by the row scale once, while scalar tails decode {@code code * scale} like the reference,
 *       which keeps tiny widths inside the tolerance.</li>
 *   <li>Integer-by-integer products are exact: I8 x I8 codes in f32 lanes are exact while each lane sums at
 *       most 1024 products ({@code 1024 * 2^14 = 2^24}), then the lanes are summed as ints; the other pairs
 *       multiply in int lanes (at most {@code 2^30}) and add into long lanes.</li>
 *   <li>Small helpers that take or return vectors stay under C2's 35-byte inlining limit: one that is not
 *       inlined boxes its vectors and costs ten times over.</li>
 * </ul>
 *
 * <p>Accumulation is f32 with one or two accumulators per (row, query): at most about
 * {@code d / LANES + log2(LANES) + 2} roundings per result, inside the contract's {@code 2 d 2^-24} bound.
 * Stateless and thread-safe.
 */
final class SimdDotKernels {
    static final VectorSpecies<Float> F = SimdRows.F;
    static final int LANES = F.length();
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final VectorSpecies<Long> L = VectorSpecies.of(long.class, F.vectorShape());
    /** LANES bytes, widened to one float vector; null where no such shape exists (128-bit vectors). */
    private static final VectorSpecies<Byte> B_QUARTER = speciesOrNull(byte.class, F.vectorBitSize() / 4);
    /** LANES shorts, widened to one int vector. */
    private static final VectorSpecies<Short> S_HALF = speciesOrNull(short.class, F.vectorBitSize() / 2);
    private static final boolean BYTE_WIDENING = B_QUARTER != null && B_QUARTER.length() == LANES;
    private static final boolean SHORT_WIDENING = S_HALF != null && S_HALF.length() == LANES;

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfByte I8 = ValueLayout.JAVA_BYTE;

    private static final VectorOperators.Associative ADD_OP = VectorOperators.ADD;
    /** Elements per exact I8 x I8 chunk: every f32 lane then sums at most 1024 products of magnitude 2^14. */
    private static final int EXACT_I8_CHUNK = 1024 * LANES;
    private static final float TWO_POW_112 = 0x1p112f;

    private SimdDotKernels() {
    }

    private static <E> VectorSpecies<E> speciesOrNull(Class<E> type, int bits) {
        for (VectorShape s : VectorShape.values()) {
            if (s.vectorBitSize() == bits) {
                return VectorSpecies.of(type, s);
            }
        }
        return null;
    }

    // ---- query preparation ----

    /**
     * The f32 query as the kernels for {@code keyType} read it: 2-byte keys take each block of
     * {@code 2 * LANES} elements as its even elements then its odd ones; other types read it as is. Elements
     * past the last full block stay in place (the scalar tail reads them).
     */
    static float[] layout(float[] q, int d, ElementType keyType) {
        float[] p = Arrays.copyOf(q, d);
        if (keyType.byteSize() == 2) {
            int end = pairEnd(d);
            for (int b = 0; b < end; b += 2 * LANES) {
                for (int k = 0; k < LANES; k++) {
                    p[b + k] = q[b + 2 * k];
                    p[b + LANES + k] = q[b + 2 * k + 1];
                }
            }
        }
        return p;
    }

    static int laneEnd(int d) {
        return d - d % LANES;
    }

    static int pairEnd(int d) {
        return d - d % (2 * LANES);
    }

    // ---- orchestration over a block of rows ----

    /**
     * Scores {@code count} rows (the first at byte {@code off}, then {@code stride} apart; their scales, for
     * integer types, from float {@code scaleRow} of {@code scales}) against every query of {@code qs}
     * (prepared by {@link #layout}): {@code out[j * os + r]} is query j against row r, the decoded row's
     * value. When {@code norms} is not null, {@code norms[r]} receives row r's squared L2 norm (with the
     * scale for integer types) and query 0 is scored alongside it.
     */
    static void scan(ElementType type, float[][] qs, int d, MemorySegment seg, long off, long stride,
                     MemorySegment scales, long scaleRow, int count, float[] out, int os, float[] norms) {
        int m = qs.length;
        boolean quantized = type.isQuantized();
        // The block is walked as four quarters side by side: four hardware prefetch streams instead of one
        // keep enough cache lines in flight to overlap the decoding with the memory latency (BF16 and I8
        // keys gained half again their speed, f32 a fifth).
        int h = count / 4;
        long gap = h * stride;
        if (m == 1 || type == ElementType.F32) {
            Groups groups = Groups.mine(h);
            for (int r = 0; m % 4 != 0 && r < h; r++) { // group r: row r of each quarter (for the one-query kernels)
                groups.set(r, off + r * stride, gap, scales, quantized, scaleRow + r, h);
            }
            if (m == 1 && norms == null) { // one call for the block: the kernel loops over its groups
                rows(type, qs[0], d, seg, groups, 0, h, out, 0, 1, h);
            } else if (m == 1) {
                for (int r = 0; r < h; r++) {
                    rows(type, qs[0], d, seg, groups, r, 1, out, r, 1, h);
                    norms4(type, d, seg, off + r * stride, gap, scales, scaleRow + r, norms, r, h); // rows in L1
                }
            } else {
                for (int r = 0; r < h; r++) {
                    long ro = off + r * stride;
                    if (norms != null) {
                        f32Norms4(d, seg, ro, gap, norms, r, h);
                    }
                    int j = 0;
                    for (; j + 4 <= m; j += 4) {
                        f32Rows4Queries4(qs[j], qs[j + 1], qs[j + 2], qs[j + 3], d, seg, ro, gap, out, j * os + r,
                                h, os);
                    }
                    for (; j < m; j++) {
                        f32Rows(qs[j], d, seg, groups.at, groups.cs, r, 1, out, j * os + r, 1, h);
                    }
                }
            }
        } else {
            for (int r = 0; r < h; r++) {
                for (int k = 0; k < 4; k++) {
                    int rr = r + k * h;
                    scoreRow(type, qs, d, seg, off + rr * stride, scaleOf(scales, quantized, scaleRow + rr), out,
                            rr, os, norms);
                }
            }
        }
        for (int rr = 4 * h; rr < count; rr++) {
            scoreRow(type, qs, d, seg, off + rr * stride, scaleOf(scales, quantized, scaleRow + rr), out, rr, os,
                    norms);
        }
    }

    /** One row against every query, four queries per pass over the row; query 0 also yields the norm. */
    private static void scoreRow(ElementType type, float[][] qs, int d, MemorySegment seg, long ro, float scale,
                                 float[] out, int r, int os, float[] norms) {
        int m = qs.length;
        int j = 0;
        if (norms != null) {
            out[r] = row(type, qs[0], d, seg, ro, scale, norms, r);
            j = 1;
        }
        for (; j + 4 <= m; j += 4) {
            queries4(type, qs[j], qs[j + 1], qs[j + 2], qs[j + 3], d, seg, ro, scale, out, j * os + r, os);
        }
        for (; j < m; j++) {
            out[j * os + r] = row(type, qs[j], d, seg, ro, scale, null, 0);
        }
    }

    private static float scaleOf(MemorySegment scales, boolean quantized, long row) {
        return quantized ? scales.get(F32, row * Float.BYTES) : 1f;
    }

    /**
     * The byte offsets and scales of groups of four rows, as {@link #rows} reads them: group g's rows at
     * {@code at[4g .. 4g + 3]}, their scales (integer types; 1 otherwise) at {@code cs[4g .. 4g + 3]}. One per thread
     * ({@link #mine}), grown as needed: a scan fills it once per block instead of passing four offsets per call.
     */
    static final class Groups {
        private static final ThreadLocal<Groups> MINE = ThreadLocal.withInitial(Groups::new);

        long[] at = new long[256];
        float[] cs = new float[256];

        private Groups() {
        }

        /** This thread's groups, with room for {@code groups} of them (their contents are the caller's to set). */
        static Groups mine(int groups) {
            Groups g = MINE.get();
            if (g.at.length < 4 * groups) {
                g.at = new long[Math.max(4 * groups, 2 * g.at.length)];
                g.cs = new float[g.at.length];
            }
            return g;
        }

        /** Group g: rows at {@code off + k * gap} whose scales are rows {@code scaleRow + k * scaleGap}. */
        void set(int g, long off, long gap, MemorySegment scales, boolean quantized, long scaleRow, long scaleGap) {
            int p = 4 * g;
            for (int k = 0; k < 4; k++) {
                at[p + k] = off + k * gap;
                cs[p + k] = scaleOf(scales, quantized, scaleRow + k * scaleGap);
            }
        }

        /** Row k of group g at byte {@code offset} with scale {@code scale}. */
        void set(int g, int k, long offset, float scale) {
            at[4 * g + k] = offset;
            cs[4 * g + k] = scale;
        }
    }

    /**
     * Groups {@code [first, first + count)} of {@code groups} against one query: group g's four rows (a gathered set
     * or four quarters of a block: their cache misses overlap) into {@code out[o + (g - first) * os + k * og]}. The
     * loop over groups runs inside each type's kernel: C2 compiles a kernel this size on its own (too large to inline
     * once compiled), and with a call per four rows the I8 scan ran 14-17% slower at d = 128 (session 11,
     * {@code BuildPairHarness}).
     */
    static void rows(ElementType type, float[] q, int d, MemorySegment seg, Groups groups, int first, int count,
                     float[] out, int o, int os, int og) {
        long[] at = groups.at;
        float[] cs = groups.cs;
        switch (type) {
            case F32 -> f32Rows(q, d, seg, at, cs, first, count, out, o, os, og);
            case BF16 -> bf16Rows(q, d, seg, at, cs, first, count, out, o, os, og);
            case F16 -> {
                for (int g = first; g < first + count; g++) {
                    int ot = o + (g - first) * os;
                    for (int k = 0; k < 4; k++) {
                        out[ot + k * og] = f16Dot(q, d, seg, at[4 * g + k]);
                    }
                }
            }
            case I16 -> i16Rows(q, d, seg, at, cs, first, count, out, o, os, og);
            case I8 -> i8Rows(q, d, seg, at, cs, first, count, out, o, os, og);
        }
    }

    /** Squared L2 norms of rows {@code off + k * gap} (decoded, with the scale) into {@code norms[o + k * og]}. */
    private static void norms4(ElementType type, int d, MemorySegment seg, long off, long gap, MemorySegment scales,
                               long scaleRow, float[] norms, int o, int og) {
        switch (type) {
            case F32 -> f32Norms4(d, seg, off, gap, norms, o, og);
            case BF16 -> bf16Norms4(d, seg, off, gap, norms, o, og);
            case F16 -> {
                for (int k = 0; k < 4; k++) {
                    norms[o + k * og] = f16Norm(d, seg, off + k * gap);
                }
            }
            case I16 -> i16Norms4(d, seg, off, gap, scales, scaleRow, norms, o, og);
            case I8 -> i8Norms4(d, seg, off, gap, scales, scaleRow, norms, o, og);
        }
    }

    /** One row against one query; writes the row's squared norm to {@code norms[o]} when not null. */
    static float row(ElementType type, float[] q, int d, MemorySegment seg, long off, float scale,
                     float[] norms, int o) {
        return switch (type) {
            case F32 -> f32Row(q, d, seg, off, norms, o);
            case BF16 -> bf16Row(q, d, seg, off, norms, o);
            case F16 -> f16Row(q, d, seg, off, norms, o);
            case I16 -> i16Row(q, d, seg, off, scale, norms, o);
            case I8 -> i8Row(q, d, seg, off, scale, norms, o);
        };
    }

    private static void queries4(ElementType type, float[] q0, float[] q1, float[] q2, float[] q3, int d,
                                 MemorySegment seg, long off, float scale, float[] out, int o, int os) {
        switch (type) {
            case F32 -> f32Queries4(q0, q1, q2, q3, d, seg, off, out, o, os);
            case BF16 -> bf16Queries4(q0, q1, q2, q3, d, seg, off, out, o, os);
            case F16 -> f16Queries4(q0, q1, q2, q3, d, seg, off, out, o, os);
            case I16 -> i16Queries4(q0, q1, q2, q3, d, seg, off, scale, out, o, os);
            case I8 -> i8Queries4(q0, q1, q2, q3, d, seg, off, scale, out, o, os);
        }
    }

    // ---- F32 ----

    private static void f32Rows(float[] q, int d, MemorySegment seg, long[] at, float[] cs, int first, int groups,
                                 float[] out, int o, int os, int og) {
        int end = laneEnd(d);
        for (int g = first; g < first + groups; g++) {
            int p = 4 * g;
            long off = at[p];
            long o1 = at[p + 1];
            long o2 = at[p + 2];
            long o3 = at[p + 3];
            int ot = o + (g - first) * os;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            // Each row as a slice of its own, loaded at the loop index: JDK 25's C2 keeps a bounds check on every load
            // in a loop this short when the offset is the row's base plus the index (it hoists long range checks only
            // out of loops it profiles as long-running, JDK-8342692), and four checks per step cost these kernels
            // about a tenth of their time in cache (docs/PERFORMANCE.md, "Compact keys", session 10).
            MemorySegment r0 = seg.asSlice(off, 4L * d);
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
            finishRows4(q, d, seg, off, o1, o2, o3, end, a0, a1, a2, a3, out, ot, og);
        }
    }

    /**
     * Rows {@code off + k * gap} (k = 0..3) against queries q0..q3 into {@code out[o + qi * os + k * og]}: a 4 x 4
     * register block, so each loaded vector feeds four multiply-adds (eight loads per sixteen FMAs; one query
     * against one row at a time was load-bound at half that). Each pair keeps one accumulator, as
     * {@link #f32Rows} does, so a batch scores every row as a single query does, up to the order in which
     * {@code reduceLanes} adds the 16 lanes (it may differ between JIT tiers; {@code SimdRows.laneSum} would fix
     * it, but cost this kernel a fifth of its speed).
     */
    private static void f32Rows4Queries4(float[] q0, float[] q1, float[] q2, float[] q3, int d, MemorySegment seg,
                                         long off, long gap, float[] out, int o, int og, int os) {
        long o1 = off + gap;
        long o2 = o1 + gap;
        long o3 = o2 + gap;
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int end = laneEnd(d);
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
        finishRows4(q0, d, seg, off, o1, o2, o3, end, a00, a01, a02, a03, out, o, og);
        finishRows4(q1, d, seg, off, o1, o2, o3, end, a10, a11, a12, a13, out, o + os, og);
        finishRows4(q2, d, seg, off, o1, o2, o3, end, a20, a21, a22, a23, out, o + 2 * os, og);
        finishRows4(q3, d, seg, off, o1, o2, o3, end, a30, a31, a32, a33, out, o + 3 * os, og);
    }

    /** Reduces one query's four row accumulators, adds the scalar tail from {@code end}, and stores the scores. */
    private static void finishRows4(float[] q, int d, MemorySegment seg, long off, long o1, long o2, long o3,
                                    int end, FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3,
                                    float[] out, int o, int og) {
        float s0 = a0.reduceLanes(ADD_OP);
        float s1 = a1.reduceLanes(ADD_OP);
        float s2 = a2.reduceLanes(ADD_OP);
        float s3 = a3.reduceLanes(ADD_OP);
        for (int i = end; i < d; i++) {
            float qi = q[i];
            long b = 4L * i;
            s0 = Math.fma(qi, seg.get(F32, off + b), s0);
            s1 = Math.fma(qi, seg.get(F32, o1 + b), s1);
            s2 = Math.fma(qi, seg.get(F32, o2 + b), s2);
            s3 = Math.fma(qi, seg.get(F32, o3 + b), s3);
        }
        out[o] = s0;
        out[o + og] = s1;
        out[o + 2 * og] = s2;
        out[o + 3 * og] = s3;
    }

    private static void f32Norms4(int d, MemorySegment seg, long off, long gap, float[] norms, int o, int og) {
        long o1 = off + gap;
        long o2 = o1 + gap;
        long o3 = o2 + gap;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int end = laneEnd(d);
        for (int i = 0; i < end; i += LANES) {
            long b = 4L * i;
            FloatVector k0 = FloatVector.fromMemorySegment(F, seg, off + b, LE);
            FloatVector k1 = FloatVector.fromMemorySegment(F, seg, o1 + b, LE);
            FloatVector k2 = FloatVector.fromMemorySegment(F, seg, o2 + b, LE);
            FloatVector k3 = FloatVector.fromMemorySegment(F, seg, o3 + b, LE);
            a0 = k0.fma(k0, a0);
            a1 = k1.fma(k1, a1);
            a2 = k2.fma(k2, a2);
            a3 = k3.fma(k3, a3);
        }
        float s0 = a0.reduceLanes(ADD_OP);
        float s1 = a1.reduceLanes(ADD_OP);
        float s2 = a2.reduceLanes(ADD_OP);
        float s3 = a3.reduceLanes(ADD_OP);
        for (int i = end; i < d; i++) {
            long b = 4L * i;
            float k0 = seg.get(F32, off + b);
            float k1 = seg.get(F32, o1 + b);
            float k2 = seg.get(F32, o2 + b);
            float k3 = seg.get(F32, o3 + b);
            s0 = Math.fma(k0, k0, s0);
            s1 = Math.fma(k1, k1, s1);
            s2 = Math.fma(k2, k2, s2);
            s3 = Math.fma(k3, k3, s3);
        }
        norms[o] = s0;
        norms[o + og] = s1;
        norms[o + 2 * og] = s2;
        norms[o + 3 * og] = s3;
    }

    private static float f32Row(float[] q, int d, MemorySegment seg, long off, float[] norms, int o) {
        FloatVector acc = FloatVector.zero(F);
        FloatVector nacc = acc;
        int end = laneEnd(d);
        for (int i = 0; i < end; i += LANES) {
            FloatVector k = FloatVector.fromMemorySegment(F, seg, off + 4L * i, LE);
            acc = k.fma(FloatVector.fromArray(F, q, i), acc);
            nacc = k.fma(k, nacc);
        }
        float s = acc.reduceLanes(ADD_OP);
        float n = nacc.reduceLanes(ADD_OP);
        for (int i = end; i < d; i++) {
            float k = seg.get(F32, off + 4L * i);
            s = Math.fma(q[i], k, s);
            n = Math.fma(k, k, n);
        }
        if (norms != null) {
            norms[o] = n;
        }
        return s;
    }

    private static void f32Queries4(float[] q0, float[] q1, float[] q2, float[] q3, int d, MemorySegment seg,
                                    long off, float[] out, int o, int os) {
        // One accumulator per query, summed in the order f32Row and f32Rows use: a row scores the same
        // whether its query comes alone or in a batch (up to reduceLanes' order of the lanes).
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int end = laneEnd(d);
        for (int i = 0; i < end; i += LANES) {
            FloatVector k = FloatVector.fromMemorySegment(F, seg, off + 4L * i, LE);
            a0 = k.fma(FloatVector.fromArray(F, q0, i), a0);
            a1 = k.fma(FloatVector.fromArray(F, q1, i), a1);
            a2 = k.fma(FloatVector.fromArray(F, q2, i), a2);
            a3 = k.fma(FloatVector.fromArray(F, q3, i), a3);
        }
        float s0 = a0.reduceLanes(ADD_OP);
        float s1 = a1.reduceLanes(ADD_OP);
        float s2 = a2.reduceLanes(ADD_OP);
        float s3 = a3.reduceLanes(ADD_OP);
        for (int i = end; i < d; i++) {
            float k = seg.get(F32, off + 4L * i);
            s0 = Math.fma(q0[i], k, s0);
            s1 = Math.fma(q1[i], k, s1);
            s2 = Math.fma(q2[i], k, s2);
            s3 = Math.fma(q3[i], k, s3);
        }
        out[o] = s0;
        out[o + os] = s1;
        out[o + 2 * os] = s2;
        out[o + 3 * os] = s3;
    }

    // ---- BF16: the int lane's low half is the even element, its high half the odd one ----

    static FloatVector bf16Even(IntVector v) {
        return v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    static FloatVector bf16Odd(IntVector v) {
        return v.lanewise(VectorOperators.AND, 0xFFFF_0000).reinterpretAsFloats();
    }

    static float bf16At(MemorySegment seg, long off, int i) {
        return FloatFormats.bf16ToFloat(seg.get(I16, off + 2L * i));
    }

    private static void bf16Rows(float[] q, int d, MemorySegment seg, long[] at, float[] cs, int first, int groups,
                                 float[] out, int o, int os, int og) {
        int end = pairEnd(d);
        for (int g = first; g < first + groups; g++) {
            int p = 4 * g;
            long off = at[p];
            long o1 = at[p + 1];
            long o2 = at[p + 2];
            long o3 = at[p + 3];
            int ot = o + (g - first) * os;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            MemorySegment r0 = seg.asSlice(off, 2L * d); // see f32Rows
            MemorySegment r1 = seg.asSlice(o1, 2L * d);
            MemorySegment r2 = seg.asSlice(o2, 2L * d);
            MemorySegment r3 = seg.asSlice(o3, 2L * d);
            for (int i = 0; i < end; i += 2 * LANES) {
                FloatVector qe = FloatVector.fromArray(F, q, i);
                FloatVector qo = FloatVector.fromArray(F, q, i + LANES);
                long b = 2L * i;
                IntVector v0 = IntVector.fromMemorySegment(I, r0, b, LE);
                IntVector v1 = IntVector.fromMemorySegment(I, r1, b, LE);
                IntVector v2 = IntVector.fromMemorySegment(I, r2, b, LE);
                IntVector v3 = IntVector.fromMemorySegment(I, r3, b, LE);
                a0 = bf16Odd(v0).fma(qo, bf16Even(v0).fma(qe, a0));
                a1 = bf16Odd(v1).fma(qo, bf16Even(v1).fma(qe, a1));
                a2 = bf16Odd(v2).fma(qo, bf16Even(v2).fma(qe, a2));
                a3 = bf16Odd(v3).fma(qo, bf16Even(v3).fma(qe, a3));
            }
            float s0 = a0.reduceLanes(ADD_OP);
            float s1 = a1.reduceLanes(ADD_OP);
            float s2 = a2.reduceLanes(ADD_OP);
            float s3 = a3.reduceLanes(ADD_OP);
            for (int i = end; i < d; i++) {
                float qi = q[i];
                s0 = Math.fma(qi, bf16At(seg, off, i), s0);
                s1 = Math.fma(qi, bf16At(seg, o1, i), s1);
                s2 = Math.fma(qi, bf16At(seg, o2, i), s2);
                s3 = Math.fma(qi, bf16At(seg, o3, i), s3);
            }
            out[ot] = s0;
            out[ot + og] = s1;
            out[ot + 2 * og] = s2;
            out[ot + 3 * og] = s3;
        }
    }

    private static void bf16Norms4(int d, MemorySegment seg, long off, long gap, float[] norms, int o, int og) {
        long o1 = off + gap;
        long o2 = o1 + gap;
        long o3 = o2 + gap;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int end = pairEnd(d);
        for (int i = 0; i < end; i += 2 * LANES) {
            long b = 2L * i;
            IntVector v0 = IntVector.fromMemorySegment(I, seg, off + b, LE);
            IntVector v1 = IntVector.fromMemorySegment(I, seg, o1 + b, LE);
            IntVector v2 = IntVector.fromMemorySegment(I, seg, o2 + b, LE);
            IntVector v3 = IntVector.fromMemorySegment(I, seg, o3 + b, LE);
            a0 = squares(bf16Even(v0), bf16Odd(v0), a0);
            a1 = squares(bf16Even(v1), bf16Odd(v1), a1);
            a2 = squares(bf16Even(v2), bf16Odd(v2), a2);
            a3 = squares(bf16Even(v3), bf16Odd(v3), a3);
        }
        float s0 = a0.reduceLanes(ADD_OP);
        float s1 = a1.reduceLanes(ADD_OP);
        float s2 = a2.reduceLanes(ADD_OP);
        float s3 = a3.reduceLanes(ADD_OP);
        for (int i = end; i < d; i++) {
            float k0 = bf16At(seg, off, i);
            float k1 = bf16At(seg, o1, i);
            float k2 = bf16At(seg, o2, i);
            float k3 = bf16At(seg, o3, i);
            s0 = Math.fma(k0, k0, s0);
            s1 = Math.fma(k1, k1, s1);
            s2 = Math.fma(k2, k2, s2);
            s3 = Math.fma(k3, k3, s3);
        }
        norms[o] = s0;
        norms[o + og] = s1;
        norms[o + 2 * og] = s2;
        norms[o + 3 * og] = s3;
    }

    /** {@code acc + e*e + o*o}. */
    private static FloatVector squares(FloatVector e, FloatVector o, FloatVector acc) {
        return o.fma(o, e.fma(e, acc));
    }

    private static float bf16Row(float[] q, int d, MemorySegment seg, long off, float[] norms, int o) {
        FloatVector acc = FloatVector.zero(F);
        FloatVector nacc = acc;
        int end = pairEnd(d);
        for (int i = 0; i < end; i += 2 * LANES) {
            IntVector v = IntVector.fromMemorySegment(I, seg, off + 2L * i, LE);
            FloatVector e = bf16Even(v);
            FloatVector od = bf16Odd(v);
            acc = od.fma(FloatVector.fromArray(F, q, i + LANES), e.fma(FloatVector.fromArray(F, q, i), acc));
            nacc = od.fma(od, e.fma(e, nacc));
        }
        float s = acc.reduceLanes(ADD_OP);
        float n = nacc.reduceLanes(ADD_OP);
        for (int i = end; i < d; i++) {
            float k = bf16At(seg, off, i);
            s = Math.fma(q[i], k, s);
            n = Math.fma(k, k, n);
        }
        if (norms != null) {
            norms[o] = n;
        }
        return s;
    }

    private static void bf16Queries4(float[] q0, float[] q1, float[] q2, float[] q3, int d, MemorySegment seg,
                                     long off, float[] out, int o, int os) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector b0 = a0; // the odd elements' own accumulators: eight independent FMA chains
        FloatVector b1 = a0;
        FloatVector b2 = a0;
        FloatVector b3 = a0;
        int end = pairEnd(d);
        for (int i = 0; i < end; i += 2 * LANES) {
            IntVector v = IntVector.fromMemorySegment(I, seg, off + 2L * i, LE);
            FloatVector e = bf16Even(v);
            FloatVector od = bf16Odd(v);
            int j = i + LANES;
            a0 = e.fma(FloatVector.fromArray(F, q0, i), a0);
            b0 = od.fma(FloatVector.fromArray(F, q0, j), b0);
            a1 = e.fma(FloatVector.fromArray(F, q1, i), a1);
            b1 = od.fma(FloatVector.fromArray(F, q1, j), b1);
            a2 = e.fma(FloatVector.fromArray(F, q2, i), a2);
            b2 = od.fma(FloatVector.fromArray(F, q2, j), b2);
            a3 = e.fma(FloatVector.fromArray(F, q3, i), a3);
            b3 = od.fma(FloatVector.fromArray(F, q3, j), b3);
        }
        float s0 = a0.add(b0).reduceLanes(ADD_OP);
        float s1 = a1.add(b1).reduceLanes(ADD_OP);
        float s2 = a2.add(b2).reduceLanes(ADD_OP);
        float s3 = a3.add(b3).reduceLanes(ADD_OP);
        for (int i = end; i < d; i++) {
            float k = bf16At(seg, off, i);
            s0 = Math.fma(q0[i], k, s0);
            s1 = Math.fma(q1[i], k, s1);
            s2 = Math.fma(q2[i], k, s2);
            s3 = Math.fma(q3[i], k, s3);
        }
        out[o] = s0;
        out[o + os] = s1;
        out[o + 2 * os] = s2;
        out[o + 3 * os] = s3;
    }

    // ---- F16: as BF16, plus the exponent rebias ----

    // Each helper stays under C2's 35-byte MaxInlineSize: a helper that is not inlined boxes its vectors,
    // which made the first F16 kernel ten times slower than the others.

    /** Exact f32 of the binary16 in the high half of each lane (the low half must be zero). */
    private static FloatVector f16High(IntVector h) {
        IntVector mag = f16Magnitude(h);
        return f16InfNan(f16Rebias(mag), mag).or(h.lanewise(VectorOperators.AND, 0x8000_0000)).reinterpretAsFloats();
    }

    /** Exponent and mantissa moved to the f32 positions: {@code (h & 0x7fff) << 13}. */
    private static IntVector f16Magnitude(IntVector h) {
        return h.lanewise(VectorOperators.AND, 0x7FFF_0000).lanewise(VectorOperators.LSHR, 3);
    }

    /** Times 2^112 rebias the exponent; exact for normal and subnormal halves alike. */
    private static IntVector f16Rebias(IntVector mag) {
        return mag.reinterpretAsFloats().mul(TWO_POW_112).reinterpretAsInts();
    }

    /** Infinity and NaN halves get the all-ones f32 exponent (their mantissa is already in place). */
    private static IntVector f16InfNan(IntVector bits, IntVector mag) {
        return bits.lanewise(VectorOperators.OR, 0x7F80_0000, mag.compare(VectorOperators.GT, 0x7BFF << 13));
    }

    private static FloatVector f16Even(IntVector v) {
        return f16High(v.lanewise(VectorOperators.LSHL, 16));
    }

    private static FloatVector f16Odd(IntVector v) {
        return f16High(v.lanewise(VectorOperators.AND, 0xFFFF_0000));
    }

    private static float f16At(MemorySegment seg, long off, int i) {
        return Float.float16ToFloat(seg.get(I16, off + 2L * i));
    }

    /**
     * One row, two accumulators: the F16 decode is so many IR nodes that C2 stops inlining
     * (NodeCountInliningCutoff) after about two of them per method, and a decode left out of line boxes its
     * vectors (ten times slower). Row blocking is left to the caller's loop.
     */
    private static float f16Dot(float[] q, int d, MemorySegment seg, long off) {
        FloatVector even = FloatVector.zero(F);
        FloatVector odd = even;
        int end = pairEnd(d);
        for (int i = 0; i < end; i += 2 * LANES) {
            IntVector v = IntVector.fromMemorySegment(I, seg, off + 2L * i, LE);
            even = f16Even(v).fma(FloatVector.fromArray(F, q, i), even);
            odd = f16Odd(v).fma(FloatVector.fromArray(F, q, i + LANES), odd);
        }
        float s = even.add(odd).reduceLanes(ADD_OP);
        for (int i = end; i < d; i++) {
            s = Math.fma(q[i], f16At(seg, off, i), s);
        }
        return s;
    }

    /** One row's squared norm; one row per call for the same reason as {@link #f16Dot}. */
    private static float f16Norm(int d, MemorySegment seg, long off) {
        FloatVector even = FloatVector.zero(F);
        FloatVector odd = even;
        int end = pairEnd(d);
        for (int i = 0; i < end; i += 2 * LANES) {
            IntVector v = IntVector.fromMemorySegment(I, seg, off + 2L * i, LE);
            FloatVector e = f16Even(v);
            FloatVector od = f16Odd(v);
            even = e.fma(e, even);
            odd = od.fma(od, odd);
        }
        float s = even.add(odd).reduceLanes(ADD_OP);
        for (int i = end; i < d; i++) {
            float k = f16At(seg, off, i);
            s = Math.fma(k, k, s);
        }
        return s;
    }

    private static float f16Row(float[] q, int d, MemorySegment seg, long off, float[] norms, int o) {
        FloatVector acc = FloatVector.zero(F);
        FloatVector nacc = acc;
        int end = pairEnd(d);
        for (int i = 0; i < end; i += 2 * LANES) {
            IntVector v = IntVector.fromMemorySegment(I, seg, off + 2L * i, LE);
            FloatVector e = f16Even(v);
            FloatVector od = f16Odd(v);
            acc = od.fma(FloatVector.fromArray(F, q, i + LANES), e.fma(FloatVector.fromArray(F, q, i), acc));
            nacc = od.fma(od, e.fma(e, nacc));
        }
        float s = acc.reduceLanes(ADD_OP);
        float n = nacc.reduceLanes(ADD_OP);
        for (int i = end; i < d; i++) {
            float k = f16At(seg, off, i);
            s = Math.fma(q[i], k, s);
            n = Math.fma(k, k, n);
        }
        if (norms != null) {
            norms[o] = n;
        }
        return s;
    }

    private static void f16Queries4(float[] q0, float[] q1, float[] q2, float[] q3, int d, MemorySegment seg,
                                    long off, float[] out, int o, int os) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector b0 = a0; // the odd elements' own accumulators: eight independent FMA chains
        FloatVector b1 = a0;
        FloatVector b2 = a0;
        FloatVector b3 = a0;
        int end = pairEnd(d);
        for (int i = 0; i < end; i += 2 * LANES) {
            IntVector v = IntVector.fromMemorySegment(I, seg, off + 2L * i, LE);
            FloatVector e = f16Even(v);
            FloatVector od = f16Odd(v);
            int j = i + LANES;
            a0 = e.fma(FloatVector.fromArray(F, q0, i), a0);
            b0 = od.fma(FloatVector.fromArray(F, q0, j), b0);
            a1 = e.fma(FloatVector.fromArray(F, q1, i), a1);
            b1 = od.fma(FloatVector.fromArray(F, q1, j), b1);
            a2 = e.fma(FloatVector.fromArray(F, q2, i), a2);
            b2 = od.fma(FloatVector.fromArray(F, q2, j), b2);
            a3 = e.fma(FloatVector.fromArray(F, q3, i), a3);
            b3 = od.fma(FloatVector.fromArray(F, q3, j), b3);
        }
        float s0 = a0.add(b0).reduceLanes(ADD_OP);
        float s1 = a1.add(b1).reduceLanes(ADD_OP);
        float s2 = a2.add(b2).reduceLanes(ADD_OP);
        float s3 = a3.add(b3).reduceLanes(ADD_OP);
        for (int i = end; i < d; i++) {
            float k = f16At(seg, off, i);
            s0 = Math.fma(q0[i], k, s0);
            s1 = Math.fma(q1[i], k, s1);
            s2 = Math.fma(q2[i], k, s2);
            s3 = Math.fma(q3[i], k, s3);
        }
        out[o] = s0;
        out[o + os] = s1;
        out[o + 2 * os] = s2;
        out[o + 3 * os] = s3;
    }

    // ---- I16: codes summed against the query, times the row scale once; tails decode code * scale ----

    private static FloatVector i16Even(IntVector v) {
        return (FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                .convert(VectorOperators.I2F, 0);
    }

    private static FloatVector i16Odd(IntVector v) {
        return (FloatVector) v.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
    }

    private static float i16At(MemorySegment seg, long off, int i, float scale) {
        return seg.get(I16, off + 2L * i) * scale;
    }

    private static void i16Rows(float[] q, int d, MemorySegment seg, long[] at, float[] cs, int first, int groups,
                                 float[] out, int o, int os, int og) {
        int end = pairEnd(d);
        for (int g = first; g < first + groups; g++) {
            int p = 4 * g;
            long off = at[p];
            long o1 = at[p + 1];
            long o2 = at[p + 2];
            long o3 = at[p + 3];
            float c0 = cs[p];
            float c1 = cs[p + 1];
            float c2 = cs[p + 2];
            float c3 = cs[p + 3];
            int ot = o + (g - first) * os;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            MemorySegment r0 = seg.asSlice(off, 2L * d); // see f32Rows
            MemorySegment r1 = seg.asSlice(o1, 2L * d);
            MemorySegment r2 = seg.asSlice(o2, 2L * d);
            MemorySegment r3 = seg.asSlice(o3, 2L * d);
            for (int i = 0; i < end; i += 2 * LANES) {
                FloatVector qe = FloatVector.fromArray(F, q, i);
                FloatVector qo = FloatVector.fromArray(F, q, i + LANES);
                long b = 2L * i;
                IntVector v0 = IntVector.fromMemorySegment(I, r0, b, LE);
                IntVector v1 = IntVector.fromMemorySegment(I, r1, b, LE);
                IntVector v2 = IntVector.fromMemorySegment(I, r2, b, LE);
                IntVector v3 = IntVector.fromMemorySegment(I, r3, b, LE);
                a0 = i16Odd(v0).fma(qo, i16Even(v0).fma(qe, a0));
                a1 = i16Odd(v1).fma(qo, i16Even(v1).fma(qe, a1));
                a2 = i16Odd(v2).fma(qo, i16Even(v2).fma(qe, a2));
                a3 = i16Odd(v3).fma(qo, i16Even(v3).fma(qe, a3));
            }
            float s0 = a0.reduceLanes(ADD_OP) * c0;
            float s1 = a1.reduceLanes(ADD_OP) * c1;
            float s2 = a2.reduceLanes(ADD_OP) * c2;
            float s3 = a3.reduceLanes(ADD_OP) * c3;
            for (int i = end; i < d; i++) {
                float qi = q[i];
                s0 = Math.fma(qi, i16At(seg, off, i, c0), s0);
                s1 = Math.fma(qi, i16At(seg, o1, i, c1), s1);
                s2 = Math.fma(qi, i16At(seg, o2, i, c2), s2);
                s3 = Math.fma(qi, i16At(seg, o3, i, c3), s3);
            }
            out[ot] = s0;
            out[ot + og] = s1;
            out[ot + 2 * og] = s2;
            out[ot + 3 * og] = s3;
        }
    }

    private static void i16Norms4(int d, MemorySegment seg, long off, long gap, MemorySegment scales,
                                  long scaleRow, float[] norms, int o, int og) {
        long o1 = off + gap;
        long o2 = o1 + gap;
        long o3 = o2 + gap;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int end = pairEnd(d);
        for (int i = 0; i < end; i += 2 * LANES) {
            long b = 2L * i;
            IntVector v0 = IntVector.fromMemorySegment(I, seg, off + b, LE);
            IntVector v1 = IntVector.fromMemorySegment(I, seg, o1 + b, LE);
            IntVector v2 = IntVector.fromMemorySegment(I, seg, o2 + b, LE);
            IntVector v3 = IntVector.fromMemorySegment(I, seg, o3 + b, LE);
            a0 = squares(i16Even(v0), i16Odd(v0), a0);
            a1 = squares(i16Even(v1), i16Odd(v1), a1);
            a2 = squares(i16Even(v2), i16Odd(v2), a2);
            a3 = squares(i16Even(v3), i16Odd(v3), a3);
        }
        float c0 = scales.get(F32, scaleRow * Float.BYTES);
        float c1 = scales.get(F32, (scaleRow + og) * Float.BYTES);
        float c2 = scales.get(F32, (scaleRow + 2L * og) * Float.BYTES);
        float c3 = scales.get(F32, (scaleRow + 3L * og) * Float.BYTES);
        float s0 = a0.reduceLanes(ADD_OP) * c0 * c0;
        float s1 = a1.reduceLanes(ADD_OP) * c1 * c1;
        float s2 = a2.reduceLanes(ADD_OP) * c2 * c2;
        float s3 = a3.reduceLanes(ADD_OP) * c3 * c3;
        for (int i = end; i < d; i++) {
            float k0 = i16At(seg, off, i, c0);
            float k1 = i16At(seg, o1, i, c1);
            float k2 = i16At(seg, o2, i, c2);
            float k3 = i16At(seg, o3, i, c3);
            s0 = Math.fma(k0, k0, s0);
            s1 = Math.fma(k1, k1, s1);
            s2 = Math.fma(k2, k2, s2);
            s3 = Math.fma(k3, k3, s3);
        }
        norms[o] = s0;
        norms[o + og] = s1;
        norms[o + 2 * og] = s2;
        norms[o + 3 * og] = s3;
    }

    private static float i16Row(float[] q, int d, MemorySegment seg, long off, float scale, float[] norms, int o) {
        FloatVector acc = FloatVector.zero(F);
        FloatVector nacc = acc;
        int end = pairEnd(d);
        for (int i = 0; i < end; i += 2 * LANES) {
            IntVector v = IntVector.fromMemorySegment(I, seg, off + 2L * i, LE);
            FloatVector e = i16Even(v);
            FloatVector od = i16Odd(v);
            acc = od.fma(FloatVector.fromArray(F, q, i + LANES), e.fma(FloatVector.fromArray(F, q, i), acc));
            nacc = od.fma(od, e.fma(e, nacc));
        }
        float s = acc.reduceLanes(ADD_OP) * scale;
        float n = nacc.reduceLanes(ADD_OP) * scale * scale;
        for (int i = end; i < d; i++) {
            float k = i16At(seg, off, i, scale);
            s = Math.fma(q[i], k, s);
            n = Math.fma(k, k, n);
        }
        if (norms != null) {
            norms[o] = n;
        }
        return s;
    }

    private static void i16Queries4(float[] q0, float[] q1, float[] q2, float[] q3, int d, MemorySegment seg,
                                    long off, float scale, float[] out, int o, int os) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector b0 = a0; // the odd elements' own accumulators: eight independent FMA chains
        FloatVector b1 = a0;
        FloatVector b2 = a0;
        FloatVector b3 = a0;
        int end = pairEnd(d);
        for (int i = 0; i < end; i += 2 * LANES) {
            IntVector v = IntVector.fromMemorySegment(I, seg, off + 2L * i, LE);
            FloatVector e = i16Even(v);
            FloatVector od = i16Odd(v);
            int j = i + LANES;
            a0 = e.fma(FloatVector.fromArray(F, q0, i), a0);
            b0 = od.fma(FloatVector.fromArray(F, q0, j), b0);
            a1 = e.fma(FloatVector.fromArray(F, q1, i), a1);
            b1 = od.fma(FloatVector.fromArray(F, q1, j), b1);
            a2 = e.fma(FloatVector.fromArray(F, q2, i), a2);
            b2 = od.fma(FloatVector.fromArray(F, q2, j), b2);
            a3 = e.fma(FloatVector.fromArray(F, q3, i), a3);
            b3 = od.fma(FloatVector.fromArray(F, q3, j), b3);
        }
        float s0 = a0.add(b0).reduceLanes(ADD_OP) * scale;
        float s1 = a1.add(b1).reduceLanes(ADD_OP) * scale;
        float s2 = a2.add(b2).reduceLanes(ADD_OP) * scale;
        float s3 = a3.add(b3).reduceLanes(ADD_OP) * scale;
        for (int i = end; i < d; i++) {
            float k = i16At(seg, off, i, scale);
            s0 = Math.fma(q0[i], k, s0);
            s1 = Math.fma(q1[i], k, s1);
            s2 = Math.fma(q2[i], k, s2);
            s3 = Math.fma(q3[i], k, s3);
        }
        out[o] = s0;
        out[o + os] = s1;
        out[o + 2 * os] = s2;
        out[o + 3 * os] = s3;
    }

    // ---- I8: 8 bytes widened to one float vector (B2F); scalar where that shape does not exist ----

    static FloatVector i8Load(MemorySegment seg, long off) {
        return (FloatVector) ByteVector.fromMemorySegment(B_QUARTER, seg, off, LE)
                .convertShape(VectorOperators.B2F, F, 0);
    }

    static float i8At(MemorySegment seg, long off, int i, float scale) {
        return seg.get(I8, off + i) * scale;
    }

    static int i8End(int d) {
        return BYTE_WIDENING ? laneEnd(d) : 0;
    }

    private static void i8Rows(float[] q, int d, MemorySegment seg, long[] at, float[] cs, int first, int groups,
                                 float[] out, int o, int os, int og) {
        int end = i8End(d);
        for (int g = first; g < first + groups; g++) {
            int p = 4 * g;
            long off = at[p];
            long o1 = at[p + 1];
            long o2 = at[p + 2];
            long o3 = at[p + 3];
            float c0 = cs[p];
            float c1 = cs[p + 1];
            float c2 = cs[p + 2];
            float c3 = cs[p + 3];
            int ot = o + (g - first) * os;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            MemorySegment r0 = seg.asSlice(off, d); // see f32Rows
            MemorySegment r1 = seg.asSlice(o1, d);
            MemorySegment r2 = seg.asSlice(o2, d);
            MemorySegment r3 = seg.asSlice(o3, d);
            for (int i = 0; i < end; i += LANES) {
                FloatVector qv = FloatVector.fromArray(F, q, i);
                a0 = i8Load(r0, i).fma(qv, a0);
                a1 = i8Load(r1, i).fma(qv, a1);
                a2 = i8Load(r2, i).fma(qv, a2);
                a3 = i8Load(r3, i).fma(qv, a3);
            }
            float s0 = a0.reduceLanes(ADD_OP) * c0;
            float s1 = a1.reduceLanes(ADD_OP) * c1;
            float s2 = a2.reduceLanes(ADD_OP) * c2;
            float s3 = a3.reduceLanes(ADD_OP) * c3;
            for (int i = end; i < d; i++) {
                float qi = q[i];
                s0 = Math.fma(qi, i8At(seg, off, i, c0), s0);
                s1 = Math.fma(qi, i8At(seg, o1, i, c1), s1);
                s2 = Math.fma(qi, i8At(seg, o2, i, c2), s2);
                s3 = Math.fma(qi, i8At(seg, o3, i, c3), s3);
            }
            out[ot] = s0;
            out[ot + og] = s1;
            out[ot + 2 * og] = s2;
            out[ot + 3 * og] = s3;
        }
    }

    private static void i8Norms4(int d, MemorySegment seg, long off, long gap, MemorySegment scales,
                                 long scaleRow, float[] norms, int o, int og) {
        long o1 = off + gap;
        long o2 = o1 + gap;
        long o3 = o2 + gap;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int end = i8End(d);
        for (int i = 0; i < end; i += LANES) {
            FloatVector k0 = i8Load(seg, off + i);
            FloatVector k1 = i8Load(seg, o1 + i);
            FloatVector k2 = i8Load(seg, o2 + i);
            FloatVector k3 = i8Load(seg, o3 + i);
            a0 = k0.fma(k0, a0);
            a1 = k1.fma(k1, a1);
            a2 = k2.fma(k2, a2);
            a3 = k3.fma(k3, a3);
        }
        float c0 = scales.get(F32, scaleRow * Float.BYTES);
        float c1 = scales.get(F32, (scaleRow + og) * Float.BYTES);
        float c2 = scales.get(F32, (scaleRow + 2L * og) * Float.BYTES);
        float c3 = scales.get(F32, (scaleRow + 3L * og) * Float.BYTES);
        float s0 = a0.reduceLanes(ADD_OP) * c0 * c0;
        float s1 = a1.reduceLanes(ADD_OP) * c1 * c1;
        float s2 = a2.reduceLanes(ADD_OP) * c2 * c2;
        float s3 = a3.reduceLanes(ADD_OP) * c3 * c3;
        for (int i = end; i < d; i++) {
            float k0 = i8At(seg, off, i, c0);
            float k1 = i8At(seg, o1, i, c1);
            float k2 = i8At(seg, o2, i, c2);
            float k3 = i8At(seg, o3, i, c3);
            s0 = Math.fma(k0, k0, s0);
            s1 = Math.fma(k1, k1, s1);
            s2 = Math.fma(k2, k2, s2);
            s3 = Math.fma(k3, k3, s3);
        }
        norms[o] = s0;
        norms[o + og] = s1;
        norms[o + 2 * og] = s2;
        norms[o + 3 * og] = s3;
    }

    private static float i8Row(float[] q, int d, MemorySegment seg, long off, float scale, float[] norms, int o) {
        FloatVector acc = FloatVector.zero(F);
        FloatVector nacc = acc;
        int end = i8End(d);
        for (int i = 0; i < end; i += LANES) {
            FloatVector k = i8Load(seg, off + i);
            acc = k.fma(FloatVector.fromArray(F, q, i), acc);
            nacc = k.fma(k, nacc);
        }
        float s = acc.reduceLanes(ADD_OP) * scale;
        float n = nacc.reduceLanes(ADD_OP) * scale * scale;
        for (int i = end; i < d; i++) {
            float k = i8At(seg, off, i, scale);
            s = Math.fma(q[i], k, s);
            n = Math.fma(k, k, n);
        }
        if (norms != null) {
            norms[o] = n;
        }
        return s;
    }

    private static void i8Queries4(float[] q0, float[] q1, float[] q2, float[] q3, int d, MemorySegment seg,
                                   long off, float scale, float[] out, int o, int os) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector b0 = a0; // two accumulators per query, as f32Queries4
        FloatVector b1 = a0;
        FloatVector b2 = a0;
        FloatVector b3 = a0;
        int end = i8End(d);
        int i = 0;
        for (; i + 2 * LANES <= end; i += 2 * LANES) {
            int j = i + LANES;
            FloatVector k = i8Load(seg, off + i);
            FloatVector l = i8Load(seg, off + j);
            a0 = k.fma(FloatVector.fromArray(F, q0, i), a0);
            a1 = k.fma(FloatVector.fromArray(F, q1, i), a1);
            a2 = k.fma(FloatVector.fromArray(F, q2, i), a2);
            a3 = k.fma(FloatVector.fromArray(F, q3, i), a3);
            b0 = l.fma(FloatVector.fromArray(F, q0, j), b0);
            b1 = l.fma(FloatVector.fromArray(F, q1, j), b1);
            b2 = l.fma(FloatVector.fromArray(F, q2, j), b2);
            b3 = l.fma(FloatVector.fromArray(F, q3, j), b3);
        }
        if (i < end) {
            FloatVector k = i8Load(seg, off + i);
            a0 = k.fma(FloatVector.fromArray(F, q0, i), a0);
            a1 = k.fma(FloatVector.fromArray(F, q1, i), a1);
            a2 = k.fma(FloatVector.fromArray(F, q2, i), a2);
            a3 = k.fma(FloatVector.fromArray(F, q3, i), a3);
        }
        float s0 = a0.add(b0).reduceLanes(ADD_OP) * scale;
        float s1 = a1.add(b1).reduceLanes(ADD_OP) * scale;
        float s2 = a2.add(b2).reduceLanes(ADD_OP) * scale;
        float s3 = a3.add(b3).reduceLanes(ADD_OP) * scale;
        for (i = end; i < d; i++) {
            float k = i8At(seg, off, i, scale);
            s0 = Math.fma(q0[i], k, s0);
            s1 = Math.fma(q1[i], k, s1);
            s2 = Math.fma(q2[i], k, s2);
            s3 = Math.fma(q3[i], k, s3);
        }
        out[o] = s0;
        out[o + os] = s1;
        out[o + 2 * os] = s2;
        out[o + 3 * os] = s3;
    }

    // ---- exact integer-by-integer sums of code products ----

    /**
     * Exact {@code sum_i qc_i * code_i} of I8 query codes (held exactly as floats) against four I8 rows:
     * f32 lanes stay exact for {@link #EXACT_I8_CHUNK} elements, then each lane sum converts to int.
     */
    static void exactI8Rows4(float[] qc, int d, MemorySegment seg, long off, long stride, long[] out, int o) {
        exactI8Rows4(qc, d, seg, off, stride, out, o, 1);
    }

    /** As {@link #exactI8Rows4(float[], int, MemorySegment, long, long, long[], int)} for rows {@code gap} bytes
     * apart whose sums go to {@code out[o + k * og]}. */
    static void exactI8Rows4(float[] qc, int d, MemorySegment seg, long off, long gap, long[] out, int o, int og) {
        exactI8Rows4(qc, d, seg, off, off + gap, off + 2 * gap, off + 3 * gap, out, o, og);
    }

    /** As {@link #exactI8Rows4(float[], int, MemorySegment, long, long, long[], int)} for rows at any byte offsets
     * {@code off, o1, o2, o3} (a gathered set) whose sums go to {@code out[o + k * og]}. */
    static void exactI8Rows4(float[] qc, int d, MemorySegment seg, long off, long o1, long o2, long o3, long[] out,
                             int o, int og) {
        long s0 = 0;
        long s1 = 0;
        long s2 = 0;
        long s3 = 0;
        int end = i8End(d);
        for (int c = 0; c < end; c += EXACT_I8_CHUNK) {
            int stop = Math.min(end, c + EXACT_I8_CHUNK);
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            for (int i = c; i < stop; i += LANES) {
                FloatVector qv = FloatVector.fromArray(F, qc, i);
                a0 = i8Load(seg, off + i).fma(qv, a0);
                a1 = i8Load(seg, o1 + i).fma(qv, a1);
                a2 = i8Load(seg, o2 + i).fma(qv, a2);
                a3 = i8Load(seg, o3 + i).fma(qv, a3);
            }
            s0 += exactLaneSum(a0);
            s1 += exactLaneSum(a1);
            s2 += exactLaneSum(a2);
            s3 += exactLaneSum(a3);
        }
        for (int i = end; i < d; i++) {
            long qi = (long) qc[i];
            s0 += qi * seg.get(I8, off + i);
            s1 += qi * seg.get(I8, o1 + i);
            s2 += qi * seg.get(I8, o2 + i);
            s3 += qi * seg.get(I8, o3 + i);
        }
        out[o] = s0;
        out[o + og] = s1;
        out[o + 2 * og] = s2;
        out[o + 3 * og] = s3;
    }

    /** As {@link #exactI8Rows4} for one row. */
    static long exactI8Row(float[] qc, int d, MemorySegment seg, long off) {
        long s = 0;
        int end = i8End(d);
        for (int c = 0; c < end; c += EXACT_I8_CHUNK) {
            int stop = Math.min(end, c + EXACT_I8_CHUNK);
            FloatVector a = FloatVector.zero(F);
            for (int i = c; i < stop; i += LANES) {
                a = i8Load(seg, off + i).fma(FloatVector.fromArray(F, qc, i), a);
            }
            s += exactLaneSum(a);
        }
        for (int i = end; i < d; i++) {
            s += (long) qc[i] * seg.get(I8, off + i);
        }
        return s;
    }

    /** Lanes hold integers of magnitude at most 2^24, so the f32 -> int conversion and the int sum are exact. */
    private static long exactLaneSum(FloatVector a) {
        return ((IntVector) a.convert(VectorOperators.F2I, 0)).reduceLanes(VectorOperators.ADD);
    }

    /**
     * Exact {@code sum_i qc_i * code_i} of integer query codes against one I8 or I16 row: products in int
     * lanes (|p| <= 2^30) added into long lanes.
     */
    static long exactIntRow(int[] qc, int d, ElementType keyType, MemorySegment seg, long off) {
        long s = 0;
        int i = 0;
        if (keyType == ElementType.I8 && BYTE_WIDENING) {
            LongVector a0 = LongVector.zero(L);
            LongVector a1 = a0;
            for (int end = laneEnd(d); i < end; i += LANES) {
                IntVector k = (IntVector) ByteVector.fromMemorySegment(B_QUARTER, seg, off + i, LE)
                        .convertShape(VectorOperators.B2I, I, 0);
                IntVector p = IntVector.fromArray(I, qc, i).mul(k);
                a0 = a0.add((LongVector) p.convertShape(VectorOperators.I2L, L, 0));
                a1 = a1.add((LongVector) p.convertShape(VectorOperators.I2L, L, 1));
            }
            s = a0.add(a1).reduceLanes(VectorOperators.ADD);
        } else if (keyType == ElementType.I16 && SHORT_WIDENING) {
            LongVector a0 = LongVector.zero(L);
            LongVector a1 = a0;
            for (int end = laneEnd(d); i < end; i += LANES) {
                IntVector k = (IntVector) ShortVector.fromMemorySegment(S_HALF, seg, off + 2L * i, LE)
                        .convertShape(VectorOperators.S2I, I, 0);
                IntVector p = IntVector.fromArray(I, qc, i).mul(k);
                a0 = a0.add((LongVector) p.convertShape(VectorOperators.I2L, L, 0));
                a1 = a1.add((LongVector) p.convertShape(VectorOperators.I2L, L, 1));
            }
            s = a0.add(a1).reduceLanes(VectorOperators.ADD);
        }
        for (; i < d; i++) {
            s += (long) qc[i] * code(keyType, seg, off, i);
        }
        return s;
    }

    /** Exact {@code sum_i code_i^2} of an I8/I16 row (cosine's norm of integer rows). */
    static long codeNormSquared(ElementType type, MemorySegment seg, long off, int d) {
        long s = 0;
        for (int i = 0; i < d; i++) {
            long c = code(type, seg, off, i);
            s += c * c;
        }
        return s;
    }

    /** The raw code of element i of an I8/I16 row. */
    static int code(ElementType type, MemorySegment seg, long off, int i) {
        return type == ElementType.I8 ? seg.get(I8, off + i) : seg.get(I16, off + 2L * i);
    }

    // ---- questBound ----

    /**
     * {@code s_p = sum_i max(q_i * min_pi, q_i * max_pi)} for {@code count} F32 pages, two per iteration from
     * the two halves of the block: with min and max that is four prefetch streams (see {@link #scan}).
     */
    static void questBoundF32(float[] q, int d, MemorySegment min, long minOff, long minStride, MemorySegment max,
                              long maxOff, long maxStride, int count, float[] out) {
        int end = laneEnd(d);
        int h = count / 2;
        for (int p = 0; p < h; p++) {
            long n0 = minOff + p * minStride;
            long n1 = n0 + h * minStride;
            long x0 = maxOff + p * maxStride;
            long x1 = x0 + h * maxStride;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            for (int i = 0; i < end; i += LANES) {
                FloatVector qv = FloatVector.fromArray(F, q, i);
                long b = 4L * i;
                FloatVector lo0 = qv.mul(FloatVector.fromMemorySegment(F, min, n0 + b, LE));
                FloatVector hi0 = qv.mul(FloatVector.fromMemorySegment(F, max, x0 + b, LE));
                FloatVector lo1 = qv.mul(FloatVector.fromMemorySegment(F, min, n1 + b, LE));
                FloatVector hi1 = qv.mul(FloatVector.fromMemorySegment(F, max, x1 + b, LE));
                a0 = a0.add(lo0.max(hi0));
                a1 = a1.add(lo1.max(hi1));
            }
            float s0 = a0.reduceLanes(ADD_OP);
            float s1 = a1.reduceLanes(ADD_OP);
            for (int i = end; i < d; i++) {
                float qi = q[i];
                long b = 4L * i;
                s0 += Math.max(qi * min.get(F32, n0 + b), qi * max.get(F32, x0 + b));
                s1 += Math.max(qi * min.get(F32, n1 + b), qi * max.get(F32, x1 + b));
            }
            out[p] = s0;
            out[p + h] = s1;
        }
        for (int p = 2 * h; p < count; p++) {
            long n0 = minOff + p * minStride;
            long x0 = maxOff + p * maxStride;
            FloatVector a0 = FloatVector.zero(F);
            for (int i = 0; i < end; i += LANES) {
                FloatVector qv = FloatVector.fromArray(F, q, i);
                long b = 4L * i;
                a0 = a0.add(qv.mul(FloatVector.fromMemorySegment(F, min, n0 + b, LE))
                        .max(qv.mul(FloatVector.fromMemorySegment(F, max, x0 + b, LE))));
            }
            float s0 = a0.reduceLanes(ADD_OP);
            for (int i = end; i < d; i++) {
                float qi = q[i];
                long b = 4L * i;
                s0 += Math.max(qi * min.get(F32, n0 + b), qi * max.get(F32, x0 + b));
            }
            out[p] = s0;
        }
    }

    /** questBound of one page from decoded rows. */
    static float questBound(float[] q, float[] min, float[] max, int d) {
        int end = laneEnd(d);
        FloatVector a = FloatVector.zero(F);
        for (int i = 0; i < end; i += LANES) {
            FloatVector qv = FloatVector.fromArray(F, q, i);
            a = a.add(qv.mul(FloatVector.fromArray(F, min, i)).max(qv.mul(FloatVector.fromArray(F, max, i))));
        }
        float s = a.reduceLanes(ADD_OP);
        for (int i = end; i < d; i++) {
            s += Math.max(q[i] * min[i], q[i] * max[i]);
        }
        return s;
    }

    /** Max of {@code a[from, to)}, NaN if any is NaN; {@code -Infinity} when empty. */
    static float max(float[] a, int from, int to) {
        float m = Float.NEGATIVE_INFINITY;
        int i = from;
        if (to - from >= LANES) {
            FloatVector v = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (int bound = to - LANES; i <= bound; i += LANES) {
                v = v.max(FloatVector.fromArray(F, a, i));
            }
            m = v.reduceLanes(VectorOperators.MAX);
        }
        for (; i < to; i++) {
            m = Math.max(m, a[i]);
        }
        return m;
    }

    /** Min of {@code a[from, to)}, NaN if any is NaN; {@code +Infinity} when empty. */
    static float min(float[] a, int from, int to) {
        float m = Float.POSITIVE_INFINITY;
        int i = from;
        if (to - from >= LANES) {
            FloatVector v = FloatVector.broadcast(F, Float.POSITIVE_INFINITY);
            for (int bound = to - LANES; i <= bound; i += LANES) {
                v = v.min(FloatVector.fromArray(F, a, i));
            }
            m = v.reduceLanes(VectorOperators.MIN);
        }
        for (; i < to; i++) {
            m = Math.min(m, a[i]);
        }
        return m;
    }
}
