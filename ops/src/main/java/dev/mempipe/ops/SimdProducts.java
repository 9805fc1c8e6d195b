package dev.mempipe.ops;

import static dev.mempipe.ops.SimdRows.F;
import static dev.mempipe.ops.SimdRows.LANES;

import dev.mempipe.spi.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

/**
 * The matrix products of the parametric-memory ops that {@code project} ({@code Y = X W^T}, rows times rows) does not
 * fit without a transpose: {@code C = A B} and {@code C = A^T B}, every tensor F32, B row-major. They run as rank-1
 * updates along C's rows: a 4 x 2-vector register block of C takes, for each {@code l}, two vectors of B's row l and
 * four broadcast elements of A, so there is no horizontal reduction (the lane sums that make {@code project} slow
 * on a short contraction, such as Titans' 64-row batches) and no transposed copy. The contraction is blocked by
 * {@value #K_BLOCK} so that the B panel a block reads (256 rows of two vectors) stays in L1 while every row block of
 * C passes over it.
 *
 * <p>Every element of C is the fused multiply-add chain over {@code l} ascending, whatever the blocking, the thread
 * split or the lane position, so results are deterministic. Thread-safety: stateless; splits C's rows over the
 * {@link Parallel} pool when every segment is shareable and the product is large.
 */
final class SimdProducts {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Rows of B per contraction block: a panel of 256 x 2 vectors is 32 KiB at 512-bit vectors. */
    static final int K_BLOCK = 256;
    private static final int ROWS = 4;
    /** Multiply-adds a parallel chunk should hold at least (as {@code project}). */
    private static final long MIN_FMAS_PER_CHUNK = 1 << 18;

    private SimdProducts() {
    }

    /** {@code C = A B}: A {@code [m, k]}, B {@code [k, p]}, C {@code [m, p]}; C may not overlap A or B. */
    static void times(Tensor a, Tensor b, Tensor c) {
        assert a.cols() == b.rows() && c.rows() == a.rows() && c.cols() == b.cols();
        if (a.rows() == 0 || a.cols() == 0) {
            zero(c);
            return;
        }
        run(new Operand(a.data(), a.offset(0, 0), a.rowStride(), Float.BYTES), a.cols(), b, c);
    }

    /** {@code C = A^T B}: A {@code [k, m]}, B {@code [k, p]}, C {@code [m, p]}; C may not overlap A or B. */
    static void transposedTimes(Tensor a, Tensor b, Tensor c) {
        assert a.rows() == b.rows() && c.rows() == a.cols() && c.cols() == b.cols();
        if (a.rows() == 0 || a.cols() == 0) {
            zero(c);
            return;
        }
        run(new Operand(a.data(), a.offset(0, 0), Float.BYTES, a.rowStride()), (int) a.rows(), b, c);
    }

    /** An empty contraction: every element of C is the empty sum. */
    private static void zero(Tensor c) {
        for (long r = 0; r < c.rows(); r++) {
            c.data().asSlice(c.offset(r, 0), (long) c.cols() * Float.BYTES).fill((byte) 0);
        }
    }

    /** Element {@code (r, l)} of the left operand at {@code base + r * rStep + l * lStep} bytes. */
    private record Operand(MemorySegment seg, long base, long rStep, long lStep) {
        float at(long r, long l) {
            return seg.get(FLOAT, base + r * rStep + l * lStep);
        }
    }

    private static void run(Operand a, int k, Tensor b, Tensor c) {
        long m = c.rows();
        int p = c.cols();
        if (m == 0 || p == 0) {
            return;
        }
        long fmasPerRow = (long) k * p;
        long grain = Math.max(ROWS, MIN_FMAS_PER_CHUNK / Math.max(1, fmasPerRow));
        if (Parallel.shareable(a.seg(), b.data(), c.data())) {
            Parallel.forRange(m, grain, ROWS, (from, to) -> rows(a, k, b, c, from, to));
        } else {
            rows(a, k, b, c, 0, m);
        }
    }

