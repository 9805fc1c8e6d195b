package dev.mempipe.core.pipeline;

import dev.mempipe.spi.Tensor;

import java.util.Objects;

/**
 * The keys and values of n new tokens of one layer, {@code [n, Hkv*d]} each (row i holds the Hkv heads of
 * token i): what the attention pipelines' Prepare step appends.
 */
public record KvRows(Tensor keys, Tensor values) {
    public KvRows {
        Objects.requireNonNull(keys, "keys");
        Objects.requireNonNull(values, "values");
        if (keys.rows() != values.rows() || keys.cols() != values.cols()) {
            throw new IllegalArgumentException("keys " + keys.shapeString() + " and values " + values.shapeString()
                    + " must have the same shape");
        }
    }

    /** Tokens, n. */
    public long tokens() {
        return keys.rows();
    }
}
