package dev.mempipe.gpu;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.PinnedTensor;
import dev.mempipe.spi.Pins;
import dev.mempipe.spi.Tensor;

/**
 * A host tensor's copy in device memory: the data at {@link #data()} with the host's row stride (so a view's
 * byte offset in the host memory is its offset on the device), and the row scales at {@link #scales()}.
 * Thread-safety as {@link PinnedTensor} says (refresh and close are the owner's).
 */
final class GpuPin implements PinnedTensor {
    private final GpuBackend backend;
    private final Tensor host;
    private final long data;
    private final long scales;
    private volatile boolean open = true;

    GpuPin(GpuBackend backend, Tensor host, long data, long scales) {
        this.backend = backend;
        this.host = host.withPin(this);
        this.data = data;
        this.scales = scales;
    }

    @Override
    public Tensor tensor() {
        return host;
    }

    Tensor host() {
        return host;
    }

    long data() {
        return data;
    }

    long scales() {
        return scales;
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
        backend.refresh(this, fromRow, toRow);
    }

    @Override
    public boolean isOpen() {
        return open && !backend.lost();
    }

    @Override
    public void close() {
        if (open) {
            open = false;
            backend.unpin(this);
        }
    }
}
