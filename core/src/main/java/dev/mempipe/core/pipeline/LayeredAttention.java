package dev.mempipe.core.pipeline;

import dev.mempipe.core.memory.OwnedMemories;
import dev.mempipe.spi.Tensor;

import java.util.List;
import java.util.Objects;

/**
 * An {@link AttentionProvider} made of one {@link KvPipeline} per layer, all of one workload. It may own the layers'
 * memories ({@link #close()} frees their device copies); it owns none unless it was given them.
 */
public final class LayeredAttention implements AttentionProvider, AutoCloseable {
    private final String name;
    private final List<KvPipeline<?>> layers;
    private final OwnedMemories owned;

    /** @param layers the pipeline of each layer, layer 0 first; their memories stay the caller's */
    public LayeredAttention(List<? extends KvPipeline<?>> layers) {
        this(layers, new OwnedMemories());
    }

    /**
     * @param layers the pipeline of each layer, layer 0 first
     * @param owned  what {@link #close()} closes: the layers' memories, made for this attention alone
     */
    public LayeredAttention(List<? extends KvPipeline<?>> layers, OwnedMemories owned) {
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("layers must not be empty");
        }
        this.layers = List.copyOf(layers);
        this.owned = Objects.requireNonNull(owned, "owned");
        this.name = this.layers.getFirst().name();
    }

    /** Closes the memories this attention owns (their device copies); see {@link OwnedMemories#close()}. */
    @Override
    public void close() {
        owned.close();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int layers() {
        return layers.size();
    }

    /** The pipeline of {@code layer}. */
    public KvPipeline<?> layer(int layer) {
        return layers.get(Objects.checkIndex(layer, layers.size()));
    }

    @Override
    public void append(int layer, Tensor keys, Tensor values) {
        layer(layer).prepare(new KvRows(keys, values));
    }

    @Override
    public Tensor attend(int layer, Tensor query) {
        return layer(layer).step(query);
    }
}
