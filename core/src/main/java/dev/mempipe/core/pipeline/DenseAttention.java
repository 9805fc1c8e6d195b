package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.PagedKvMemory;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.Objects;

/**
 * The baseline every sparse workload is measured against: attention over every cached row. Prepare is the
 * KV cache append; there is nothing to score and nothing to choose.
 */
public final class DenseAttention implements KvPipeline<Void> {
    private final Engine engine;
    private final PagedKvMemory kv;
    private final AttentionShape shape;
    private final SparseAttention attention;

    /**
     * @param kv    the layer's KV cache; its KV heads and head dimension must match {@code shape}
     * @param arena where the output scratch is allocated (shared: the CPU backend uses a thread pool)
     */
    public DenseAttention(Engine engine, PagedKvMemory kv, AttentionShape shape, Arena arena) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.kv = Objects.requireNonNull(kv, "kv");
        this.shape = KvPipelines.checkShape(shape, kv);
        this.attention = new SparseAttention(engine, shape, arena);
    }

    @Override
    public String name() {
        return "dense";
    }

    @Override
    public void prepare(KvRows rows) {
        kv.append(rows.keys(), rows.values());  // one Prepare step: convert, pageMinMaxAppend
    }

    /** Dense attention scores nothing: null. */
    @Override
    public Void relevancy(Tensor query) {
        return null;
    }

    @Override
    public TokenSelection retrieve(Void scores) {
        return TokenSelection.all(kv.length());
    }

    @Override
    public Tensor apply(Tensor query, TokenSelection selection) {
        return attention.apply(query, kv.snapshot(), selection);
    }

    @Override
    public PagedKvMemory kv() {
        return kv;
    }

    @Override
    public AttentionShape shape() {
        return shape;
    }
}
