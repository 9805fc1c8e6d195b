package dev.mempipe.core.profile;

import java.util.Locale;

/** Human-readable amounts for the text reports (binary byte units, SI FLOP and time units). */
public final class Units {
    private Units() {
    }

    /** {@code 512 B}, {@code 1.5 KiB}, {@code 32.0 MiB}, {@code 2.00 GiB}. */
    public static String bytes(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, value >= 100 ? "%.0f %s" : value >= 10 ? "%.1f %s" : "%.2f %s", value,
                units[unit]);
    }

    /** Seconds in the unit that keeps three or more significant digits: {@code 850 ns}, {@code 12.5 us}, {@code 3.20 ms}, {@code 1.50 s}. */
    public static String seconds(double seconds) {
        if (Double.isNaN(seconds)) {
            return "n/a";
        }
        double abs = Math.abs(seconds);
        if (abs < 1e-6) {
            return String.format(Locale.ROOT, "%.0f ns", seconds * 1e9);
        }
        if (abs < 1e-3) {
            return String.format(Locale.ROOT, "%.1f us", seconds * 1e6);
        }
        if (abs < 1) {
            return String.format(Locale.ROOT, "%.3f ms", seconds * 1e3);
        }
        return String.format(Locale.ROOT, "%.3f s", seconds);
    }

    /** FLOPs with an SI prefix: {@code 12 FLOP}, {@code 4.19 MFLOP}, {@code 2.15 GFLOP}. */
    public static String flops(long flops) {
        if (flops < 1000) {
            return flops + " FLOP";
        }
        String[] units = {"kFLOP", "MFLOP", "GFLOP", "TFLOP", "PFLOP", "EFLOP"};
        double value = flops;
        int unit = -1;
        while (value >= 1000 && unit < units.length - 1) {
            value /= 1000;
            unit++;
        }
        return String.format(Locale.ROOT, "%.2f %s", value, units[unit]);
    }

    /** A rate with an SI prefix and three significant digits: {@code 45.2 MB/s}, {@code 1.20 TFLOP/s}. */
    public static String rate(double perSecond, String unit) {
        if (!Double.isFinite(perSecond)) {
            return "n/a";
        }
        String[] prefixes = {"", "k", "M", "G", "T", "P", "E"};
        double value = perSecond;
        int p = 0;
        while (Math.abs(value) >= 1000 && p < prefixes.length - 1) {
            value /= 1000;
            p++;
        }
        return String.format(Locale.ROOT, Math.abs(value) >= 100 ? "%.0f %s%s/s" : Math.abs(value) >= 10 ? "%.1f %s%s/s"
                : "%.2f %s%s/s", value, prefixes[p], unit);
    }
}
