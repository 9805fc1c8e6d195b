package dev.mempipe.fpga;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.PinnedTensor;
import dev.mempipe.spi.Pins;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Keys held in device memory: buffer objects on the {@code score} kernel's key channels (row R on channel
 * {@code R % C}, {@link XrtKeyChannels}), packed as {@link KeyLayout} says, with the row scales of integer types
 * beside them. {@link #refresh} packs and syncs exactly the rows it is given (one sync per channel touched). Thread-safety: as {@link PinnedTensor} (refresh and close are the owner's); device calls go through
 * the backend's lock.
 */
final class XrtPinnedTensor implements PinnedTensor {
    private final XrtBackend backend;
    private final Tensor host;
    final KeyLayout layout;
    final XrtKeyChannels keys;
    final XrtBuffer scales;
    private volatile boolean open = true;

    XrtPinnedTensor(XrtBackend backend, Tensor host, XrtKeyChannels keys, XrtBuffer scales) {
        this.backend = backend;
        this.host = host.withPin(this);
        this.layout = KeyLayout.of(host.type(), host.cols());
        this.keys = keys;
        this.scales = scales;
    }

    static long deviceBytes(Tensor host, int channels) {
        return XrtKeyChannels.deviceBytes(channels, host.rows(), KeyLayout.of(host.type(), host.cols()).rowBytes())
                + (host.type().isQuantized() ? host.rows() * Float.BYTES : 0);
    }

    @Override
    public Tensor tensor() {
        return host;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public void refresh(long fromRow, long toRow) {
        if (!open) {
            throw new IllegalStateException("refresh of a closed pin of " + host);
        }
        Pins.checkRefresh(host, fromRow, toRow);
        if (fromRow == toRow) {
            return;
        }
        backend.locked(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment packed = layout.pack(arena, host, fromRow, toRow);
                keys.upload(packed, fromRow, toRow);
                if (scales != null) {
                    MemorySegment s = KeyLayout.scales(arena, host, fromRow, toRow);
                    scales.write(s, fromRow * Float.BYTES);
                    scales.syncToDevice(fromRow * Float.BYTES, s.byteSize());
                }
            }
            return null;
        });
    }

    /** The row of the pinned tensor where {@code view} starts. */
    long rowOf(Tensor view) {
        return Pins.dataOffset(this, view) / host.rowStride();
    }

    /** The column of the pinned tensor where {@code view} starts. */
    int colOf(Tensor view) {
        return (int) (Pins.dataOffset(this, view) % host.rowStride() / host.type().byteSize());
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public void close() {
        if (!open) {
            return;
        }
        open = false;
        backend.locked(() -> {
            keys.close();
            if (scales != null) {
                scales.close();
            }
            backend.released(deviceBytes(host, backend.channels()));
            backend.unpin(this);
            return null;
        });
    }
}
