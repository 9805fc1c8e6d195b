package dev.mempipe.core.whatif;

import dev.mempipe.core.placement.Device;
import dev.mempipe.core.placement.Links;
import dev.mempipe.core.placement.Plan;
import dev.mempipe.core.placement.Planner;
import dev.mempipe.core.placement.StepShape;
import dev.mempipe.core.placement.TransferModel;
import dev.mempipe.spi.Step;

import java.util.EnumMap;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A host GPU alone against the same GPU with an accelerator beside it, for one decode step, all from models.
 * The planner places the memory pipeline's steps (the GPU is its host: it holds the query and takes the
 * result; the accelerator reaches it over a peer-to-peer link); the model's other work runs on the GPU in both
 * cases. The model is serial, as the planner's is: a device waits while the other computes or data moves.
 *
 * <pre>
 *   time   = host-only work on the GPU + the plan's predicted time (its steps and transfers)
 *   energy = sum over devices of busy watts x busy seconds + idle watts x (time - busy seconds)
 * </pre>
 * GPU alone has no accelerator drawing power. Beside the planner's choice, the published split (Relevancy and
 * Retrieval on the accelerator) is evaluated too, whatever the planner prefers. Stateless.
 */
public final class WhatIf {
    /** Seconds of one peer-to-peer transfer's setup (an order of magnitude; a model). */
    static final double P2P_LATENCY_SECONDS = 2e-6;

    private WhatIf() {
    }

    /** Predicted time and energy of one decode step under one plan. */
    public record Outcome(Plan plan, double seconds, double joules) {
    }

    /**
     * The prediction for one decode step on one pair.
     *
     * @param pair      the planner's choice on GPU + accelerator
     * @param alone     the GPU alone (every step on it, no accelerator drawing power)
     * @param offload   Relevancy and Retrieval on the accelerator, the rest on the GPU (the published system's
     *                  split), or null when the accelerator cannot run those steps
     */
    public record Comparison(DeviceSheet gpu, DeviceSheet accelerator, DecodeStep step, Outcome pair, Outcome alone,
                             Outcome offload) {
        public Comparison {
            Objects.requireNonNull(pair, "pair");
            Objects.requireNonNull(alone, "alone");
        }

        /** GPU-alone time over pair time: above 1 when the pair is faster. */
        public double speedup() {
            return alone.seconds() / pair.seconds();
        }

        /** GPU-alone energy over pair energy: above 1 when the pair uses less. */
        public double energyReduction() {
            return alone.joules() / pair.joules();
        }

        /** Bytes each link carries in the pair's plan ("a -> b"). */
        public Map<String, Long> bytesPerLink() {
            return pair.plan().bytesPerLink();
        }
    }

    public static Comparison compare(DeviceSheet gpu, DeviceSheet accelerator, DecodeStep step) {
        Device host = gpu.device();
        Device other = accelerator.device();
        Links links = Links.builder().link(host.name(), other.name(),
                TransferModel.of(P2P_LATENCY_SECONDS, DeviceSheets.P2P_BYTES_PER_SECOND)).build();
        Planner pairPlanner = new Planner(host, List.of(other), links);
        double hostOnly = host.model().predictSeconds(step.hostOnly());
        Outcome pair = outcome(pairPlanner.plan(step.memory()), hostOnly, gpu, accelerator);
        Outcome alone = outcome(new Planner(host, List.of(), Links.builder().build()).plan(step.memory()), hostOnly,
                gpu, null);
        Outcome offload = null;
        Map<Step, String> split = new EnumMap<>(Step.class);
        for (StepShape s : step.memory().steps()) {
            if (s.step() == Step.RELEVANCY || s.step() == Step.RETRIEVAL) {
                if (!pairPlanner.canRun(other, s)) {
                    split = null;
                    break;
                }
                split.put(s.step(), other.name());
            }
        }
        if (split != null && !split.isEmpty()) {
            offload = outcome(pairPlanner.evaluate(step.memory(), split), hostOnly, gpu, accelerator);
        }
        return new Comparison(gpu, accelerator, step, pair, alone, offload);
    }

    /** Time and energy of a plan plus the GPU's host-only work; {@code accelerator} null: none installed. */
    private static Outcome outcome(Plan plan, double hostOnly, DeviceSheet gpu, DeviceSheet accelerator) {
        double seconds = hostOnly + plan.predictedSeconds();
        double joules = joules(gpu, hostOnly + busySeconds(plan, gpu.name()), seconds);
        if (accelerator != null) {
            joules += joules(accelerator, busySeconds(plan, accelerator.name()), seconds);
        }
        return new Outcome(plan, seconds, joules);
    }

    private static double busySeconds(Plan plan, String device) {
        return plan.placements().stream().filter(p -> p.device().equals(device))
                .mapToDouble(Plan.StepPlacement::predictedSeconds).sum();
    }

    private static double joules(DeviceSheet sheet, double busy, double total) {
        if (sheet.busyWatts() == null) {
            return Double.NaN; // power unknown (a calibrated device)
        }
        return sheet.busyWatts().value() * busy + sheet.idleWatts().value() * Math.max(0, total - busy);
    }
}
