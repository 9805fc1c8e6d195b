package dev.mempipe.core.pipeline;

import dev.mempipe.core.model.SyntheticKv;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;

/**
 * Keys and values {@code [L, Hkv*d]} with planted structure and the probe query they were planted for: the
 * inputs an attention pipeline and its oracle composition both get.
 */
record KvFixture(AttentionShape shape, Tensor query, Tensor keys, Tensor values) {
    /** Appends of awkward sizes, so the incremental Prepare path is exercised (the last one takes the rest). */
    static final int[] APPEND_SIZES = {1, 15, 17, 64, 3};

    static KvFixture of(Arena arena, AttentionShape shape, long length, long seed) {
        return of(arena, shape, length, seed, new SyntheticKv.Structure(4, 10f, 8, 5f, 32, 1f));
    }

    static KvFixture of(Arena arena, AttentionShape shape, long length, long seed, SyntheticKv.Structure structure) {
        Tensor q = SyntheticKv.probeQuery(arena, shape, seed);
        Tensor k = Tensor.allocate(arena, ElementType.F32, length, shape.kvWidth());
        Tensor v = Tensor.allocate(arena, ElementType.F32, length, shape.kvWidth());
        new SyntheticKv(shape, q, length, structure, seed).rows(0, length, k, v);
        return new KvFixture(shape, q, k, v);
    }

    long length() {
        return keys.rows();
    }

    /** Feeds every row to {@code pipeline}'s Prepare in appends of {@link #APPEND_SIZES}, then the rest at once. */
    void prepare(KvPipeline<?> pipeline) {
        long at = 0;
        for (int size : APPEND_SIZES) {
            long to = Math.min(length(), at + size);
            pipeline.prepare(new KvRows(keys.rowSlice(at, to), values.rowSlice(at, to)));
            at = to;
        }
        pipeline.prepare(new KvRows(keys.rowSlice(at, length()), values.rowSlice(at, length())));
    }
}
