package dev.mempipe.core.pipeline;

import dev.mempipe.spi.Tensor;

/**
 * The attention of every layer of a decoder, as a decode step calls it: first the token's keys and values
 * are appended (Prepare), then its query attends (Relevancy, Retrieval, Apply). Dense attention and every
 * sparse workload implement it through {@link LayeredAttention}.
 */
public interface AttentionProvider {

    /** The workload's name. */
    String name();

    /** Layers served. */
    int layers();

    /** Prepare: appends n tokens' keys and values {@code [n, Hkv*d]} to {@code layer}'s memory. */
    void append(int layer, Tensor keys, Tensor values);

    /**
     * Attends {@code query [Hq, d]} over {@code layer}'s memory.
     *
     * @return {@code o [Hq, d]}, a view of scratch valid until the layer's next call
     */
    Tensor attend(int layer, Tensor query);
}
