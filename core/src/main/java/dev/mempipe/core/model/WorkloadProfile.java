package dev.mempipe.core.model;

import dev.mempipe.core.profile.ProfileReport;

import java.util.List;
import java.util.Objects;

/**
 * What {@link WorkloadProfiler} measured for one workload at one context size. Times are means per decode step
 * over the measured steps.
 *
 * <p>How the share is defined: a decode step is, for an attention workload, the decoder's step with the
 * workload as its attention; for a retrieval workload, one run of the workload's pipeline (Relevancy,
 * Retrieval, Apply for one query) followed by the decoder's step with dense attention over a prompt of fixed
 * length, as if retrieval ran at every step (iterative RAG, HMT's recall per segment). {@link #memorySeconds}
 * is the wall time of every run the workload's pipeline put through the engine during the step (for an
 * attention workload that includes the KV append and the attention itself); {@link #otherSeconds} is the rest
 * of the step: projections, norms, RoPE, MLP, LM head and, for retrieval workloads, the decoder's own
 * attention. {@link #memoryShare} is their ratio to the step.
 *
 * @param workload      the workload
 * @param context       its context size, in {@link #contextUnit()}s
 * @param config        the decoder
 * @param steps         decode steps measured
 * @param stepSeconds   wall time of a decode step
 * @param memorySeconds of which in the workload's memory pipeline
 * @param otherSeconds  of which in the rest ({@code stepSeconds - memorySeconds})
 * @param setupSeconds  wall time of building the memory to the context size (bulk Prepare, not per step)
 * @param measured      the engine's records of the measured steps (memory pipeline only)
 * @param setup         the engine's records of the setup
 * @param otherOps      the decoder's own work in the measured steps, by label ({@link ModelWork})
 * @param accuracy      for sparse attention workloads, the accuracy against dense attention on planted
 *                      structure (mean over layers); null otherwise
 * @param figures       the workload's own figures (triggers per token, rewrite share, ...), each with its basis
 */
public record WorkloadProfile(Workload workload, long context, DecoderConfig config, int steps, double stepSeconds,
                              double memorySeconds, double otherSeconds, double setupSeconds, ProfileReport measured,
                              ProfileReport setup, List<ModelWork.Op> otherOps, AttentionAccuracy accuracy,
                              List<WorkloadFigure> figures) {
    public WorkloadProfile {
        Objects.requireNonNull(workload, "workload");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(measured, "measured");
        Objects.requireNonNull(setup, "setup");
        otherOps = List.copyOf(otherOps);
        figures = List.copyOf(figures);
    }

    /** Without figures of the workload's own. */
    public WorkloadProfile(Workload workload, long context, DecoderConfig config, int steps, double stepSeconds,
                           double memorySeconds, double otherSeconds, double setupSeconds, ProfileReport measured,
                           ProfileReport setup, List<ModelWork.Op> otherOps, AttentionAccuracy accuracy) {
        this(workload, context, config, steps, stepSeconds, memorySeconds, otherSeconds, setupSeconds, measured, setup,
                otherOps, accuracy, List.of());
    }

    /** The same profile with {@code more} figures added. */
    public WorkloadProfile withFigures(List<WorkloadFigure> more) {
        List<WorkloadFigure> all = new java.util.ArrayList<>(figures);
        all.addAll(more);
        return new WorkloadProfile(workload, context, config, steps, stepSeconds, memorySeconds, otherSeconds,
                setupSeconds, measured, setup, otherOps, accuracy, all);
    }

    /** Share of the decode step spent in the memory pipeline, in [0, 1]. */
    public double memoryShare() {
        return stepSeconds > 0 ? Math.min(1, memorySeconds / stepSeconds) : 0;
    }

    /** Tokens, documents, chunks or segments. */
    public String contextUnit() {
        return workload.contextUnit();
    }
}
