package dev.mempipe.bench;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The key types the scans are compared over: F32 keys and their BF16 and I8 copies. */
final class CompactKeys {
    private CompactKeys() {
    }

    /**
     * {@code f32} and its BF16 and I8 conversions by the backend's {@code convert}, in {@code arena}, in that order
     * (F32, BF16, I8).
     */
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
