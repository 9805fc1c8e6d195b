package dev.mempipe.ops;

import static dev.mempipe.ops.SimdRows.F;
import static dev.mempipe.ops.SimdRows.LANES;

import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.MlpLoss;
import dev.mempipe.spi.Tensor;
import dev.mempipe.spi.TrainArgs;
import dev.mempipe.spi.TrainOps;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;

/**
 * The parametric-memory ops on the Vector API. Products of the form {@code X W^T} run on the {@code project} kernel
 * ({@link SimdPrepareProject}); {@code A B} and {@code A^T B} (the backward pass, Newton-Schulz's {@code (b A + c A^2) X})
 * run on {@link SimdProducts}' rank-1-update kernel, which needs neither a transposed copy nor a lane reduction per
 * output, so a short contraction (Titans' 64-row batch) runs as fast as a long one. The element-wise parts (SwiGLU,
 * its derivative, the fused update) are vector loops. Scratch lives in a shared arena per call, so the products split
 * over threads. Safe for concurrent use (no state but the backend's closed flag); every op after the backend's
 * {@code close()} fails with {@link IllegalStateException}, like the other op families.
 */
final class SimdTrainOps implements TrainOps {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final java.nio.ByteOrder LE = java.nio.ByteOrder.LITTLE_ENDIAN;

    private final SimdState state;

    SimdTrainOps(SimdState state) {
        this.state = state;
    }

    @Override
    public void mlpForward(Tensor x, Tensor w1, Tensor w3, Tensor w2, Tensor y) {
        state.ensureOpen("mlpForward");
        TrainArgs.mlpForward(x, w1, w3, w2, y);
        int n = (int) x.rows();
        int h = (int) w1.rows();
        try (Arena scratch = scratch((long) n * x.cols() * h)) {
            Tensor a = f32(scratch, n, h);
            Tensor b = f32(scratch, n, h);
            SimdPrepareProject.project(x, w1, a);                  // a = X W1^T (n, h)
            SimdPrepareProject.project(x, w3, b);                  // b = X W3^T (n, h)
            swiGlu(a, b, a);                                       // g = silu(a) * b, into a
            SimdPrepareProject.project(a, w2, y);                  // y = g W2^T (n, d)
        }
    }

    @Override
    public void mlpGradient(Tensor x, Tensor t, Tensor w1, Tensor w3, Tensor w2, MlpLoss loss, Tensor g1, Tensor g3,
                            Tensor g2) {
        state.ensureOpen("mlpGradient");
        TrainArgs.mlpGradient(x, t, w1, w3, w2, loss, g1, g3, g2);
        int n = (int) x.rows();
        int d = x.cols();
        int h = (int) w1.rows();
        try (Arena scratch = scratch((long) n * d * h)) {
            Tensor a = f32(scratch, n, h);
            Tensor b = f32(scratch, n, h);
            Tensor g = f32(scratch, n, h);
            SimdPrepareProject.project(x, w1, a);
            SimdPrepareProject.project(x, w3, b);
            swiGlu(a, b, g);
            Tensor e = f32(scratch, n, d);                         // dL/dy (n, d)
            if (loss == MlpLoss.SQUARED) {
                SimdPrepareProject.project(g, w2, e);
                residual(e, t);
            } else {
                negate(t, e);
            }
            SimdProducts.transposedTimes(e, g, g2);                // dW2 = E^T G (d, h)
            Tensor dg = g;                                         // g is no longer needed: reuse it
            SimdProducts.times(e, w2, dg);                         // dG = E W2 (n, h)
            backSwiGlu(a, b, dg);                                  // a := dA, b := dB
            SimdProducts.transposedTimes(a, x, g1);                // dW1 = dA^T X (h, d)
            SimdProducts.transposedTimes(b, x, g3);                // dW3 = dB^T X (h, d)
        }
    }

