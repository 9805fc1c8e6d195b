package dev.mempipe.ops;

import static dev.mempipe.ops.SimdRows.F;
import static dev.mempipe.ops.SimdRows.LANES;

import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;

/**
 * {@code Y = X W^T}, the compute-bound op of Prepare. Rows of X and W are decoded into f32 tiles sized for
 * the L1 (X) and L2 (W) caches; a 2x4 register kernel then computes eight outputs at once, so each loaded
 * vector feeds two or four FMAs and eight independent FMA chains hide the FMA latency.
 *
 * <p>Every output is reduced the same way whichever kernel computes it (one vector accumulator over the
 * full-width part, the fixed-tree {@link SimdRows#laneSum}, then the scalar tail), so results depend neither
 * on tiling, nor on how the work is split over threads, nor on the JIT tier. Integer-by-integer inputs take
 * an exact path instead (SPEC.md, element types).
 */
final class SimdPrepareProject {
    /** Bytes of decoded X rows per tile: a few rows that stay in L1 while a W tile streams past. */
    private static final int X_TILE_BYTES = 16 << 10;
    /** Bytes of decoded W rows per tile: reused by every X row pair, so it should stay in L2. */
    private static final int W_TILE_BYTES = 256 << 10;
    /** Multiply-adds a parallel chunk should hold at least. */
    private static final long MIN_FMAS_PER_CHUNK = 1 << 18;

    private SimdPrepareProject() {
    }

    static void project(Tensor x, Tensor w, Tensor y) {
        long n = x.rows();
        long o = w.rows();
        int h = x.cols();
        if (n == 0 || o == 0) {
            return;
        }
        // SPEC.md: integer-by-integer products accumulate exactly and are scaled once.
        Block body = x.type().isQuantized() && w.type().isQuantized()
                ? SimdPrepareProject::integerBlock : SimdPrepareProject::block;
        // Split whichever side is longer; chunks are aligned to the kernel's 2 X rows or 4 W rows.
        if (!Parallel.shareable(SimdPrepareOps.touched(x, w, y))) {
            body.run(x, w, y, 0, n, 0, o);
        } else if (n >= o || n >= 64) {
            // at least one X tile per chunk: a chunk decodes its W rows, so chunks of two X rows would spend
            // as long decoding W as multiplying
            long xTileRows = Math.max(2, X_TILE_BYTES / (Math.max(1, h) * Float.BYTES) & ~1);
            long grain = Math.max(xTileRows, MIN_FMAS_PER_CHUNK / Math.max(1, o * h));
            Parallel.forRange(n, grain, 2, (from, to) -> body.run(x, w, y, from, to, 0, o));
        } else {
            long grain = Math.max(4, MIN_FMAS_PER_CHUNK / Math.max(1, n * h));
            Parallel.forRange(o, grain, 4, (from, to) -> body.run(x, w, y, 0, n, from, to));
        }
    }

    /** Computes {@code Y[xFrom:xTo, wFrom:wTo]}. */
    @FunctionalInterface
    private interface Block {
        void run(Tensor x, Tensor w, Tensor y, long xFrom, long xTo, long wFrom, long wTo);
    }

    /**
     * The integer path: exact long sums of code products read straight from W's memory (the relevancy ops'
     * kernels), scaled once in double, {@code sum * scale_x * scale_w}, and rounded once.
     */
    private static void integerBlock(Tensor x, Tensor w, Tensor y, long xFrom, long xTo, long wFrom, long wTo) {
        int h = x.cols();
        boolean bytePair = x.type() == ElementType.I8 && w.type() == ElementType.I8;
        int[] codes = new int[h];
        float[] codesF = new float[h];
        int count = (int) (wTo - wFrom);
        long[] sums = new long[count];
        float[] out = new float[count];
        MemorySegment seg = w.data();
        long stride = w.rowStride();
        for (long i = xFrom; i < xTo; i++) {
            for (int c = 0; c < h; c++) {
                codes[c] = x.code(i, c);
                codesF[c] = codes[c];
            }
            int j = 0;
            if (bytePair) {
                for (; j + 4 <= count; j += 4) {
                    SimdDotKernels.exactI8Rows4(codesF, h, seg, (wFrom + j) * stride, stride, sums, j);
                }
                for (; j < count; j++) {
                    sums[j] = SimdDotKernels.exactI8Row(codesF, h, seg, (wFrom + j) * stride);
                }
            } else {
                for (; j < count; j++) {
                    sums[j] = SimdDotKernels.exactIntRow(codes, h, w.type(), seg, (wFrom + j) * stride);
                }
            }
            double xScale = x.scale(i);
            for (j = 0; j < count; j++) {
                out[j] = (float) (sums[j] * xScale * w.scale(wFrom + j));
            }
            storeRange(out, 0, y, i, (int) wFrom, count);
        }
    }

