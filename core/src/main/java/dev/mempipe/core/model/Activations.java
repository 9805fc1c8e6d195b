package dev.mempipe.core.model;

import dev.mempipe.spi.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The decoder's element-wise steps that are not ops of the contract: RMSNorm, SwiGLU and the residual add,
 * over contiguous F32 vectors {@code [1, n]}. They touch a few thousand floats per layer, so plain loops do.
 */
final class Activations {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private Activations() {
    }

    /** {@code out = x / sqrt(mean(x^2) + eps) * gain}, the sum of squares in double. */
    static void rmsNorm(Tensor x, Tensor gain, float epsilon, Tensor out) {
        MemorySegment xs = x.data();
        MemorySegment gs = gain.data();
        MemorySegment os = out.data();
        int n = x.cols();
        double sumSquares = 0;
        for (int i = 0; i < n; i++) {
            float v = xs.getAtIndex(F32, i);
            sumSquares += (double) v * v;
        }
        float inverse = (float) (1 / Math.sqrt(sumSquares / n + epsilon));
        for (int i = 0; i < n; i++) {
            os.setAtIndex(F32, i, xs.getAtIndex(F32, i) * inverse * gs.getAtIndex(F32, i));
        }
    }

    /** {@code gate = silu(gate) * up}, with {@code silu(g) = g / (1 + e^-g)}. */
    static void swiGlu(Tensor gate, Tensor up) {
        MemorySegment gs = gate.data();
        MemorySegment us = up.data();
        for (int i = 0, n = gate.cols(); i < n; i++) {
            float g = gs.getAtIndex(F32, i);
            gs.setAtIndex(F32, i, g / (1 + (float) Math.exp(-g)) * us.getAtIndex(F32, i));
        }
    }

    /** {@code x += y}. */
    static void addInPlace(Tensor x, Tensor y) {
        MemorySegment xs = x.data();
        MemorySegment ys = y.data();
        for (int i = 0, n = x.cols(); i < n; i++) {
            xs.setAtIndex(F32, i, xs.getAtIndex(F32, i) + ys.getAtIndex(F32, i));
        }
    }
}
