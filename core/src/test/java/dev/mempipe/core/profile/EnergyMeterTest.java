package dev.mempipe.core.profile;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The RAPL reader on a made-up powercap tree laid out as Linux lays it out. */
class EnergyMeterTest {
    static final long RANGE = 262_143_328_850L;

    static Path zone(Path root, String id, String name, long microjoules) throws IOException {
        Path z = Files.createDirectories(root.resolve(id));
        Files.writeString(z.resolve("name"), name + "\n");
        Files.writeString(z.resolve("energy_uj"), microjoules + "\n");
        Files.writeString(z.resolve("max_energy_range_uj"), RANGE + "\n");
        return z;
    }

    static void set(Path zone, long microjoules) throws IOException {
        Files.writeString(zone.resolve("energy_uj"), microjoules + "\n");
    }

    @Test
    void should_sum_packages_and_dram_and_correct_one_wrap(@TempDir Path root) throws IOException {
        Files.createDirectories(root.resolve("intel-rapl"));
        Path pkg0 = zone(root, "intel-rapl:0", "package-0", 1_000_000);
        Path core = zone(root, "intel-rapl:0:0", "core", 5);
        Path dram = zone(root, "intel-rapl:0:1", "dram", 2_000_000);
        Path pkg1 = zone(root, "intel-rapl:1", "package-1", RANGE - 500_000);
        Path psys = zone(root, "intel-rapl:2", "psys", 7);

        EnergyMeter meter = EnergyMeter.rapl(root);
        assertTrue(meter.available(), meter.description());
        assertEquals("rapl: package-0, dram, package-1", meter.description());

        EnergyMeter.Sample before = meter.sample();
        set(pkg0, 3_000_000);            // +2 J
        set(dram, 2_250_000);            // +0.25 J
        set(pkg1, 1_500_000);            // wrapped: +0.5 J before the wrap, +1.5 J after
        set(core, 999_999_999);          // inside the package: not added
        set(psys, 999_999_999);          // contains the package: not added
        EnergyMeter.Sample after = meter.sample();

        assertEquals(2 + 0.25 + 2.0, meter.joulesBetween(before, after).orElseThrow(), 1e-9);
        assertEquals(0.0, meter.joulesSince(after).orElseThrow(), 1e-12);
    }

    @Test
    void should_be_unavailable_without_powercap(@TempDir Path root) {
        EnergyMeter meter = EnergyMeter.rapl(root.resolve("missing"));

        assertFalse(meter.available());
        assertTrue(meter.description().contains("missing"), meter.description());
        assertNull(meter.sample());
        assertTrue(meter.joulesSince(meter.sample()).isEmpty());
        assertTrue(meter.toString().startsWith("unavailable: "));
    }

    @Test
    void should_be_unavailable_when_a_counter_cannot_be_read(@TempDir Path root) throws IOException {
        Path pkg = zone(root, "intel-rapl:0", "package-0", 1);
        Files.delete(pkg.resolve("energy_uj"));
        Files.createDirectory(pkg.resolve("energy_uj"));   // reading it fails, as a root-only file would

        EnergyMeter meter = EnergyMeter.rapl(root);

        assertFalse(meter.available());
        assertTrue(meter.description().startsWith("cannot read RAPL counters"), meter.description());
    }

    @Test
    void should_be_unavailable_with_garbage_or_no_package_zone(@TempDir Path root) throws IOException {
        zone(root, "intel-rapl:0", "psys", 1);
        assertFalse(EnergyMeter.rapl(root).available());
        assertTrue(EnergyMeter.rapl(root).description().contains("no RAPL package zone"));

        Path pkg = zone(root, "intel-rapl:1", "package-0", 1);
        Files.writeString(pkg.resolve("energy_uj"), "lots\n");
        assertFalse(EnergyMeter.rapl(root).available());
    }

    @Test
    void should_report_nothing_when_a_counter_disappears_later(@TempDir Path root) throws IOException {
        Path pkg = zone(root, "intel-rapl:0", "package-0", 1);
        EnergyMeter meter = EnergyMeter.rapl(root);
        EnergyMeter.Sample before = meter.sample();

        Files.delete(pkg.resolve("energy_uj"));

        assertTrue(meter.joulesSince(before).isEmpty(), "no reading is no energy, never a guess");
    }
}
