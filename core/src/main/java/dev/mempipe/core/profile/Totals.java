package dev.mempipe.core.profile;

import dev.mempipe.spi.DeviceCounters;

import java.util.OptionalDouble;

/**
 * Sums over several {@link StepRecord}s.
 *
 * @param calls        records summed
 * @param wallNanos    total wall time
 * @param energyJoules total energy, or empty when any summed record had none (a partial sum would mislead)
 * @param fallbacks    records in which a device failed and the CPU reran the op
 * @param transfers    summed device reports: bytes each way over host links, transfer and device time, and the
 *                     energy of the devices that meter it (a source separate from the CPU's {@code energyJoules})
 */
public record Totals(long calls, long wallNanos, long bytesRead, long bytesWritten, long flops,
                     OptionalDouble energyJoules, long fallbacks, DeviceCounters transfers) {

    /** Nothing recorded. */
    public static final Totals EMPTY = new Totals(0, 0, 0, 0, 0, OptionalDouble.of(0), 0);

    /** Totals without device transfers. */
    public Totals(long calls, long wallNanos, long bytesRead, long bytesWritten, long flops,
                  OptionalDouble energyJoules, long fallbacks) {
        this(calls, wallNanos, bytesRead, bytesWritten, flops, energyJoules, fallbacks, DeviceCounters.NONE);
    }

    /** These totals with one more record. */
    public Totals plus(StepRecord r) {
        OptionalDouble energy = energyJoules.isPresent() && r.energyJoules().isPresent()
                ? OptionalDouble.of(energyJoules.getAsDouble() + r.energyJoules().getAsDouble())
                : OptionalDouble.empty();
        return new Totals(calls + 1, wallNanos + r.wallNanos(), bytesRead + r.bytesRead(),
                bytesWritten + r.bytesWritten(), flops + r.flops(), energy, fallbacks + (r.fellBack() ? 1 : 0),
                transfers.sum(r.transfers()));
    }

    /** These totals plus {@code other}. */
    public Totals plus(Totals other) {
        OptionalDouble energy = energyJoules.isPresent() && other.energyJoules.isPresent()
                ? OptionalDouble.of(energyJoules.getAsDouble() + other.energyJoules.getAsDouble())
                : OptionalDouble.empty();
        return new Totals(calls + other.calls, wallNanos + other.wallNanos, bytesRead + other.bytesRead,
                bytesWritten + other.bytesWritten, flops + other.flops, energy, fallbacks + other.fallbacks,
                transfers.sum(other.transfers));
    }

    /** These totals with energy unavailable. */
    public Totals withoutEnergy() {
        return new Totals(calls, wallNanos, bytesRead, bytesWritten, flops, OptionalDouble.empty(), fallbacks, transfers);
    }

    /** FLOPs per byte over the summed work; NaN when nothing was counted. */
    public double intensity() {
        return new OpCost(bytesRead, bytesWritten, flops).intensity();
    }

    /** Achieved bytes per second (read plus written) over the summed wall time; NaN when no time. */
    public double bytesPerSecond() {
        return wallNanos == 0 ? Double.NaN : (bytesRead + bytesWritten) / (wallNanos / 1e9);
    }

    /** Achieved FLOPs per second over the summed wall time; NaN when no time. */
    public double flopsPerSecond() {
        return wallNanos == 0 ? Double.NaN : flops / (wallNanos / 1e9);
    }
}
