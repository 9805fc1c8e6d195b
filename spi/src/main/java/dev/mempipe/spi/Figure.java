package dev.mempipe.spi;

import java.util.Objects;

/**
 * A number about a device with where it comes from: {@link Source#MEASURED} on this machine, or a
 * {@link Source#MODEL} (a datasheet, a cycle model, a simulation). Reports print the label beside the value.
 *
 * @param value the number in the unit its use names (FLOP/s, bytes/s, bytes, seconds)
 * @param note  what it rests on: {@code "U55C datasheet: 32 HBM2 channels x 14.375 GB/s"}
 */
public record Figure(double value, Source source, String note) {
    /** Where a figure comes from. */
    public enum Source {
        MEASURED, MODEL;

        @Override
        public String toString() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public Figure {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(note, "note");
        if (Double.isNaN(value) || value < 0) {
            throw new IllegalArgumentException("a figure must be a non-negative number, got " + value + " (" + note + ")");
        }
    }

    public static Figure measured(double value, String note) {
        return new Figure(value, Source.MEASURED, note);
    }

    public static Figure model(double value, String note) {
        return new Figure(value, Source.MODEL, note);
    }

    @Override
    public String toString() {
        return value + " (" + source + ": " + note + ")";
    }
}
