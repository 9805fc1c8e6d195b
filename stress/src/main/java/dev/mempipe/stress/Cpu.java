package dev.mempipe.stress;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;

/** What every stress test shares: one engine (which runs the memories' ops) and constant rows in the global arena. */
final class Cpu {
    static final Engine ENGINE = Engine.builder().build();

    private Cpu() {
    }

    /** A {@code [1, d]} F32 row of {@code value}. */
    static Tensor row(int d, float value) {
        float[] v = new float[d];
        java.util.Arrays.fill(v, value);
        return Tensor.of(Arena.global(), v, 1, d);
    }

    /** How many of the d elements of row {@code r} of {@code t} equal {@code value}. */
    static int countEqual(Tensor t, long r, float value) {
        int n = 0;
        for (int c = 0; c < t.cols(); c++) {
            if (t.get(r, c) == value) {
                n++;
            }
        }
        return n;
    }

    static final ElementType F32 = ElementType.F32;
}