    @Override
    public void momentumUpdate(Tensor w, Tensor g, Tensor s, float eta, float theta, float alpha) {
        state.ensureOpen("momentumUpdate");
        TrainArgs.momentumUpdate(w, g, s, eta, theta, alpha);
        float keep = 1 - alpha;
        FloatVector vEta = FloatVector.broadcast(F, eta);
        FloatVector vTheta = FloatVector.broadcast(F, -theta);
        FloatVector vKeep = FloatVector.broadcast(F, keep);
        int cols = w.cols();
        for (long r = 0; r < w.rows(); r++) {
            MemorySegment ws = row(w, r);
            MemorySegment gs = row(g, r);
            MemorySegment ss = row(s, r);
            int c = 0;
            for (int bound = F.loopBound(cols); c < bound; c += LANES) {
                long at = (long) c * Float.BYTES;
                FloatVector m = FloatVector.fromMemorySegment(F, gs, at, java.nio.ByteOrder.LITTLE_ENDIAN)
                        .fma(vTheta, FloatVector.fromMemorySegment(F, ss, at, java.nio.ByteOrder.LITTLE_ENDIAN)
                                .mul(vEta));
                m.intoMemorySegment(ss, at, java.nio.ByteOrder.LITTLE_ENDIAN);
                FloatVector.fromMemorySegment(F, ws, at, java.nio.ByteOrder.LITTLE_ENDIAN).fma(vKeep, m)
                        .intoMemorySegment(ws, at, java.nio.ByteOrder.LITTLE_ENDIAN);
            }
            for (; c < cols; c++) {
                float m = Math.fma(-theta, gs.getAtIndex(FLOAT, c), eta * ss.getAtIndex(FLOAT, c));
                ss.setAtIndex(FLOAT, c, m);
                ws.setAtIndex(FLOAT, c, Math.fma(keep, ws.getAtIndex(FLOAT, c), m));
            }
        }
    }

    @Override
    public void newtonSchulz(Tensor g, int steps, Tensor o) {
        state.ensureOpen("newtonSchulz");
        TrainArgs.newtonSchulz(g, steps, o);
        int rows = (int) g.rows();
        int cols = g.cols();
        boolean tall = rows > cols;
        try (Arena scratch = scratch((long) rows * cols * Math.min(rows, cols))) {
            Tensor x = tall ? transpose(scratch, g) : copy(scratch, g);   // (m, k), m <= k
            int m = (int) x.rows();
            int k = x.cols();
            double norm = 0;
            for (int i = 0; i < m; i++) {
                MemorySegment xs = row(x, i);
                for (int c = 0; c < k; c++) {
                    double v = xs.getAtIndex(FLOAT, c);
                    norm += v * v;
                }
            }
            norm = Math.sqrt(norm);
            if (norm > 0) {
                scale(x, (float) (1 / norm));
                Tensor a = f32(scratch, m, m);
                Tensor aa = f32(scratch, m, m);
                Tensor bx = f32(scratch, m, k);
                for (int step = 0; step < steps; step++) {
                    SimdPrepareProject.project(x, x, a);           // A = X X^T (m, m)
                    SimdPrepareProject.project(a, a, aa);          // A A = A A^T, A symmetric (m, m)
                    combine(a, aa, NS_B, NS_C);                    // a := b A + c A A
                    SimdProducts.times(a, x, bx);                  // (b A + c A A) X (m, k)
                    combine(x, bx, NS_A, 1f);                      // X := a X + that
                }
            }
            Tensor result = tall ? transpose(scratch, x) : x;
            for (long r = 0; r < rows; r++) {
                MemorySegment.copy(row(result, r), 0, row(o, r), 0, (long) cols * Float.BYTES);
            }
        }
    }

    /** {@code out = silu(a) * b}; out may be a. */
    private static void swiGlu(Tensor a, Tensor b, Tensor out) {
        int cols = a.cols();
        for (long r = 0; r < a.rows(); r++) {
            MemorySegment as = row(a, r);
            MemorySegment bs = row(b, r);
            MemorySegment os = row(out, r);
            int c = 0;
            for (int bound = F.loopBound(cols); c < bound; c += LANES) {
                long at = (long) c * Float.BYTES;
                FloatVector v = FloatVector.fromMemorySegment(F, as, at, LE);
                v.div(SimdExp.exp(v.neg()).add(1f)).mul(FloatVector.fromMemorySegment(F, bs, at, LE))
                        .intoMemorySegment(os, at, LE);
            }
            for (; c < cols; c++) {
                float v = as.getAtIndex(FLOAT, c);
                os.setAtIndex(FLOAT, c, v / (1 + (float) Math.exp(-v)) * bs.getAtIndex(FLOAT, c));
            }
        }
    }

