package dev.mempipe.core.profile;

import java.util.OptionalDouble;

/**
 * Sums over several {@link StepRecord}s.
 *
 * @param calls        records summed
 * @param wallNanos    total wall time
 * @param energyJoules total energy, or empty when any summed record had none (a partial sum would mislead)
 * @param fallbacks    records in which a device failed and the CPU reran the op
 */
public record Totals(long calls, long wallNanos, long bytesRead, long bytesWritten, long flops,
                     OptionalDouble energyJoules, long fallbacks) {

    /** Nothing recorded. */
    public static final Totals EMPTY = new Totals(0, 0, 0, 0, 0, OptionalDouble.of(0), 0);

    /** These totals with one more record. */
    public Totals plus(StepRecord r) {
        OptionalDouble energy = energyJoules.isPresent() && r.energyJoules().isPresent()
                ? OptionalDouble.of(energyJoules.getAsDouble() + r.energyJoules().getAsDouble())
                : OptionalDouble.empty();
        return new Totals(calls + 1, wallNanos + r.wallNanos(), bytesRead + r.bytesRead(),
                bytesWritten + r.bytesWritten(), flops + r.flops(), energy, fallbacks + (r.fellBack() ? 1 : 0));
    }

    /** These totals plus {@code other}. */
    public Totals plus(Totals other) {
        OptionalDouble energy = energyJoules.isPresent() && other.energyJoules.isPresent()
                ? OptionalDouble.of(energyJoules.getAsDouble() + other.energyJoules.getAsDouble())
                : OptionalDouble.empty();
        return new Totals(calls + other.calls, wallNanos + other.wallNanos, bytesRead + other.bytesRead,
                bytesWritten + other.bytesWritten, flops + other.flops, energy, fallbacks + other.fallbacks);
    }

    /** These totals with energy unavailable. */
    public Totals withoutEnergy() {
        return new Totals(calls, wallNanos, bytesRead, bytesWritten, flops, OptionalDouble.empty(), fallbacks);
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
