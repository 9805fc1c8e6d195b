package dev.mempipe.core.pipeline;

import dev.mempipe.core.memory.PagedKvMemory;
import dev.mempipe.spi.Tensor;

/**
 * An attention workload of one decoder layer: Prepare appends the layer's new keys and values (and whatever
 * the workload derives from them), the query is the step's query heads {@code q [Hq, d]} (F32, contiguous),
 * Retrieval picks KV rows, Apply is attention over them and returns {@code o [Hq, d]} (a view of the
 * pipeline's scratch, valid until its next Apply).
 *
 * @param <S> the workload's relevancy scores
 */
public interface KvPipeline<S> extends Pipeline<KvRows, Tensor, S, TokenSelection, Tensor> {

    /** The workload's name, as the profile reports it. */
    String name();

    /** The layer's KV cache, which Apply reads. */
    PagedKvMemory kv();

    AttentionShape shape();
}
