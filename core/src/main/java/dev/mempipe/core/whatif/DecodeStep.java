package dev.mempipe.core.whatif;

import dev.mempipe.core.placement.WorkloadShape;
import dev.mempipe.core.profile.OpCost;

import java.util.Objects;

/**
 * One decode step of a workload at one context length, as the what-if planner sees it: the memory pipeline's
 * steps (which the planner places) and the rest of the model's work for the token (weights and the like), which
 * only the host GPU runs. Immutable.
 *
 * @param workload   the workload's name ({@code quest}, {@code dsa}, {@code bm25})
 * @param context    context length in tokens (for bm25: the corpus's passages)
 * @param memory     the memory pipeline's steps
 * @param hostOnly   the model's other work for the token, on the host GPU
 * @param what       one line saying what the step models
 */
public record DecodeStep(String workload, long context, WorkloadShape memory, OpCost hostOnly, String what) {
    public DecodeStep {
        Objects.requireNonNull(workload, "workload");
        Objects.requireNonNull(memory, "memory");
        Objects.requireNonNull(hostOnly, "hostOnly");
        Objects.requireNonNull(what, "what");
        if (context < 1) {
            throw new IllegalArgumentException("context must be >= 1 token, got " + context);
        }
    }
}
