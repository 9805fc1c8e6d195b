package dev.mempipe.cli.profile;

import dev.mempipe.core.profile.Bound;

import java.util.Objects;

/**
 * What one pipeline step of one workload cost per decode step: measured wall time, the analytic bytes and
 * FLOPs of its ops (core's {@code OpCosts}), their intensity, the roofline classification on the device that
 * ran it, and whether a device failed and the CPU produced the result.
 *
 * @param wallNanos    wall time of the step attributed to one decode step
 * @param bytesRead    bytes the step's ops read
 * @param bytesWritten bytes they wrote
 * @param flops        floating-point (or integer multiply-add) operations, counted analytically
 * @param intensity    FLOPs per byte moved; NaN when nothing was moved
 * @param bound        MEMORY or COMPUTE against the device's ridge point (a model's classification)
 * @param device       the backend that produced the result, e.g. {@code cpu-simd}
 * @param fellBack     whether a device attempt failed and the CPU reran the step
 */
public record StepStats(long wallNanos, long bytesRead, long bytesWritten, long flops, double intensity, Bound bound,
                        String device, boolean fellBack) {

    public StepStats {
        Objects.requireNonNull(bound, "bound");
        Objects.requireNonNull(device, "device");
        if (wallNanos < 0 || bytesRead < 0 || bytesWritten < 0 || flops < 0) {
            throw new IllegalArgumentException("step stats must be non-negative, got wallNanos=" + wallNanos
                    + " bytesRead=" + bytesRead + " bytesWritten=" + bytesWritten + " flops=" + flops);
        }
    }

    public double seconds() {
        return wallNanos / 1e9;
    }

    /** Achieved FLOP/s; NaN when no time was measured. */
    public double flopsPerSecond() {
        return wallNanos == 0 ? Double.NaN : flops / seconds();
    }

    /** Achieved bytes per second, read plus written; NaN when no time was measured. */
    public double bytesPerSecond() {
        return wallNanos == 0 ? Double.NaN : (bytesRead + bytesWritten) / seconds();
    }
}
