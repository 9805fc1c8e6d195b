package dev.mempipe.core.memory;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.PinnedTensor;
import dev.mempipe.spi.Tensor;

import java.util.Objects;

/**
 * A memory's tensor and the device copy of it, if any: the host tensor stays authoritative, and a backend
 * chosen with {@link #placeOn} holds a pinned copy that the owner {@linkplain #refresh refreshes} after every
 * write. Readers take {@link #view()}: the pinned tensor, which the holding device reads from its copy and every
 * other backend (the CPU fallback) reads from the host.
 *
 * <p>Thread-safety: the memory's single writer calls {@code placeOn}, {@code refresh} and {@code close};
 * readers may call {@code view} at any time. A reader holding a view whose pin was moved meanwhile gets the
 * host memory's answer (a closed pin is ignored by every backend), never a wrong one.
 */
public final class ResidentTensor implements AutoCloseable {
    private final Tensor host;
    private volatile PinnedTensor pin;

    public ResidentTensor(Tensor host) {
        this.host = Objects.requireNonNull(host, "host");
    }

    /** The host tensor, for writes (never hand a pinned view to an op as an output: the host must hold results). */
    public Tensor host() {
        return host;
    }

    /** What ops read: the pinned tensor, or the host tensor when nothing is pinned. */
    public Tensor view() {
        PinnedTensor p = pin;
        return p == null ? host : p.tensor();
    }

    /** The backend holding the copy, or null. */
    public Backend placedOn() {
        PinnedTensor p = pin;
        return p == null ? null : p.backend();
    }

    /**
     * Pins the tensor on {@code backend} (uploading it whole), closing the pin on the previous backend; nothing
     * happens when it is already there.
     */
    public synchronized void placeOn(Backend backend) {
        Objects.requireNonNull(backend, "backend");
        PinnedTensor old = pin;
        if (old != null && old.backend() == backend && old.isOpen()) {
            return;
        }
        pin = backend.pin(host);
        if (old != null) {
            old.close();
        }
    }

    /** Uploads host rows {@code [fromRow, toRow)} to the device copy, if there is one. */
    public synchronized void refresh(long fromRow, long toRow) {
        PinnedTensor p = pin;
        if (p != null && p.isOpen()) {
            p.refresh(fromRow, toRow);
        }
    }

    /** Frees the device copy; the host tensor stays. Idempotent. */
    @Override
    public synchronized void close() {
        PinnedTensor p = pin;
        pin = null;
        if (p != null) {
            p.close();
        }
    }
}
