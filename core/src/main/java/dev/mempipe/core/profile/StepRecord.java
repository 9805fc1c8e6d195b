package dev.mempipe.core.profile;

import dev.mempipe.spi.DeviceCounters;
import dev.mempipe.spi.Step;

import java.util.Objects;
import java.util.OptionalDouble;

/**
 * What the profiler recorded for one op run of one pipeline step. Time and energy are measured; bytes and
 * FLOPs are the analytic counts the caller passed ({@link OpCosts}); the bound and the model time come from
 * the roofline model of the device that ran the op.
 *
 * @param step         the pipeline step
 * @param op           the op label, e.g. {@code "dot"} or {@code "pagePool+project"}
 * @param device       the backend that produced the result (the CPU after a fallback)
 * @param wallNanos    wall time of the whole call, including a failed device attempt before a fallback
 * @param cost         bytes read and written and FLOPs
 * @param ridgePoint   FLOPs per byte at which the device's roofs meet (its model's)
 * @param modelSeconds what the device's roofline model predicts for this cost: an estimate, for comparison
 * @param energyJoules energy the machine's CPU counter (RAPL) measured over the call, or empty when there is no
 *                     readable counter (never estimated). RAPL counts the whole package, so concurrent work is
 *                     included.
 * @param fallback     the failed device attempt when the op fell back to the CPU, or null
 * @param transfers    what the planned device reported for the calling thread over the call
 *                     ({@link dev.mempipe.spi.Backend#counters()}): bytes moved each way over the host link, transfer
 *                     time, device (kernel) time and the device's own energy meter (NaN without one);
 *                     {@link DeviceCounters#NONE} for the CPU
 */
public record StepRecord(Step step, String op, String device, long wallNanos, OpCost cost, double ridgePoint,
                         double modelSeconds, OptionalDouble energyJoules, Fallback fallback, DeviceCounters transfers) {

    /** A record of a step that moved nothing over a device link (the CPU). */
    public StepRecord(Step step, String op, String device, long wallNanos, OpCost cost, double ridgePoint,
                      double modelSeconds, OptionalDouble energyJoules, Fallback fallback) {
        this(step, op, device, wallNanos, cost, ridgePoint, modelSeconds, energyJoules, fallback, DeviceCounters.NONE);
    }

    /**
     * A device attempt that failed and was rerun on the CPU.
     *
     * @param fromDevice the device that failed
     * @param reason     the exception's class and message
     */
    public record Fallback(String fromDevice, String reason) {
        public Fallback {
            Objects.requireNonNull(fromDevice, "fromDevice");
            Objects.requireNonNull(reason, "reason");
        }
    }

    public StepRecord {
        Objects.requireNonNull(step, "step");
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(cost, "cost");
        Objects.requireNonNull(energyJoules, "energyJoules");
        Objects.requireNonNull(transfers, "transfers");
    }

    public long bytesRead() {
        return cost.bytesRead();
    }

    public long bytesWritten() {
        return cost.bytesWritten();
    }

    public long flops() {
        return cost.flops();
    }

    /** FLOPs per byte ({@link OpCost#intensity()}). */
    public double intensity() {
        return cost.intensity();
    }

    /** MEMORY or COMPUTE against the running device's ridge point. */
    public Bound bound() {
        return Bound.of(intensity(), ridgePoint);
    }

    /** Whether a device failed and the CPU produced the result. */
    public boolean fellBack() {
        return fallback != null;
    }
}