    /** The float path over one range: decoded f32 tiles and the 2x4 kernel. */
    private static void block(Tensor x, Tensor w, Tensor y, long xFrom, long xTo, long wFrom, long wTo) {
        int h = x.cols();
        int rowBytes = Math.max(1, h) * Float.BYTES;
        int xTile = (int) Math.min(xTo - xFrom, Math.max(2, X_TILE_BYTES / rowBytes & ~1));
        int wTile = (int) Math.min(wTo - wFrom, Math.max(4, W_TILE_BYTES / rowBytes & ~3));
        float[] xs = new float[xTile * h];
        float[] ws = new float[wTile * h];
        float[] ys = new float[xTile * wTile];
        float[] row = new float[h];
        // W tiles outside: each is decoded once per range and reused by every X tile (decoding the larger W once
        // per X tile cost as much as the products when a range holds few X rows); the small X tiles are re-decoded
        for (long w0 = wFrom; w0 < wTo; w0 += wTile) {
            int nw = (int) Math.min(wTile, wTo - w0);
            decodeRows(w, w0, nw, ws, row);
            for (long x0 = xFrom; x0 < xTo; x0 += xTile) {
                int nx = (int) Math.min(xTile, xTo - x0);
                decodeRows(x, x0, nx, xs, row);
                tile(xs, nx, ws, nw, h, ys);
                for (int i = 0; i < nx; i++) {
                    storeRange(ys, i * nw, y, x0 + i, (int) w0, nw);
                }
            }
        }
    }

    private static void decodeRows(Tensor t, long first, int count, float[] dst, float[] row) {
        int h = t.cols();
        for (int i = 0; i < count; i++) {
            SimdRows.decode(t, first + i, row);
            System.arraycopy(row, 0, dst, i * h, h);
        }
    }

    /** {@code ys[i * nw + j] = <xs_i, ws_j>} for a tile. */
    private static void tile(float[] xs, int nx, float[] ws, int nw, int h, float[] ys) {
        int i = 0;
        for (; i + 2 <= nx; i += 2) {
            int j = 0;
            for (; j + 4 <= nw; j += 4) {
                kernel2x4(xs, i * h, ws, j * h, h, ys, i * nw + j, nw);
            }
            for (; j < nw; j++) {
                ys[i * nw + j] = dot(xs, i * h, ws, j * h, h);
                ys[(i + 1) * nw + j] = dot(xs, (i + 1) * h, ws, j * h, h);
            }
        }
        for (; i < nx; i++) {
            for (int j = 0; j < nw; j++) {
                ys[i * nw + j] = dot(xs, i * h, ws, j * h, h);
            }
        }
    }

    private static void kernel2x4(float[] xs, int x0, float[] ws, int w0, int h, float[] ys, int y0, int nw) {
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = FloatVector.zero(F);
        FloatVector a02 = FloatVector.zero(F);
        FloatVector a03 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F);
        FloatVector a11 = FloatVector.zero(F);
        FloatVector a12 = FloatVector.zero(F);
        FloatVector a13 = FloatVector.zero(F);
        int x1 = x0 + h;
        int w1 = w0 + h;
        int w2 = w1 + h;
        int w3 = w2 + h;
        int c = 0;
        for (int bound = F.loopBound(h); c < bound; c += LANES) {
            FloatVector p = FloatVector.fromArray(F, xs, x0 + c);
            FloatVector q = FloatVector.fromArray(F, xs, x1 + c);
            FloatVector v = FloatVector.fromArray(F, ws, w0 + c);
            a00 = p.fma(v, a00);
            a10 = q.fma(v, a10);
            v = FloatVector.fromArray(F, ws, w1 + c);
            a01 = p.fma(v, a01);
            a11 = q.fma(v, a11);
            v = FloatVector.fromArray(F, ws, w2 + c);
            a02 = p.fma(v, a02);
            a12 = q.fma(v, a12);
            v = FloatVector.fromArray(F, ws, w3 + c);
            a03 = p.fma(v, a03);
            a13 = q.fma(v, a13);
        }
        ys[y0] = finish(a00, xs, x0, ws, w0, c, h);
        ys[y0 + 1] = finish(a01, xs, x0, ws, w1, c, h);
        ys[y0 + 2] = finish(a02, xs, x0, ws, w2, c, h);
        ys[y0 + 3] = finish(a03, xs, x0, ws, w3, c, h);
        ys[y0 + nw] = finish(a10, xs, x1, ws, w0, c, h);
        ys[y0 + nw + 1] = finish(a11, xs, x1, ws, w1, c, h);
        ys[y0 + nw + 2] = finish(a12, xs, x1, ws, w2, c, h);
        ys[y0 + nw + 3] = finish(a13, xs, x1, ws, w3, c, h);
    }

    private static float dot(float[] xs, int x0, float[] ws, int w0, int h) {
        FloatVector acc = FloatVector.zero(F);
        int c = 0;
        for (int bound = F.loopBound(h); c < bound; c += LANES) {
            acc = FloatVector.fromArray(F, xs, x0 + c).fma(FloatVector.fromArray(F, ws, w0 + c), acc);
        }
        return finish(acc, xs, x0, ws, w0, c, h);
    }

    /** Lane reduction, then the scalar tail {@code [c, h)}; the one reduction order every kernel shares. */
    private static float finish(FloatVector acc, float[] xs, int x0, float[] ws, int w0, int c, int h) {
        float sum = SimdRows.laneSum(acc);
        for (; c < h; c++) {
            sum = Math.fma(xs[x0 + c], ws[w0 + c], sum);
        }
        return sum;
    }

    /** Writes {@code src[off, off+count)} to {@code t[row, col, col+count)} of a float tensor. */
    private static void storeRange(float[] src, int off, Tensor t, long row, int col, int count) {
        if (t.type() == ElementType.F32) {
            MemorySegment.copy(src, off, t.data(), ValueLayout.JAVA_FLOAT_UNALIGNED,
                    t.offset(row, col), count);
        } else {
            for (int j = 0; j < count; j++) {
                SimdRows.store(t, row, col + j, src[off + j]);
            }
        }
    }
}