    /** C's rows {@code [from, to)}, contraction block by block; the first block starts from zero. */
    private static void rows(Operand a, int k, Tensor b, Tensor c, long from, long to) {
        int p = c.cols();
        int wide = 2 * LANES;
        for (int l0 = 0; l0 < k; l0 += K_BLOCK) {
            int l1 = Math.min(k, l0 + K_BLOCK);
            boolean first = l0 == 0;
            int j = 0;
            for (; j + wide <= p; j += wide) {
                long r = from;
                for (; r + ROWS <= to; r += ROWS) {
                    block4x2(a, b, c, r, j, l0, l1, first);
                }
                for (; r < to; r++) {
                    vector(a, b, c, r, j, l0, l1, first);
                    vector(a, b, c, r, j + LANES, l0, l1, first);
                }
            }
            for (; j + LANES <= p; j += LANES) {
                for (long r = from; r < to; r++) {
                    vector(a, b, c, r, j, l0, l1, first);
                }
            }
            for (; j < p; j++) {
                for (long r = from; r < to; r++) {
                    float acc = first ? 0f : c.data().get(FLOAT, c.offset(r, j));
                    for (int l = l0; l < l1; l++) {
                        acc = Math.fma(a.at(r, l), b.data().get(FLOAT, b.offset(l, j)), acc);
                    }
                    c.data().set(FLOAT, c.offset(r, j), acc);
                }
            }
        }
    }

    /** Rows {@code r..r+3}, columns {@code j..j+2*LANES} of C, over {@code l} in {@code [l0, l1)}. */
    private static void block4x2(Operand a, Tensor b, Tensor c, long r, int j, int l0, int l1, boolean first) {
        MemorySegment cs = c.data();
        long c0 = c.offset(r, j);
        long cStride = c.rowStride();
        long half = (long) LANES * Float.BYTES;
        FloatVector a00 = start(cs, c0, first);
        FloatVector a01 = start(cs, c0 + half, first);
        FloatVector a10 = start(cs, c0 + cStride, first);
        FloatVector a11 = start(cs, c0 + cStride + half, first);
        FloatVector a20 = start(cs, c0 + 2 * cStride, first);
        FloatVector a21 = start(cs, c0 + 2 * cStride + half, first);
        FloatVector a30 = start(cs, c0 + 3 * cStride, first);
        FloatVector a31 = start(cs, c0 + 3 * cStride + half, first);
        MemorySegment bs = b.data();
        MemorySegment as = a.seg();
        long bAt = b.offset(l0, j);
        long bStride = b.rowStride();
        long aAt = a.base() + r * a.rStep() + l0 * a.lStep();
        long rStep = a.rStep();
        for (int l = l0; l < l1; l++, bAt += bStride, aAt += a.lStep()) {
            FloatVector b0 = FloatVector.fromMemorySegment(F, bs, bAt, LE);
            FloatVector b1 = FloatVector.fromMemorySegment(F, bs, bAt + half, LE);
            FloatVector s = FloatVector.broadcast(F, as.get(FLOAT, aAt));
            a00 = s.fma(b0, a00);
            a01 = s.fma(b1, a01);
            s = FloatVector.broadcast(F, as.get(FLOAT, aAt + rStep));
            a10 = s.fma(b0, a10);
            a11 = s.fma(b1, a11);
            s = FloatVector.broadcast(F, as.get(FLOAT, aAt + 2 * rStep));
            a20 = s.fma(b0, a20);
            a21 = s.fma(b1, a21);
            s = FloatVector.broadcast(F, as.get(FLOAT, aAt + 3 * rStep));
            a30 = s.fma(b0, a30);
            a31 = s.fma(b1, a31);
        }
        a00.intoMemorySegment(cs, c0, LE);
        a01.intoMemorySegment(cs, c0 + half, LE);
        a10.intoMemorySegment(cs, c0 + cStride, LE);
        a11.intoMemorySegment(cs, c0 + cStride + half, LE);
        a20.intoMemorySegment(cs, c0 + 2 * cStride, LE);
        a21.intoMemorySegment(cs, c0 + 2 * cStride + half, LE);
        a30.intoMemorySegment(cs, c0 + 3 * cStride, LE);
        a31.intoMemorySegment(cs, c0 + 3 * cStride + half, LE);
    }

    /** Row {@code r}, columns {@code j..j+LANES} of C, over {@code l} in {@code [l0, l1)}. */
    private static void vector(Operand a, Tensor b, Tensor c, long r, int j, int l0, int l1, boolean first) {
        MemorySegment cs = c.data();
        long c0 = c.offset(r, j);
        FloatVector acc = start(cs, c0, first);
        long bAt = b.offset(l0, j);
        for (int l = l0; l < l1; l++, bAt += b.rowStride()) {
            acc = FloatVector.broadcast(F, a.at(r, l)).fma(FloatVector.fromMemorySegment(F, b.data(), bAt, LE), acc);
        }
        acc.intoMemorySegment(cs, c0, LE);
    }

    private static FloatVector start(MemorySegment c, long at, boolean first) {
        return first ? FloatVector.zero(F) : FloatVector.fromMemorySegment(F, c, at, LE);
    }
}
