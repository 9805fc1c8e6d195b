package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.PagedKvMemory;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;

/**
 * Stage 4 of every attention workload: {@code attention} over the rows Retrieval chose. A shared selection
 * (or every row) is one call over all heads; a per-KV-head selection is one call per KV head, over that
 * head's band of K and V and its group of query heads, so each group reads only its own rows.
 */
final class SparseAttention {
    private final Engine engine;
    private final AttentionShape shape;
    private final Tensor out; // o (Hq, d)

    SparseAttention(Engine engine, AttentionShape shape, Arena arena) {
        this.engine = engine;
        this.shape = shape;
        this.out = Views.f32(arena, shape.queryHeads(), shape.headDim());
    }

    /** {@code o = attention(q, K, V, selection)} over the snapshot's rows; returns o (scratch). */
    Tensor apply(Tensor q, PagedKvMemory.Snapshot kv, TokenSelection selection) {
        shape.checkQuery("query", q);
        if (selection.length() > kv.length()) {
            throw new IllegalArgumentException("the selection was made over " + selection.length()
                    + " tokens but the KV cache holds " + kv.length());
        }
        // the rows the selection was made over, even if the cache has grown since
        Tensor keys = kv.keys().rowSlice(0, selection.length());
        Tensor values = kv.values().rowSlice(0, selection.length());
        int d = shape.headDim();
        float scale = shape.scale();
        if (selection.isAll() || selection.isShared()) {
            boolean sparse = !selection.isAll();
            OpCost cost = OpCosts.attention(shape.queryHeads(), shape.kvHeads(), d, selection.count(0), q.type(),
                    keys.type(), ElementType.F32, sparse);
            engine.runVoid(Op.ATTENTION, cost, b -> b.apply().attention(q, keys, values, shape.kvHeads(),
                    selection.rowsOf(0), scale, out));
            return out;
        }
        OpCost cost = OpCost.ZERO;
        for (int g = 0; g < shape.kvHeads(); g++) {
            cost = cost.plus(OpCosts.attention(shape.groupSize(), 1, d, selection.count(g), q.type(),
                    keys.type(), ElementType.F32, true));
        }
        engine.runVoid(Op.ATTENTION, cost, b -> {
            for (int g = 0; g < shape.kvHeads(); g++) {
                b.apply().attention(shape.group(q, g), Views.kvHead(keys, g, d), Views.kvHead(values, g, d), 1,
                        selection.rowsOf(g), scale, shape.group(out, g));
            }
        });
        return out;
    }
}
