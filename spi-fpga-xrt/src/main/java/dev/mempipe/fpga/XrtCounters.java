package dev.mempipe.fpga;

import dev.mempipe.spi.DeviceCounters;

/**
 * Per-thread totals of what the backend moved and ran: ops run on the calling thread, so concurrent steps do not
 * see each other's traffic. Every sync and every kernel run is counted here and nowhere else. Thread-safety: the
 * totals are thread-confined.
 */
final class XrtCounters {
    private final ThreadLocal<DeviceCounters> perThread = ThreadLocal.withInitial(
            () -> new DeviceCounters(0, 0, 0, 0, Double.NaN));

    void toDevice(long bytes, long nanos) {
        perThread.set(perThread.get().plus(bytes, 0, nanos, 0, Double.NaN));
    }

    void fromDevice(long bytes, long nanos) {
        perThread.set(perThread.get().plus(0, bytes, nanos, 0, Double.NaN));
    }

    void kernel(long nanos) {
        perThread.set(perThread.get().plus(0, 0, 0, nanos, Double.NaN));
    }

    DeviceCounters current() {
        return perThread.get();
    }
}
