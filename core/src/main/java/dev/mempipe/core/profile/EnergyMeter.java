package dev.mempipe.core.profile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.regex.Pattern;

/**
 * Reads the machine's energy counters: Linux powercap RAPL ({@code /sys/class/powercap/intel-rapl:*}, also
 * used for AMD processors). It sums the package zones and the DRAM sub-zones where the machine exposes
 * them (core and uncore sub-zones are inside the package, and a platform {@code psys} zone contains it, so
 * neither is added). A counter wraps at {@code max_energy_range_uj}; one wrap between two readings is
 * corrected, more cannot be seen (hundreds of seconds at full power on current parts).
 *
 * <p>When no zone exists or a counter cannot be read (since Linux 5.10 {@code energy_uj} is readable by root
 * only), the meter is unavailable, says why, and reports no energy: it never estimates. RAPL counts the
 * whole package: work of other threads and processes during a step is included, and counters update about
 * every millisecond, so steps shorter than that read coarsely.
 *
 * <p>Immutable and thread-safe.
 */
public final class EnergyMeter {
    /** Where Linux exposes powercap zones. */
    public static final Path POWERCAP = Path.of("/sys/class/powercap");
    private static final Pattern ZONE = Pattern.compile("intel-rapl:\\d+(:\\d+)?");

    private record Zone(Path energy, long maxRangeMicrojoules) {
    }

    /** Counter values at one instant; opaque. */
    public static final class Sample {
        private final long[] microjoules;

        private Sample(long[] microjoules) {
            this.microjoules = microjoules;
        }
    }

    private final List<Zone> zones;
    private final String description;

    private EnergyMeter(List<Zone> zones, String description) {
        this.zones = List.copyOf(zones);
        this.description = description;
    }

    /** The RAPL meter of this machine. */
    public static EnergyMeter rapl() {
        return rapl(POWERCAP);
    }

    /** The RAPL meter of a powercap directory laid out as {@code /sys/class/powercap} (a copy, in tests). */
    public static EnergyMeter rapl(Path powercap) {
        if (!Files.isDirectory(powercap)) {
            return unavailable("no " + powercap + " (not Linux, or the kernel exposes no powercap)");
        }
        List<Zone> zones = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(powercap)) {
            List<Path> entries = new ArrayList<>();
            dir.forEach(entries::add);
            entries.sort(null);
            for (Path zone : entries) {
                String id = zone.getFileName().toString();
                if (!ZONE.matcher(id).matches()) {
                    continue;
                }
                String name = Files.readString(zone.resolve("name")).trim();
                boolean subZone = id.indexOf(':') != id.lastIndexOf(':');
                if (subZone ? !name.equals("dram") : !name.startsWith("package")) {
                    continue;
                }
                Path energy = zone.resolve("energy_uj");
                readCounter(energy);
                long range = readCounter(zone.resolve("max_energy_range_uj"));
                zones.add(new Zone(energy, range));
                labels.add(name);
            }
        } catch (IOException | UncheckedIOException | NumberFormatException e) {
            return unavailable("cannot read RAPL counters under " + powercap + ": " + e
                    + " (energy_uj is readable by root only since Linux 5.10)");
        }
        if (zones.isEmpty()) {
            return unavailable("no RAPL package zone under " + powercap);
        }
        return new EnergyMeter(zones, "rapl: " + String.join(", ", labels));
    }

    /** A meter that never measures, with the reason it reports. */
    public static EnergyMeter unavailable(String reason) {
        return new EnergyMeter(List.of(), Objects.requireNonNull(reason, "reason"));
    }

    public boolean available() {
        return !zones.isEmpty();
    }

    /** The zones read ({@code "rapl: package-0, dram"}), or why energy is unavailable. */
    public String description() {
        return description;
    }

    /** The counters now; null when unavailable or a counter cannot be read at this moment. */
    public Sample sample() {
        if (zones.isEmpty()) {
            return null;
        }
        long[] values = new long[zones.size()];
        for (int i = 0; i < values.length; i++) {
            try {
                values[i] = readCounter(zones.get(i).energy());
            } catch (IOException | UncheckedIOException | NumberFormatException e) {
                return null;
            }
        }
        return new Sample(values);
    }

    /** Joules since {@code before} (one wrap per zone corrected); empty when either reading is missing. */
    public OptionalDouble joulesSince(Sample before) {
        if (before == null) {
            return OptionalDouble.empty();
        }
        return joulesBetween(before, sample());
    }

    /** Joules between two samples of this meter; empty when either is missing. */
    public OptionalDouble joulesBetween(Sample before, Sample after) {
        if (before == null || after == null) {
            return OptionalDouble.empty();
        }
        long microjoules = 0;
        for (int i = 0; i < zones.size(); i++) {
            long delta = after.microjoules[i] - before.microjoules[i];
            if (delta < 0) {
                // The counter passed max_energy_range_uj and restarted from 0.
                delta += zones.get(i).maxRangeMicrojoules();
            }
            microjoules += delta;
        }
        return OptionalDouble.of(microjoules / 1e6);
    }

    private static long readCounter(Path file) throws IOException {
        return Long.parseLong(Files.readString(file).trim());
    }

    @Override
    public String toString() {
        return available() ? description : "unavailable: " + description;
    }
}
