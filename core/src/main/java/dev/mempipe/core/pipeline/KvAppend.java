package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.PagedKvMemory;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.Step;

/**
 * The Prepare step every attention workload shares: appending new tokens to the layer's KV cache, which
 * converts them to the storage type and brings the Quest page summaries up to date ({@code pageMinMaxAppend}
 * touches only the pages holding new rows).
 */
final class KvAppend {
    /** The profile label: the cache write and the incremental page summaries. */
    static final String LABEL = "kvAppend+pageMinMax";

    private KvAppend() {
    }

    /**
     * Appends {@code rows} to {@code kv} as one PREPARE run of {@code engine}. The memory runs its ops on the
     * backend it was built with.
     */
    static void append(Engine engine, PagedKvMemory kv, KvRows rows) {
        long from = kv.length();
        long to = from + rows.tokens();
        int width = rows.keys().cols();
        OpCost convert = OpCosts.convert(rows.tokens(), width, rows.keys().type(), kv.storage())
                .plus(OpCosts.convert(rows.tokens(), width, rows.values().type(), kv.storage()));
        OpCost summaries = to > from && to <= kv.capacity()
                ? OpCosts.pageMinMaxAppend(to, from, width, kv.pageSize(), kv.storage(), kv.storage())
                : OpCost.ZERO;
        engine.runVoid(Step.PREPARE, LABEL, convert.plus(summaries), b -> kv.append(rows.keys(), rows.values()));
    }
}
