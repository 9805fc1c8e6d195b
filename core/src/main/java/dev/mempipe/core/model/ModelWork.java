package dev.mempipe.core.model;

import dev.mempipe.core.profile.OpCost;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The decode step's work outside the memory pipeline: embedding lookup, norms, the q/k/v and output
 * projections, RoPE, the MLP and the LM head. The engine's profile holds the pipeline's steps only (its
 * records are typed by pipeline step); this holds the rest, per label, with the same measured wall time and
 * analytic bytes and FLOPs, so the two add up to the step.
 *
 * <p>Not thread-safe: one decoding thread records into it.
 */
public final class ModelWork {
    /** Projections of the attention block (q, k, v, output) and their residual add. */
    public static final String PROJECTION = "projection";
    /** Gate, up and down projections, SwiGLU and the residual add. */
    public static final String MLP = "mlp";
    public static final String LM_HEAD = "lm-head";
    public static final String NORM = "norm";
    public static final String ROPE = "rope";
    public static final String EMBEDDING = "embedding";

    /**
     * Totals of one label.
     *
     * @param wallNanos measured wall time of all calls
     * @param cost      analytic bytes and FLOPs of all calls
     */
    public record Op(String label, long calls, long wallNanos, OpCost cost) {
        public double seconds() {
            return wallNanos / 1e9;
        }
    }

    private final Map<String, Op> totals = new LinkedHashMap<>();

    /** Runs {@code body} and adds its wall time and {@code cost} under {@code label}. */
    void run(String label, OpCost cost, Runnable body) {
        long start = System.nanoTime();
        body.run();
        long nanos = System.nanoTime() - start;
        totals.merge(label, new Op(label, 1, nanos, cost),
                (a, b) -> new Op(label, a.calls() + 1, a.wallNanos() + b.wallNanos(), a.cost().plus(b.cost())));
    }

    /** Totals per label, in the order first seen. */
    public List<Op> ops() {
        return new ArrayList<>(totals.values());
    }

    /** Wall time over every label. */
    public long wallNanos() {
        return totals.values().stream().mapToLong(Op::wallNanos).sum();
    }

    /** Analytic work over every label. */
    public OpCost cost() {
        return totals.values().stream().map(Op::cost).reduce(OpCost.ZERO, OpCost::plus);
    }

    /** Forgets everything recorded. */
    public void reset() {
        totals.clear();
    }
}
