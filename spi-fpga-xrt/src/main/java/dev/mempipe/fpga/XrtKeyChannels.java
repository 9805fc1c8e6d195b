package dev.mempipe.fpga;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Keys spread over the score kernel's HBM channels: one buffer object per key port ({@code keys0 .. keysC-1},
 * each on its own bank), packed row R on channel {@code R % C} at row slot {@code R / C}, so that C channels each
 * stream one 512-bit word a cycle to their own MAC unit. {@link #upload} writes packed rows to their channels with
 * one explicit sync per channel touched.
 *
 * <p>Thread-safety: not thread-safe; {@link XrtBackend} serializes all device use.
 */
final class XrtKeyChannels implements AutoCloseable {
    private final XrtBuffer[] channels;
    private final long rowBytes;

    private XrtKeyChannels(XrtBuffer[] channels, long rowBytes) {
        this.channels = channels;
        this.rowBytes = rowBytes;
    }

    /** Buffers for {@code rows} packed rows of {@code rowBytes} on the key ports of {@code kernel}. */
    static XrtKeyChannels allocate(XrtDevice device, XrtKernels kernel, long rows, long rowBytes) {
        int c = kernel.keyChannels();
        XrtBuffer[] buffers = new XrtBuffer[c];
        try {
            for (int ch = 0; ch < c; ch++) {
                buffers[ch] = device.allocate(Math.max(1, rowsOn(ch, c, rows)) * rowBytes, kernel, "keys" + ch);
            }
        } catch (RuntimeException e) {
            for (XrtBuffer b : buffers) {
                if (b != null) {
                    b.close();
                }
            }
            throw e;
        }
        return new XrtKeyChannels(buffers, rowBytes);
    }

    /** Bytes the channels hold on the device for {@code rows} rows (each channel at least one row slot). */
    static long deviceBytes(int channels, long rows, long rowBytes) {
        long bytes = 0;
        for (int ch = 0; ch < channels; ch++) {
            bytes += Math.max(64, Math.max(1, rowsOn(ch, channels, rows)) * rowBytes);
        }
        return bytes;
    }

    /** Rows of {@code [0, rows)} that live on channel {@code ch} of {@code c}. */
    static long rowsOn(int ch, int c, long rows) {
        return rows > ch ? (rows - ch + c - 1) / c : 0;
    }

    /**
     * Writes rows {@code [from, to)} ({@code packed} holds them one after another, {@code rowBytes} each) to their
     * channels and syncs each channel's part once.
     */
    void upload(MemorySegment packed, long from, long to) {
        int c = channels.length;
        try (Arena arena = Arena.ofConfined()) {
            for (int ch = 0; ch < c; ch++) {
                long first = from + Math.floorMod(ch - from, (long) c);
                if (first >= to) {
                    continue;
                }
                long count = (to - 1 - first) / c + 1;
                MemorySegment stage = arena.allocate(count * rowBytes, KeyLayout.WORD_BYTES);
                for (long t = 0; t < count; t++) {
                    MemorySegment.copy(packed, (first + t * c - from) * rowBytes, stage, t * rowBytes, rowBytes);
                }
                long at = first / c * rowBytes;
                channels[ch].write(stage, at);
                channels[ch].syncToDevice(at, stage.byteSize());
            }
        }
    }

    /** The key ports' arguments, in port order. */
    XrtBuffer[] ports() {
        return channels.clone();
    }

    @Override
    public void close() {
        for (XrtBuffer b : channels) {
            b.close();
        }
    }
}
