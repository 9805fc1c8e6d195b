package dev.mempipe.bench;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** The key types the scans are compared over: F32 keys and their BF16 and I8 copies. */
final class CompactKeys {
    private CompactKeys() {
    }

    /**
     * {@code f32} and its BF16 and I8 conversions by the backend's {@code convert}, in {@code arena}, in that order
     * (F32, BF16, I8).
     */
    /** An F32 {@code [rows, cols]} tensor of standard Gaussian values from {@code random}, in {@code arena}. */
    static Tensor gaussian(Arena arena, long rows, int cols, Random random) {
        Tensor t = Tensor.allocate(arena, ElementType.F32, rows, cols);
        for (long i = 0; i < rows * cols; i++) {
            t.data().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) random.nextGaussian());
        }
        return t;
    }

    static Map<ElementType, Tensor> of(Backend backend, Arena arena, Tensor f32) {
        Map<ElementType, Tensor> keys = new LinkedHashMap<>();
        keys.put(ElementType.F32, f32);
        for (ElementType type : List.of(ElementType.BF16, ElementType.I8)) {
            Tensor k = Tensor.allocate(arena, type, f32.rows(), f32.cols());
            backend.prepare().convert(f32, k);
            keys.put(type, k);
        }
        return keys;
    }
}
