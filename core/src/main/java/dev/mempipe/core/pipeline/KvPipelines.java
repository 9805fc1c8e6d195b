package dev.mempipe.core.pipeline;

import dev.mempipe.core.memory.PagedKvMemory;

import java.util.Objects;

/** Checks the attention pipelines share. */
final class KvPipelines {
    private KvPipelines() {
    }

    static AttentionShape checkShape(AttentionShape shape, PagedKvMemory kv) {
        Objects.requireNonNull(shape, "shape");
        if (kv.kvHeads() != shape.kvHeads() || kv.headDim() != shape.headDim()) {
            throw new IllegalArgumentException("the KV cache holds " + kv.kvHeads() + " heads of " + kv.headDim()
                    + " but the shape says " + shape.kvHeads() + " of " + shape.headDim());
        }
        return shape;
    }

    static int nonNegative(String name, int value) {
        if (value < 0) {
            throw new IllegalArgumentException(name + " must be >= 0, got " + value);
        }
        return value;
    }

    static int positive(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, got " + value);
        }
        return value;
    }
}
