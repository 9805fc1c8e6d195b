package dev.mempipe.core.memory;

import dev.mempipe.spi.ApplyOps;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.PinnedTensor;
import dev.mempipe.spi.Pins;
import dev.mempipe.spi.PrepareOps;
import dev.mempipe.spi.RelevancyOps;
import dev.mempipe.spi.RetrievalOps;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test device that keeps its own copy of what is pinned on it, as a GPU would: {@code pin} copies the host tensor,
 * {@code refresh(fromRow)} copies rows {@code [fromRow, rows)} again, and every op given a tensor that carries one of
 * its open pins reads the copy (the same rows and columns of it) instead of the host memory. The ops themselves are
 * the delegate's. With {@link #dropRefreshes} the device forgets to copy on refresh, so that a test can show its
 * checks catch a stale copy.
 */
final class CopyingDevice implements Backend {
    private final String name;
    private final Backend delegate;
    private final boolean dropRefreshes;
    private final AtomicInteger openPins = new AtomicInteger();
    private final AtomicInteger pinnedReads = new AtomicInteger();
    private final PrepareOps prepare;
    private final RelevancyOps relevancy;
    private final RetrievalOps retrieval;
    private final ApplyOps apply;

    CopyingDevice(String name, Backend delegate, boolean dropRefreshes) {
        this.name = name;
        this.delegate = delegate;
        this.dropRefreshes = dropRefreshes;
        this.prepare = onCopies(PrepareOps.class, delegate.prepare());
        this.relevancy = onCopies(RelevancyOps.class, delegate.relevancy());
        this.retrieval = onCopies(RetrievalOps.class, delegate.retrieval());
        this.apply = onCopies(ApplyOps.class, delegate.apply());
    }

    /** Pins not yet closed. */
    int openPins() {
        return openPins.get();
    }

    /** Tensor arguments that were read from a device copy. */
    int pinnedReads() {
        return pinnedReads.get();
    }

    @Override
    public PinnedTensor pin(Tensor host) {
        return new Copy(host);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Capabilities capabilities() {
        return delegate.capabilities();
    }

    @Override
    public PrepareOps prepare() {
        return prepare;
    }

    @Override
    public RelevancyOps relevancy() {
        return relevancy;
    }

    @Override
    public RetrievalOps retrieval() {
        return retrieval;
    }

    @Override
    public ApplyOps apply() {
        return apply;
    }

    /** The device's view of {@code t}: the same rows of the device copy when one of this device's pins holds it. */
    private Tensor onDevice(Tensor t) {
        PinnedTensor pin = Pins.ownedBy(this, t);
        if (!(pin instanceof Copy copy)) {
            return t;
        }
        pinnedReads.incrementAndGet();
        long offset = Pins.dataOffset(pin, t);
        MemorySegment scales = t.scales() == null ? null
                : copy.device.scales().asSlice(Pins.scalesOffset(pin, t), t.scales().byteSize());
        return Tensor.wrap(copy.device.data().asSlice(offset, t.data().byteSize()), t.type(), t.rows(), t.cols(),
                t.rowStride(), scales);
    }

    private <T> T onCopies(Class<T> family, T ops) {
        return family.cast(Proxy.newProxyInstance(family.getClassLoader(), new Class<?>[] {family},
                (self, method, args) -> invoke(method, ops, args)));
    }

    private Object invoke(Method method, Object target, Object[] args) throws Throwable {
        Object[] mapped = args == null ? null : args.clone();
        for (int i = 0; mapped != null && i < mapped.length; i++) {
            if (mapped[i] instanceof Tensor t) {
                mapped[i] = onDevice(t);
            }
        }
        try {
            return method.invoke(target, mapped);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** A copy of the host tensor in the device's own memory. */
    private final class Copy implements PinnedTensor {
        private final Arena arena = Arena.ofShared();
        private final Tensor host;
        private final Tensor device;
        private boolean open = true;

        Copy(Tensor host) {
            this.host = host.withPin(this);
            this.device = Tensor.allocate(arena, host.type(), host.rows(), host.cols());
            copyRows(0, host.rows());
            openPins.incrementAndGet();
        }

        @Override
        public Tensor tensor() {
            return host;
        }

        @Override
        public Backend backend() {
            return CopyingDevice.this;
        }

        @Override
        public void refresh(long fromRow, long toRow) {
            if (!open) {
                throw new IllegalStateException("refresh of a closed pin");
            }
            Pins.checkRefresh(host, fromRow, toRow);
            if (!dropRefreshes) {
                copyRows(fromRow, toRow);
            }
        }

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public void close() {
            if (open) {
                open = false;
                openPins.decrementAndGet();
                arena.close();
            }
        }

        private void copyRows(long fromRow, long toRow) {
            for (long r = fromRow; r < toRow; r++) {
                MemorySegment.copy(host.data(), host.offset(r, 0), device.data(), device.offset(r, 0),
                        (long) host.cols() * host.type().byteSize());
                if (host.type().isQuantized()) {
                    device.setScale(r, host.scale(r));
                }
            }
        }
    }
}
