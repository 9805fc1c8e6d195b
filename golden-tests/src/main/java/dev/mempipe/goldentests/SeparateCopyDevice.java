package dev.mempipe.goldentests;

import dev.mempipe.spi.ApplyOps;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.DeviceCounters;
import dev.mempipe.spi.FusedOps;
import dev.mempipe.spi.PinnedTensor;
import dev.mempipe.spi.Pins;
import dev.mempipe.spi.PrepareOps;
import dev.mempipe.spi.RelevancyOps;
import dev.mempipe.spi.RetrievalOps;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Objects;

/**
 * A test device that behaves like real device memory: {@link #pin(Tensor)} copies the tensor into memory of
 * its own, and every op handed a pinned tensor (or a view of one) computes on that copy, not on the host
 * memory. Host rows written after the pin are seen only after {@link PinnedTensor#refresh(long)}; a caller that
 * forgets to refresh gets stale answers, as it would from a GPU. The ops themselves, the fused ones included, are
 * {@code delegate}'s (so a memory gives the delegate's bits on this device and on the delegate alone).
 *
 * <p>For tests of residency: memories, pipelines and engines run on it and must give the CPU's answers.
 * {@link #counters()} counts the bytes copied by pins and refreshes for the calling thread. With
 * {@code ignoreRefresh} it plants the classic bug (refresh does nothing) so that a test can show it is caught.
 *
 * <p>Thread-safe as the delegate is; pins follow {@link PinnedTensor}'s single-writer protocol.
 */
public final class SeparateCopyDevice implements Backend {
    private final String name;
    private final Backend delegate;
    private final boolean ignoreRefresh;
    private final Arena arena = Arena.ofShared();
    private final ThreadLocal<long[]> uploaded = ThreadLocal.withInitial(() -> new long[1]);
    private final java.util.concurrent.atomic.AtomicInteger openPins = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong copyReads = new java.util.concurrent.atomic.AtomicLong();
    private final PrepareOps prepare;
    private final RelevancyOps relevancy;
    private final RetrievalOps retrieval;
    private final ApplyOps apply;
    private final FusedOps fused;
    private volatile boolean closed;

    public SeparateCopyDevice(String name, Backend delegate) {
        this(name, delegate, false);
    }

    /** @param ignoreRefresh plant the bug: refresh uploads nothing */
    public SeparateCopyDevice(String name, Backend delegate, boolean ignoreRefresh) {
        this.name = Objects.requireNonNull(name, "name");
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.ignoreRefresh = ignoreRefresh;
        this.prepare = resolving(PrepareOps.class, delegate.prepare());
        this.relevancy = resolving(RelevancyOps.class, delegate.relevancy());
        this.retrieval = resolving(RetrievalOps.class, delegate.retrieval());
        this.apply = resolving(ApplyOps.class, delegate.apply());
        this.fused = resolving(FusedOps.class, delegate.fused());
    }

    /** Pins made and not yet closed: a memory that forgets to close its pins leaks device memory. */
    public int openPins() {
        return openPins.get();
    }

    /** Tensor arguments that ops read from a device copy (not from host memory) so far. */
    public long pinnedReads() {
        return copyReads.get();
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
    public FusedOps fused() {
        return fused;
    }

    @Override
    public ApplyOps apply() {
        return apply;
    }

    @Override
    public PinnedTensor pin(Tensor host) {
        Objects.requireNonNull(host, "host");
        ensureOpen();
        return new CopyPin(host);
    }

    @Override
    public DeviceCounters counters() {
        return new DeviceCounters(uploaded.get()[0], 0, 0, 0, Double.NaN);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("device '" + name + "' is closed");
        }
    }

    /** An op family whose tensor arguments that carry one of our pins are swapped for our copy. */
    private <T> T resolving(Class<T> family, T target) {
        InvocationHandler handler = (proxy, method, args) -> {
            if (method.getDeclaringClass() == Object.class) {
                return method.invoke(target, args);
            }
            ensureOpen();
            if (args != null) {
                for (int i = 0; i < args.length; i++) {
                    if (args[i] instanceof Tensor t) {
                        args[i] = resolve(t);
                    }
                }
            }
            try {
                return method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return family.cast(Proxy.newProxyInstance(family.getClassLoader(), new Class<?>[] {family}, handler));
    }

    /** The part of our copy a view of a pinned tensor covers; any other tensor as it is. */
    private Tensor resolve(Tensor t) {
        PinnedTensor pin = Pins.ownedBy(this, t);
        if (!(pin instanceof CopyPin copy)) {
            return t;
        }
        copyReads.incrementAndGet();
        long offset = Pins.dataOffset(pin, t);
        MemorySegment data = copy.data.asSlice(offset, t.data().byteSize());
        MemorySegment scales = t.scales() == null ? null
                : copy.scales.asSlice(Pins.scalesOffset(pin, t), t.scales().byteSize());
        return Tensor.wrap(data, t.type(), t.rows(), t.cols(), t.rowStride(), scales);
    }

    private final class CopyPin implements PinnedTensor {
        private final Tensor host;
        private final Tensor pinned;
        private final MemorySegment data;
        private final MemorySegment scales;
        private volatile boolean open = true;

        CopyPin(Tensor host) {
            this.host = host;
            this.pinned = host.withPin(this);
            this.data = arena.allocate(Math.max(1, host.data().byteSize()), 64);
            this.scales = host.scales() == null ? null : arena.allocate(Math.max(1, host.scales().byteSize()), 64);
            upload(0, host.rows());
            openPins.incrementAndGet();
        }

        @Override
        public Tensor tensor() {
            return pinned;
        }

        @Override
        public Backend backend() {
            return SeparateCopyDevice.this;
        }

        @Override
        public void refresh(long fromRow, long toRow) {
            if (!open) {
                throw new IllegalStateException("refresh of a closed pin on device '" + name + "'");
            }
            Pins.checkRefresh(host, fromRow, toRow);
            if (!ignoreRefresh) {
                upload(fromRow, toRow);
            }
        }

        /** Copies the bytes of rows {@code [fromRow, toRow)} (and their scales). */
        private void upload(long fromRow, long toRow) {
            long size = host.data().byteSize();
            long start = Math.min(fromRow * host.rowStride(), size);
            long end = Math.min(toRow * host.rowStride(), size);
            MemorySegment.copy(host.data(), start, data, start, end - start);
            long total = end - start;
            if (scales != null) {
                long s = fromRow * Float.BYTES;
                MemorySegment.copy(host.scales(), s, scales, s, (toRow - fromRow) * Float.BYTES);
                total += (toRow - fromRow) * Float.BYTES;
            }
            uploaded.get()[0] += total;
        }

        @Override
        public boolean isOpen() {
            return open && !closed;
        }

        @Override
        public void close() {
            if (open) {
                open = false; // the copy stays in the device's arena until the device closes: tests are short
                openPins.decrementAndGet();
            }
        }
    }
}
