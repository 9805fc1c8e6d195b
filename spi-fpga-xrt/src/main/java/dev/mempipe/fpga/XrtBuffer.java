package dev.mempipe.fpga;

import dev.mempipe.spi.BackendException.Fault;

import java.lang.foreign.MemorySegment;

/**
 * One XRT buffer object: a host copy the backend writes and reads with {@code xrtBOWrite}/{@code xrtBORead},
 * and a device copy that only an explicit, counted {@link #syncToDevice}/{@link #syncFromDevice} updates.
 * Not thread-safe (used under {@link XrtBackend}'s lock).
 */
final class XrtBuffer implements AutoCloseable {
    private final XrtDevice device;
    private final MemorySegment bo;
    private final long size;
    private boolean freed;

    XrtBuffer(XrtDevice device, MemorySegment bo, long size) {
        this.device = device;
        this.bo = bo;
        this.size = size;
    }

    MemorySegment handle() {
        if (freed) {
            throw new IllegalStateException("buffer object used after it was freed");
        }
        return bo;
    }

    long size() {
        return size;
    }

    /** Copies {@code src} (native memory) into the host copy at {@code offset}. */
    void write(MemorySegment src, long offset) {
        check(offset, src.byteSize());
        long bytes = src.byteSize();
        int rc = XrtDevice.callInt(() -> (int) device.api.boWrite.invokeExact(handle(), src, bytes, offset), "xrtBOWrite");
        device.check(rc, "xrtBOWrite(" + bytes + " bytes at " + offset + ")", Fault.TRANSIENT);
    }

    /** Copies the host copy at {@code offset} into {@code dst} (native memory). */
    void read(MemorySegment dst, long offset) {
        check(offset, dst.byteSize());
        long bytes = dst.byteSize();
        int rc = XrtDevice.callInt(() -> (int) device.api.boRead.invokeExact(handle(), dst, bytes, offset), "xrtBORead");
        device.check(rc, "xrtBORead(" + bytes + " bytes at " + offset + ")", Fault.TRANSIENT);
    }

    void syncToDevice(long offset, long bytes) {
        sync(XrtApi.SYNC_TO_DEVICE, offset, bytes);
    }

    void syncFromDevice(long offset, long bytes) {
        sync(XrtApi.SYNC_FROM_DEVICE, offset, bytes);
    }

    private void sync(int direction, long offset, long bytes) {
        check(offset, bytes);
        if (bytes == 0) {
            return;
        }
        device.checkUsable();
        long start = System.nanoTime();
        int rc = XrtDevice.callInt(() -> (int) device.api.boSync.invokeExact(handle(), direction, bytes, offset),
                "xrtBOSync");
        device.check(rc, "xrtBOSync(" + (direction == XrtApi.SYNC_TO_DEVICE ? "to" : "from") + " device, " + bytes
                + " bytes at " + offset + ")", Fault.TRANSIENT);
        long nanos = System.nanoTime() - start;
        if (direction == XrtApi.SYNC_TO_DEVICE) {
            device.counters.toDevice(bytes, nanos);
        } else {
            device.counters.fromDevice(bytes, nanos);
        }
    }

    private void check(long offset, long bytes) {
        if (offset < 0 || bytes < 0 || offset + bytes > size) {
            throw new IllegalArgumentException("range [" + offset + ", " + (offset + bytes)
                    + ") is outside the buffer object of " + size + " bytes");
        }
    }

    /** Frees the buffer object. Idempotent. */
    @Override
    public void close() {
        if (!freed) {
            freed = true;
            int ignored = XrtDevice.callInt(() -> (int) device.api.boFree.invokeExact(bo), "xrtBOFree");
        }
    }
}
