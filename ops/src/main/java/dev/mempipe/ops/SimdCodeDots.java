package dev.mempipe.ops;

import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The kernels of {@code codeDotRows}: the integer dot products of a query's unsigned 8-bit or packed 4-bit codes with
 * listed rows of codes, read where they lie (no copy of a row, no decoded query), four rows at a time so that their
 * cache misses overlap (a quantized HNSW walk's neighbours are far apart in memory; one row at a time the last one to
 * three of a node took about a fifth of a walk in session 6, so a short tail is scored as a group of four too, its
 * last row repeated).
 *
 * <p>Why int lanes: the contract bounds a row's largest possible sum by 2^31 - 1, so no lane, and no lane sum, can
 * overflow a 32-bit int, whatever the width: the sums are exact with no flushing, and there is one loop per kernel
 * (each small enough for C2 to inline every vector operation; a vector that meets a call C2 did not inline is boxed).
 * Float lanes (convert, multiply-add) cost the same for 8-bit codes in a micro benchmark and, for 4-bit codes, ran
 * about ten times slower once the nibble split and the conversions took the method past C2's inlining limits. Bytes
 * are widened by a sign extension and a mask: C2 compiles that pair into vector instructions, while
 * {@code ZERO_EXTEND_B2I} ran as Java code (session 6).
 *
 * <p>Stateless; safe for concurrent use. The caller has checked the arguments.
 */
