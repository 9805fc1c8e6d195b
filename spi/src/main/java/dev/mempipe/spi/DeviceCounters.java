package dev.mempipe.spi;

/**
 * Running totals of what a backend did for the calling thread: bytes it moved each way over the host link,
 * time spent in those transfers and on the device, and energy where the device has a meter. The engine
 * samples them before and after each step (as it samples the CPU's RAPL counter) and records the difference.
 * Per thread, because ops run on the calling thread (SPEC.md), so concurrent steps do not see each other's
 * traffic.
 *
 * @param bytesToDevice   bytes uploaded (pins refreshed, unpinned inputs)
 * @param bytesFromDevice bytes downloaded (outputs)
 * @param transferNanos   time spent moving those bytes
 * @param deviceNanos     time the device spent computing (kernel time)
 * @param joules          energy the device's own meter counted, or NaN where it has none
 */
public record DeviceCounters(long bytesToDevice, long bytesFromDevice, long transferNanos, long deviceNanos,
                             double joules) {
    /** A backend that moves nothing and meters nothing: the CPU. */
    public static final DeviceCounters NONE = new DeviceCounters(0, 0, 0, 0, Double.NaN);

    /** {@code this - before}, field by field (NaN joules stay NaN). */
    public DeviceCounters minus(DeviceCounters before) {
        return new DeviceCounters(bytesToDevice - before.bytesToDevice, bytesFromDevice - before.bytesFromDevice,
                transferNanos - before.transferNanos, deviceNanos - before.deviceNanos, joules - before.joules);
    }

    public DeviceCounters plus(long toDevice, long fromDevice, long transfer, long device, double energy) {
        return new DeviceCounters(bytesToDevice + toDevice, bytesFromDevice + fromDevice, transferNanos + transfer,
                deviceNanos + device, Double.isNaN(joules) ? energy : joules + energy);
    }

    /**
     * Field-by-field sum, for totals over many steps: joules add up over the summands that have a meter (NaN
     * only when none has).
     */
    public DeviceCounters sum(DeviceCounters other) {
        double energy = Double.isNaN(joules) ? other.joules : Double.isNaN(other.joules) ? joules : joules + other.joules;
        return new DeviceCounters(bytesToDevice + other.bytesToDevice, bytesFromDevice + other.bytesFromDevice,
                transferNanos + other.transferNanos, deviceNanos + other.deviceNanos, energy);
    }

    /** Whether the device meters energy. */
    public boolean hasEnergy() {
        return !Double.isNaN(joules);
    }
}
