package dev.mempipe.fpga;

import dev.mempipe.spi.DeviceCounters;

/**
 * Per-thread totals of what the backend moved and ran (ops run on the calling thread), plus process-wide counts
 * of syncs and kernel runs that tests read to see that every transfer is an explicit, counted sync.
 * Thread-safety: the per-thread totals are confined; the process-wide counts are atomic.
 */
final class XrtCounters {
    private final ThreadLocal<DeviceCounters> perThread = ThreadLocal.withInitial(
            () -> new DeviceCounters(0, 0, 0, 0, Double.NaN));
    private final java.util.concurrent.atomic.AtomicLong syncsToDevice = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong syncsFromDevice = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong runs = new java.util.concurrent.atomic.AtomicLong();

    void toDevice(long bytes, long nanos) {
        syncsToDevice.incrementAndGet();
        perThread.set(perThread.get().plus(bytes, 0, nanos, 0, Double.NaN));
    }

    void fromDevice(long bytes, long nanos) {
        syncsFromDevice.incrementAndGet();
        perThread.set(perThread.get().plus(0, bytes, nanos, 0, Double.NaN));
    }

    void kernel(long nanos) {
        runs.incrementAndGet();
        perThread.set(perThread.get().plus(0, 0, 0, nanos, Double.NaN));
    }

    DeviceCounters current() {
        return perThread.get();
    }

    long syncsToDevice() {
        return syncsToDevice.get();
    }

    long syncsFromDevice() {
        return syncsFromDevice.get();
    }

    long runs() {
        return runs.get();
    }
}