final class SimdCodeDots {
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final int LANES = I.length();
    /**
     * As many bytes as I has lanes, so one load widens into one int vector; but at least 64 bits, the narrowest
     * vector shape: with 128-bit vectors (4 int lanes, e.g. NEON) a load reads 8 bytes and widens the first 4.
     */
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class,
            VectorShape.forBitSize(Math.max(64, LANES * 8)));
    /** Bytes one load reads; the vector loop stops before a load would pass the row's end. */
    private static final int LOAD_BYTES = B.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);

    private SimdCodeDots() {
    }

    /** {@code s[j] = <queryCodes, codes[rowIds[j]]>} for every j, as {@code RelevancyOps.codeDotRows} defines it. */
    static void rows(Tensor queryCodes, Tensor codes, int bits, Indices rowIds, Tensor s) {
        int count = rowIds.length();
        if (count == 0) {
            return;
        }
        // one loop per code width, each in a method of its own: with one loop choosing the kernel per group, the
        // first 4-bit call of a JVM that had run 8-bit walks threw the compiled loop away (an uncommon trap), and in
        // 6 of 21 such JVMs the 4-bit walk then ran at 0.4x for good (0 of 14 with the split; docs/PERFORMANCE.md)
        if (bits == 4) {
            nibbleRows(queryCodes.data(), codes.data(), codes.rowStride(), queryCodes.cols(), rowIds.data(), count,
                    s.data());
        } else {
            byteRows(queryCodes.data(), codes.data(), codes.rowStride(), queryCodes.cols(), rowIds.data(), count,
                    s.data());
        }
    }

    private static void byteRows(MemorySegment q, MemorySegment c, long stride, int p, MemorySegment ids, int count,
                                 MemorySegment out) {
        for (int j = 0; j < count; j += 4) {
            bytes4(q, c, offset(ids, count, j, stride), offset(ids, count, j + 1, stride),
                    offset(ids, count, j + 2, stride), offset(ids, count, j + 3, stride), p, out, 4L * j,
                    Math.min(4, count - j));
        }
    }

    private static void nibbleRows(MemorySegment q, MemorySegment c, long stride, int p, MemorySegment ids,
                                   int count, MemorySegment out) {
        for (int j = 0; j < count; j += 4) {
            nibbles4(q, c, offset(ids, count, j, stride), offset(ids, count, j + 1, stride),
                    offset(ids, count, j + 2, stride), offset(ids, count, j + 3, stride), p, out, 4L * j,
                    Math.min(4, count - j));
        }
    }

    /**
     * Where the codes of the {@code j}-th listed row start; past the list's end, the last row's (a group of four past
     * the end repeats the last row, in cache by then, and stores only its own scores).
     */
    private static long offset(MemorySegment ids, int count, int j, long stride) {
        return stride * ids.get(I32, 4L * Math.min(j, count - 1));
    }

    /** 8-bit codes: four rows' dot products with the query, into {@code out} from byte {@code at}. */
    private static void bytes4(MemorySegment q, MemorySegment c, long o0, long o1, long o2, long o3, int p,
                               MemorySegment out, long at, int stored) {
        IntVector a0 = IntVector.zero(I);
        IntVector a1 = a0;
        IntVector a2 = a0;
        IntVector a3 = a0;
        int end = vectorEnd(p);
        for (int i = 0; i < end; i += LANES) {
            IntVector h = unsigned(q, i);
            a0 = a0.add(unsigned(c, o0 + i).mul(h));
            a1 = a1.add(unsigned(c, o1 + i).mul(h));
            a2 = a2.add(unsigned(c, o2 + i).mul(h));
            a3 = a3.add(unsigned(c, o3 + i).mul(h));
        }
        int t0 = a0.reduceLanes(VectorOperators.ADD);
        int t1 = a1.reduceLanes(VectorOperators.ADD);
        int t2 = a2.reduceLanes(VectorOperators.ADD);
        int t3 = a3.reduceLanes(VectorOperators.ADD);
        for (int i = end; i < p; i++) {
            int h = code(q, i);
            t0 += code(c, o0 + i) * h;
            t1 += code(c, o1 + i) * h;
            t2 += code(c, o2 + i) * h;
            t3 += code(c, o3 + i) * h;
        }
        store(out, at, stored, t0, t1, t2, t3);
    }

    /** 4-bit codes, two a byte: high nibble with high nibble, low with low; as {@link #bytes4}. */
    private static void nibbles4(MemorySegment q, MemorySegment c, long o0, long o1, long o2, long o3, int p,
                                 MemorySegment out, long at, int stored) {
        IntVector a0 = IntVector.zero(I);
        IntVector a1 = a0;
        IntVector a2 = a0;
        IntVector a3 = a0;
        int end = vectorEnd(p);
        for (int i = 0; i < end; i += LANES) {
            IntVector x = unsigned(q, i);
            IntVector h = x.lanewise(VectorOperators.LSHR, 4);
            IntVector l = x.and(0xF);
            IntVector c0 = unsigned(c, o0 + i);
            IntVector c1 = unsigned(c, o1 + i);
            IntVector c2 = unsigned(c, o2 + i);
            IntVector c3 = unsigned(c, o3 + i);
            a0 = a0.add(c0.lanewise(VectorOperators.LSHR, 4).mul(h)).add(c0.and(0xF).mul(l));
            a1 = a1.add(c1.lanewise(VectorOperators.LSHR, 4).mul(h)).add(c1.and(0xF).mul(l));
            a2 = a2.add(c2.lanewise(VectorOperators.LSHR, 4).mul(h)).add(c2.and(0xF).mul(l));
            a3 = a3.add(c3.lanewise(VectorOperators.LSHR, 4).mul(h)).add(c3.and(0xF).mul(l));
        }
        int t0 = a0.reduceLanes(VectorOperators.ADD);
        int t1 = a1.reduceLanes(VectorOperators.ADD);
        int t2 = a2.reduceLanes(VectorOperators.ADD);
        int t3 = a3.reduceLanes(VectorOperators.ADD);
        for (int i = end; i < p; i++) {
            int x = code(q, i);
            int h = x >>> 4;
            int l = x & 0xF;
            t0 += nibbleDot(code(c, o0 + i), h, l);
            t1 += nibbleDot(code(c, o1 + i), h, l);
            t2 += nibbleDot(code(c, o2 + i), h, l);
            t3 += nibbleDot(code(c, o3 + i), h, l);
        }
        store(out, at, stored, t0, t1, t2, t3);
    }

    /** The first {@code stored} of four exact sums as floats (each rounded once, to nearest: the contract's value). */
    private static void store(MemorySegment out, long at, int stored, int t0, int t1, int t2, int t3) {
        out.set(F32, at, t0);
        if (stored > 1) {
            out.set(F32, at + 4, t1);
        }
        if (stored > 2) {
            out.set(F32, at + 8, t2);
        }
        if (stored > 3) {
            out.set(F32, at + 12, t3);
        }
    }

    /** Where the vector loop (steps of {@link #LANES}) ends: each load of {@link #LOAD_BYTES} stays in the row. */
    static int vectorEnd(int p) {
        return p < LOAD_BYTES ? 0 : (p - LOAD_BYTES) / LANES * LANES + LANES;
    }

    private static int nibbleDot(int code, int high, int low) {
        return (code >>> 4) * high + (code & 0xF) * low;
    }

    private static int code(MemorySegment s, long at) {
        return Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, at));
    }

    /** {@link #LANES} code bytes from {@code at} as unsigned ints: sign-extended, then masked. */
    private static IntVector unsigned(MemorySegment s, long at) {
        return ((IntVector) ByteVector.fromMemorySegment(B, s, at, LE).convertShape(VectorOperators.B2I, I, 0))
                .and(0xFF);
    }
}
