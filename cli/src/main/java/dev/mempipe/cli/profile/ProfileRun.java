package dev.mempipe.cli.profile;

import java.util.List;
import java.util.Objects;

/**
 * Everything {@code mempipe profile} measured, as the report writer renders it.
 *
 * @param machine                 the machine in words (CPU model, cores, memory, OS)
 * @param backendDescription      the backends used, e.g. {@code cpu-simd(256-bit, 2 threads)}
 * @param model                   the decode model in words (size name and shape)
 * @param peakFlops               the device's peak FLOP/s: the roofline's flat roof
 * @param bandwidthBytesPerSecond the device's memory bandwidth: the roofline's slanted roof
 * @param roofSource              where both roofs come from, e.g. {@code "measured: STREAM-like read of 512 MiB,
 *                                FMA loop on 2 threads"} or {@code "declared: device model"}; the report says that
 *                                roofs are measured or declared models
 * @param rows                    one per workload and context length, in the order measured
 * @param warmUp                  how the measurements were warmed up, in words (with the steps it took)
 */
public record ProfileRun(String machine, String backendDescription, String model, double peakFlops,
                         double bandwidthBytesPerSecond, String roofSource, List<ProfileRow> rows, String warmUp) {

    public ProfileRun {
        Objects.requireNonNull(machine, "machine");
        Objects.requireNonNull(backendDescription, "backendDescription");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(roofSource, "roofSource");
        Objects.requireNonNull(warmUp, "warmUp");
        rows = List.copyOf(rows);
    }

    /** FLOPs per byte where the roofs meet; NaN when either roof is unknown. */
    public double ridgePoint() {
        return peakFlops > 0 && bandwidthBytesPerSecond > 0 ? peakFlops / bandwidthBytesPerSecond : Double.NaN;
    }
}
