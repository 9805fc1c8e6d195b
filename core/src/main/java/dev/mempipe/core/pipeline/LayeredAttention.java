package dev.mempipe.core.pipeline;

import dev.mempipe.spi.Tensor;

import java.util.List;
import java.util.Objects;

/** An {@link AttentionProvider} made of one {@link KvPipeline} per layer, all of one workload. */
public final class LayeredAttention implements AttentionProvider {
    private final String name;
    private final List<KvPipeline<?>> layers;

    /** @param layers the pipeline of each layer, layer 0 first */
    public LayeredAttention(List<? extends KvPipeline<?>> layers) {
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("layers must not be empty");
        }
        this.layers = List.copyOf(layers);
        this.name = this.layers.getFirst().name();
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