    /** From dG: {@code a := dG * b * silu'(a)}, {@code b := dG * silu(a)}. */
    private static void backSwiGlu(Tensor a, Tensor b, Tensor dg) {
        int cols = a.cols();
        for (long r = 0; r < a.rows(); r++) {
            MemorySegment as = row(a, r);
            MemorySegment bs = row(b, r);
            MemorySegment ds = row(dg, r);
            int c = 0;
            for (int bound = F.loopBound(cols); c < bound; c += LANES) {
                long at = (long) c * Float.BYTES;
                FloatVector v = FloatVector.fromMemorySegment(F, as, at, LE);
                FloatVector s = SimdExp.exp(v.neg()).add(1f);
                s = FloatVector.broadcast(F, 1f).div(s);
                FloatVector grad = FloatVector.fromMemorySegment(F, ds, at, LE);
                FloatVector bv = FloatVector.fromMemorySegment(F, bs, at, LE);
                // silu'(v) = s (1 + v (1 - s))
                FloatVector deriv = s.mul(v.mul(s.neg().add(1f)).add(1f));
                grad.mul(bv).mul(deriv).intoMemorySegment(as, at, LE);
                grad.mul(v).mul(s).intoMemorySegment(bs, at, LE);
            }
            for (; c < cols; c++) {
                float v = as.getAtIndex(FLOAT, c);
                float s = 1 / (1 + (float) Math.exp(-v));
                float grad = ds.getAtIndex(FLOAT, c);
                float bv = bs.getAtIndex(FLOAT, c);
                as.setAtIndex(FLOAT, c, grad * bv * (s * (1 + v * (1 - s))));
                bs.setAtIndex(FLOAT, c, grad * v * s);
            }
        }
    }

    /** {@code e := 2 (e - t)}. */
    private static void residual(Tensor e, Tensor t) {
        for (long r = 0; r < e.rows(); r++) {
            MemorySegment es = row(e, r);
            MemorySegment ts = row(t, r);
            for (int c = 0; c < e.cols(); c++) {
                es.setAtIndex(FLOAT, c, 2 * (es.getAtIndex(FLOAT, c) - ts.getAtIndex(FLOAT, c)));
            }
        }
    }

    private static void negate(Tensor t, Tensor out) {
        for (long r = 0; r < t.rows(); r++) {
            MemorySegment ts = row(t, r);
            MemorySegment os = row(out, r);
            for (int c = 0; c < t.cols(); c++) {
                os.setAtIndex(FLOAT, c, -ts.getAtIndex(FLOAT, c));
            }
        }
    }

    /** {@code p := alpha p + beta q}, element-wise. */
    private static void combine(Tensor p, Tensor q, float alpha, float beta) {
        for (long r = 0; r < p.rows(); r++) {
            MemorySegment ps = row(p, r);
            MemorySegment qs = row(q, r);
            for (int c = 0; c < p.cols(); c++) {
                ps.setAtIndex(FLOAT, c, Math.fma(alpha, ps.getAtIndex(FLOAT, c), beta * qs.getAtIndex(FLOAT, c)));
            }
        }
    }

    private static void scale(Tensor p, float factor) {
        for (long r = 0; r < p.rows(); r++) {
            MemorySegment ps = row(p, r);
            for (int c = 0; c < p.cols(); c++) {
                ps.setAtIndex(FLOAT, c, ps.getAtIndex(FLOAT, c) * factor);
            }
        }
    }

    /** {@code t^T} as a new contiguous F32 tensor, transposed in 32 x 32 tiles. */
    private static Tensor transpose(Arena arena, Tensor t) {
        int rows = (int) t.rows();
        int cols = t.cols();
        Tensor out = f32(arena, cols, rows);
        MemorySegment os = out.data();
        for (int r0 = 0; r0 < rows; r0 += 32) {
            for (int c0 = 0; c0 < cols; c0 += 32) {
                for (int r = r0; r < Math.min(rows, r0 + 32); r++) {
                    MemorySegment ts = row(t, r);
                    for (int c = c0; c < Math.min(cols, c0 + 32); c++) {
                        os.setAtIndex(FLOAT, (long) c * rows + r, ts.getAtIndex(FLOAT, c));
                    }
                }
            }
        }
        return out;
    }

    private static Tensor copy(Arena arena, Tensor t) {
        Tensor out = f32(arena, t.rows(), t.cols());
        for (long r = 0; r < t.rows(); r++) {
            MemorySegment.copy(row(t, r), 0, row(out, r), 0, (long) t.cols() * Float.BYTES);
        }
        return out;
    }

    private static MemorySegment row(Tensor t, long r) {
        return t.data().asSlice(t.offset(r, 0), (long) t.cols() * Float.BYTES);
    }

    /**
     * Scratch for an op of about {@code fmas} multiply-adds per product. Closing a shared arena costs a handshake
     * with every thread (milliseconds on a busy JVM), which would dominate the small per-token products of
     * Titans; below the size {@link Parallel} splits anyway, the scratch is confined and the products run on the
     * calling thread.
     */
    private static Arena scratch(long fmas) {
        return fmas < SMALL_FMAS ? Arena.ofConfined() : Arena.ofShared();
    }

    /** Below this many multiply-adds per product, a product is not worth splitting across threads. */
    private static final long SMALL_FMAS = 1 << 18;

    private static Tensor f32(Arena arena, long rows, int cols) {
        return Tensor.allocate(arena, ElementType.F32, rows, cols);
    }
}
