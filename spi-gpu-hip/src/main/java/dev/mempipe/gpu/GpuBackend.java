package dev.mempipe.gpu;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.BackendException;
import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.DeviceCounters;
import dev.mempipe.spi.DeviceDescription;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Figure;
import dev.mempipe.spi.FusedOps;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Limits;
import dev.mempipe.spi.NaNInputException;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.OpArgs;
import dev.mempipe.spi.PartialBackend;
import dev.mempipe.spi.PinnedTensor;
import dev.mempipe.spi.Pins;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The GPU backend: mempipe's kernel source on one device behind a {@link GpuDriver} (CUDA, HIP, or gsim on the
 * CPU). Runs project (tiled), dot, dotRows, cosine, questBound, indexerScore, groupMax, softmax, topK, threshold,
 * gather, attention (dense and sparse, GQA, online softmax) and softRetrieve for every element type; dotTopK,
 * questBoundTopK and indexerTopK keep their scores on the device, the other fused ops are the default
 * compositions. Inputs {@link #pin pinned} on this backend (and views of them) are read from
 * device memory; anything else is uploaded for the call. Outputs are computed into device buffers and copied
 * into the caller's tensors, so a failed call leaves them untouched or fully rewritten by the engine's rerun.
 *
 * <p>Failures of the driver are {@link BackendException}s: {@link BackendException.Fault#TRANSIENT} (an
 * allocation or launch that failed, the device still usable) or {@link BackendException.Fault#DEVICE_LOST}
 * (a sticky context error); after the latter every op fails at once and every pin reports closed.
 *
 * <p>Thread-safety: safe for concurrent use; calls are serialized on one lock per device (driver calls run on
 * the calling thread with the context made current first). {@link #counters()} are per calling thread.
 */
public final class GpuBackend extends PartialBackend {
    /** The largest k of topK: survivors are ranked in O(k^2 / blockDim) by one block per row. */
    public static final int MAX_K = 4096;
    private static final String NAME = "gpu";
    private static final int MAX_GRID = 1 << 16;
    private static final String[] KERNELS = {"mp_dot", "mp_quest_bound", "mp_indexer_score", "mp_group_max",
            "mp_threshold", "mp_top_k", "mp_softmax", "mp_gather", "mp_attention", "mp_soft_retrieve", "mp_project"};

    private final GpuDriver driver;
    private final GpuDriver.DeviceInfo info;
    private final String codeOrigin;
    private final int block;
    private final Map<String, Long> functions = new HashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Set<GpuPin> pins = ConcurrentHashMap.newKeySet();
    // per thread: bytes to device, bytes from device, transfer ns, device ns
    private final ThreadLocal<long[]> totals = ThreadLocal.withInitial(() -> new long[4]);
    private volatile String lostBecause;

    private GpuBackend(GpuDriver driver, String codeOrigin) {
        super(NAME, capabilities(driver.info()));
        this.driver = driver;
        this.info = driver.info();
        this.codeOrigin = codeOrigin;
        // four warps per block: a multiple of the warp size (32 on NVIDIA, 64 on AMD) and a power of two
        this.block = 4 * Math.max(1, info.warpSize());
    }

    /**
     * Loads {@code image} into {@code driver}'s device and returns the backend, which owns the driver from then
     * on (closing the backend closes it).
     *
     * @throws BackendException when the module cannot be loaded or lacks a kernel
     */
    public static GpuBackend open(GpuDriver driver, KernelCode.Image image) {
        Objects.requireNonNull(driver, "driver");
        Objects.requireNonNull(image, "image");
        GpuBackend backend = new GpuBackend(driver, image.origin());
        try {
            driver.makeCurrent();
            driver.loadModule(image.bytes());
            for (String kernel : KERNELS) {
                backend.functions.put(kernel, driver.function(kernel));
            }
        } catch (GpuDriverException e) {
            driver.close();
            throw new BackendException(NAME, e.fault(), "loading the kernels (" + image.origin() + ") failed: "
                    + e.getMessage(), e);
        }
        return backend;
    }

    private static Capabilities capabilities(GpuDriver.DeviceInfo info) {
        Set<ElementType> all = EnumSet.allOf(ElementType.class);
        Limits rows = Limits.NONE.withMaxRows(Integer.MAX_VALUE); // kernels index rows with int
        Capabilities.Builder b = Capabilities.builder();
        for (Op op : EnumSet.of(Op.DOT, Op.DOT_ROWS, Op.COSINE, Op.QUEST_BOUND, Op.INDEXER_SCORE, Op.GROUP_MAX, Op.THRESHOLD,
                Op.SOFTMAX, Op.GATHER, Op.ATTENTION, Op.SOFT_RETRIEVE, Op.TOP_K, Op.PROJECT)) {
            b.op(op, all).limits(op, rows); // outputs: what the contract allows (floats; gather: X's type)
        }
        b.limits(Op.TOP_K, rows.withMaxK(MAX_K));
        return b.deviceMemoryBytes(Math.max(1, info.totalMemoryBytes())).build();
    }

    @Override
    public String description() {
        return NAME + "(" + info.api() + ": " + info.name() + ", " + info.arch() + ", warp " + info.warpSize()
                + ", block " + block + "; code: " + codeOrigin + ")";
    }

    /** What the driver reports about the device. */
    public GpuDriver.DeviceInfo deviceInfo() {
        return info;
    }

    @Override
    public DeviceDescription deviceDescription() {
        String attrs = info.api() + " device attributes of " + info.name();
        Figure flops = info.multiprocessors() > 0 && info.clockKhz() > 0
                ? Figure.model(info.multiprocessors() * (double) fp32LanesPerSm() * 2 * info.clockKhz() * 1e3,
                "SMs x " + fp32LanesPerSm() + " FP32 lanes x 2 FLOP (FMA) x clock, from " + attrs) : null;
        Figure bandwidth = info.memoryClockKhz() > 0 && info.memoryBusWidthBits() > 0
                ? Figure.model(info.memoryClockKhz() * 1e3 * 2 * info.memoryBusWidthBits() / 8.0,
                "memory clock x 2 (DDR) x bus width, from " + attrs) : null;
        boolean pcie5 = info.computeMajor() >= 9;
        double link = pcie5 ? 50e9 : 25e9;
        DeviceDescription.HostLink hostLink = new DeviceDescription.HostLink(
                Figure.model(link, pcie5 ? "PCIe 5.0 x16, typical achieved" : "PCIe 4.0 x16, typical achieved"),
                Figure.model(link, pcie5 ? "PCIe 5.0 x16, typical achieved" : "PCIe 4.0 x16, typical achieved"),
                Figure.model(10e-6, "synchronous cuMemcpy latency, typical"));
        return new DeviceDescription(description(), flops, bandwidth,
                Figure.model(10e-6, "cuLaunchKernel + cuCtxSynchronize, typical"), Map.of(),
                Figure.measured(info.totalMemoryBytes(), "reported by cuDeviceTotalMem_v2"), hostLink);
    }

    private int fp32LanesPerSm() {
        return info.computeMajor() == 8 && info.computeMinor() == 0 || info.computeMajor() < 8 ? 64 : 128;
    }

    @Override
    public DeviceCounters counters() {
        long[] t = totals.get();
        return new DeviceCounters(t[0], t[1], t[2], t[3], Double.NaN);
    }

    // ---- residency ----

    @Override
    public PinnedTensor pin(Tensor host) {
        checkOpen();
        Objects.requireNonNull(host, "host");
        if (!host.isAlive()) {
            throw new IllegalStateException("pin: argument 'host' refers to memory whose arena is closed");
        }
        long dataBytes = Math.max(1, dataBytes(host));
        long scaleBytes = host.type().isQuantized() ? Math.max(1, host.rows() * Float.BYTES) : 0;
        long[] pointers = new long[2];
        run("pin " + host.shapeString(), c -> {
            try {
                pointers[0] = driver.alloc(dataBytes);
                pointers[1] = scaleBytes == 0 ? 0 : driver.alloc(scaleBytes);
            } catch (GpuDriverException e) {
                if (pointers[0] != 0) {
                    driver.free(pointers[0]);
                }
                throw new GpuDriverException(e.call(), e.code(), e.getMessage() + " while pinning " + (dataBytes + scaleBytes)
                        + " bytes of " + host.shapeString() + " (device memory " + info.totalMemoryBytes() + " bytes)");
            }
            try {
                c.toDevice(host.data(), pointers[0], dataBytes(host));
                if (scaleBytes != 0) {
                    c.toDevice(host.scales(), pointers[1], host.rows() * Float.BYTES);
                }
            } catch (GpuDriverException e) {
                c.allocations.add(pointers[0]); // the failed pin's buffers go with the call's temporaries
                if (pointers[1] != 0) {
                    c.allocations.add(pointers[1]);
                }
                throw e;
            }
        });
        GpuPin pin = new GpuPin(this, host, pointers[0], pointers[1]);
        pins.add(pin);
        return pin;
    }

    void refresh(GpuPin pin, long fromRow, long toRow) {
        checkOpen();
        Tensor host = pin.host();
        if (fromRow == toRow) {
            return;
        }
        long offset = fromRow * host.rowStride();
        long bytes = (toRow - 1 - fromRow) * host.rowStride() + (long) host.cols() * host.type().byteSize();
        run("refresh rows [" + fromRow + ", " + toRow + ") of " + host.shapeString(), c -> {
            c.toDevice(host.data().asSlice(offset, bytes), pin.data() + offset, bytes);
            if (host.type().isQuantized()) {
                c.toDevice(host.scales().asSlice(fromRow * Float.BYTES, (toRow - fromRow) * Float.BYTES),
                        pin.scales() + fromRow * Float.BYTES, (toRow - fromRow) * Float.BYTES);
            }
        });
    }

    void unpin(GpuPin pin) {
        if (!pins.remove(pin) || lostBecause != null) {
            return; // a lost context took the memory with it
        }
        lock.lock();
        try {
            driver.makeCurrent();
            driver.free(pin.data());
            if (pin.scales() != 0) {
                driver.free(pin.scales());
            }
        } catch (GpuDriverException e) {
            throw failure("unpin " + pin.host().shapeString(), e);
        } finally {
            lock.unlock();
        }
    }

    boolean lost() {
        return lostBecause != null;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            for (GpuPin pin : List.copyOf(pins)) {
                try {
                    pin.close();
                } catch (BackendException e) {
                    // the device is going away anyway; closing the driver below releases the context
                }
            }
            super.close();
            driver.close();
        } finally {
            lock.unlock();
        }
    }

    // ---- Prepare ----

    @Override
    public void project(Tensor x, Tensor w, Tensor y) {
        checkOpen();
        OpArgs.project(capabilities(), x, w, y);
        long outputs = x.rows() * w.rows();
        if (outputs == 0) {
            return;
        }
        long tiles = ((x.rows() + 15) / 16) * ((w.rows() + 15) / 16); // mp_project's 16 x 16 output tiles
        run("project", c -> {
            Device xd = c.input(x);
            Device wd = c.input(w);
            long out = c.alloc(outputs * y.type().byteSize());
            c.launch("mp_project", (int) Math.min(MAX_GRID, tiles), a -> a.pointer(xd.data).int64(x.rowStride())
                    .pointer(xd.scales).int32(x.type().ordinal()).pointer(wd.data).int64(w.rowStride())
                    .pointer(wd.scales).int32(w.type().ordinal()).int32((int) x.rows()).int32((int) w.rows())
                    .int32(x.cols()).pointer(out).int32(y.type().ordinal()));
            c.output(out, y);
        });
    }

    // ---- Relevancy ----

    @Override
    public void dot(Tensor q, Tensor m, Tensor s) {
        checkOpen();
        OpArgs.dot(capabilities(), q, m, s);
        dotLike("dot", q, m, null, s, 0);
    }

    @Override
    public void dotRows(Tensor q, Tensor keys, Indices rowIds, Tensor s) {
        checkOpen();
        OpArgs.check(capabilities(), Op.DOT_ROWS, q, keys, rowIds, s);
        dotLike("dotRows", q, keys, rowIds, s, 0);
    }

    @Override
    public void cosine(Tensor q, Tensor m, Tensor s) {
        checkOpen();
        OpArgs.cosine(capabilities(), q, m, s);
        dotLike("cosine", q, m, null, s, 1);
    }

    /** dot, dotRows (rowIds non-null: the rows of m, in order) and cosine: one kernel. */
    private void dotLike(String what, Tensor q, Tensor m, Indices rowIds, Tensor s, int cosine) {
        int n = rowIds == null ? (int) m.rows() : rowIds.length();
        long outputs = q.rows() * n;
        if (outputs == 0) {
            return;
        }
        run(what, c -> c.output(dotOnDevice(c, q, m, rowIds, cosine, s.type()), s));
    }

    /** dot/dotRows/cosine into a new contiguous device buffer of {@code outType}; returns its address. */
    private long dotOnDevice(Call c, Tensor q, Tensor m, Indices rowIds, int cosine, ElementType outType) {
        int n = rowIds == null ? (int) m.rows() : rowIds.length();
        long outputs = q.rows() * n;
        Device qd = c.input(q);
        Device md = c.input(m);
        long ids = rowIds == null ? 0 : c.upload(rowIds.data(), (long) n * Integer.BYTES);
        long out = c.alloc(outputs * outType.byteSize());
        c.launch("mp_dot", grid(outputs), a -> a.pointer(qd.data).int64(q.rowStride()).pointer(qd.scales)
                .int32(q.type().ordinal()).pointer(md.data).int64(m.rowStride()).pointer(md.scales)
                .int32(m.type().ordinal()).pointer(ids).int32((int) q.rows()).int32(n).int32(q.cols())
                .pointer(out).int32(outType.ordinal()).int32(cosine));
        return out;
    }

    @Override
    public void questBound(Tensor q, Tensor min, Tensor max, Tensor s) {
        checkOpen();
        OpArgs.questBound(capabilities(), q, min, max, s);
        long outputs = q.rows() * min.rows();
        if (outputs == 0) {
            return;
        }
        run("questBound", c -> c.output(questBoundOnDevice(c, q, min, max, s.type()), s));
    }

    private long questBoundOnDevice(Call c, Tensor q, Tensor min, Tensor max, ElementType outType) {
        long outputs = q.rows() * min.rows();
        Device qd = c.input(q);
        Device lo = c.input(min);
        Device hi = c.input(max);
        long out = c.alloc(outputs * outType.byteSize());
        c.launch("mp_quest_bound", grid(outputs), a -> a.pointer(qd.data).int64(q.rowStride()).pointer(qd.scales)
                .int32(q.type().ordinal()).pointer(lo.data).int64(min.rowStride()).pointer(lo.scales)
                .int32(min.type().ordinal()).pointer(hi.data).int64(max.rowStride()).pointer(hi.scales)
                .int32(max.type().ordinal()).int32((int) q.rows())
                .int32((int) min.rows()).int32(q.cols()).pointer(out).int32(outType.ordinal()));
        return out;
    }

    @Override
    public void indexerScore(Tensor q, Tensor w, Tensor keys, Tensor kScale, Tensor s) {
        checkOpen();
        OpArgs.indexerScore(capabilities(), q, w, keys, kScale, s);
        int n = (int) keys.rows();
        if (n == 0) {
            return;
        }
        run("indexerScore", c -> c.output(indexerScoreOnDevice(c, q, w, keys, kScale, s.type()), s));
    }

    private long indexerScoreOnDevice(Call c, Tensor q, Tensor w, Tensor keys, Tensor kScale, ElementType outType) {
        int n = (int) keys.rows();
        Device qd = c.input(q);
        Device wd = c.input(w);
        Device kd = c.input(keys);
        Device sd = kScale == null ? new Device(0, 0) : c.input(kScale);
        long out = c.alloc((long) n * outType.byteSize());
        c.launch("mp_indexer_score", grid(n), a -> a.pointer(qd.data).int64(q.rowStride()).pointer(qd.scales)
                .int32(q.type().ordinal()).pointer(wd.data).pointer(wd.scales).int32(w.type().ordinal())
                .int32((int) q.rows()).pointer(kd.data).int64(keys.rowStride()).pointer(kd.scales)
                .int32(keys.type().ordinal()).pointer(sd.data).pointer(sd.scales)
                .int32(kScale == null ? 0 : kScale.type().ordinal()).int32(n).int32(q.cols()).pointer(out)
                .int32(outType.ordinal()));
        return out;
    }

    @Override
    public void groupMax(Tensor s, int groupSize, Tensor y) {
        checkOpen();
        OpArgs.groupMax(capabilities(), s, groupSize, y);
        long outputs = y.rows() * y.cols();
        if (outputs == 0) {
            return;
        }
        run("groupMax", c -> {
            Device sd = c.input(s);
            long out = c.alloc(outputs * y.type().byteSize());
            c.launch("mp_group_max", grid(outputs), a -> a.pointer(sd.data).int64(s.rowStride()).pointer(sd.scales)
                    .int32(s.type().ordinal()).int32((int) s.rows()).int32(s.cols()).int32(groupSize).int32(y.cols())
                    .pointer(out).int32(y.type().ordinal()));
            c.output(out, y);
        });
    }

    @Override
    public void softmax(Tensor s, float scale, Tensor p) {
        checkOpen();
        OpArgs.softmax(capabilities(), s, scale, p);
        run("softmax", c -> {
            Device sd = c.input(s);
            long out = c.alloc((long) p.cols() * p.type().byteSize());
            c.launch("mp_softmax", 1, a -> a.pointer(sd.data).pointer(sd.scales).int32(s.type().ordinal())
                    .int32(s.cols()).f32(scale).pointer(out).int32(p.type().ordinal()));
            c.output(out, p);
        });
    }

    // ---- Retrieval ----

    @Override
    public int topK(Tensor s, int k, Indices idx, Tensor val) {
        checkOpen();
        OpArgs.topK(capabilities(), s, k, idx, val);
        int n = s.cols();
        int count = Math.min(k, n);
        int rows = (int) s.rows();
        if (count == 0 || rows == 0) {
            return count;
        }
        run("topK", c -> topKOnDevice(c, c.input(s), s.rowStride(), s.type(), rows, n, count, idx, val));
        return count;
    }

    /** topK of {@code rows} rows of n scores at {@code sd} (row stride {@code stride} bytes) into idx and val. */
    private void topKOnDevice(Call c, Device sd, long stride, ElementType type, int rows, int n, int count, Indices idx,
                              Tensor val) {
        long entries = (long) rows * count;
        long scratch = c.alloc(entries * Long.BYTES);
        MemorySegment nan = c.arena.allocate(ValueLayout.JAVA_INT, rows);
        nan.fill((byte) 0x7f); // 0x7f7f7f7f > any n
        long nanAt = c.upload(nan, nan.byteSize());
        long idxOut = c.alloc(entries * Integer.BYTES);
        long valOut = c.alloc(entries * Float.BYTES);
        c.launch("mp_top_k", rows, a -> a.pointer(sd.data).int64(stride).pointer(sd.scales).int32(type.ordinal())
                .int32(n).int32(count).pointer(scratch).pointer(nanAt).pointer(idxOut).pointer(valOut));
        c.fromDevice(nanAt, nan, nan.byteSize());
        for (int j = 0; j < rows; j++) {
            int at = nan.getAtIndex(ValueLayout.JAVA_INT, j);
            if (at < n) {
                throw new NaNInputException("s", (long) j * n + at);
            }
        }
        MemorySegment host = c.arena.allocate(entries * Float.BYTES, 8);
        c.fromDevice(idxOut, host, entries * Integer.BYTES);
        MemorySegment.copy(host, 0, idx.data(), 0, entries * Integer.BYTES);
        if (val != null) {
            c.fromDevice(valOut, host, entries * Float.BYTES);
            for (int j = 0; j < rows; j++) {
                MemorySegment.copy(host, (long) j * count * Float.BYTES, val.data(), j * val.rowStride(),
                        (long) count * Float.BYTES);
            }
        }
    }

    @Override
    public void threshold(Tensor s, float t, Bitmap out) {
        checkOpen();
        OpArgs.threshold(capabilities(), s, t, out);
        long total = s.size();
        long words = Bitmap.wordCount(total);
        if (words == 0) {
            return;
        }
        run("threshold", c -> {
            Device sd = c.input(s);
            MemorySegment nan = c.arena.allocate(ValueLayout.JAVA_LONG);
            nan.set(ValueLayout.JAVA_LONG, 0, total);
            long nanAt = c.upload(nan, Long.BYTES);
            long bits = c.alloc(words * Long.BYTES);
            c.launch("mp_threshold", grid(words), a -> a.pointer(sd.data).int64(s.rowStride()).pointer(sd.scales)
                    .int32(s.type().ordinal()).int32((int) s.rows()).int32(s.cols()).f32(t).pointer(bits)
                    .int64(words).pointer(nanAt));
            c.fromDevice(nanAt, nan, Long.BYTES);
            long first = nan.get(ValueLayout.JAVA_LONG, 0);
            if (first < total) {
                throw new NaNInputException("s", first);
            }
            c.fromDevice(bits, out.words(), words * Long.BYTES);
        });
    }

    @Override
    public void gather(Tensor x, Indices idx, Tensor y) {
        checkOpen();
        OpArgs.gather(capabilities(), x, idx, y);
        int count = idx.length();
        if (count == 0) {
            return;
        }
        long rowBytes = (long) x.cols() * x.type().byteSize();
        run("gather", c -> {
            Device xd = c.input(x);
            long rowsAt = c.upload(idx.data(), (long) count * Integer.BYTES);
            if (rowBytes > 0) {
                long out = c.alloc(count * rowBytes);
                c.launch("mp_gather", grid(count * rowBytes), a -> a.pointer(xd.data).int64(x.rowStride())
                        .int64(rowBytes).pointer(rowsAt).int32(count).pointer(out));
                c.output(out, y);
            }
            if (x.type().isQuantized()) {
                long scales = c.alloc((long) count * Float.BYTES);
                c.launch("mp_gather", grid((long) count * Float.BYTES), a -> a.pointer(xd.scales).int64(Float.BYTES)
                        .int64(Float.BYTES).pointer(rowsAt).int32(count).pointer(scales));
                c.fromDevice(scales, y.scales(), (long) count * Float.BYTES);
            }
        });
    }

    // ---- Apply ----

    @Override
    public void attention(Tensor q, Tensor keys, Tensor values, int kvHeads, Indices idx, float scale, Tensor out) {
        checkOpen();
        OpArgs.attention(capabilities(), q, keys, values, kvHeads, idx, scale, out);
        int heads = (int) q.rows();
        int d = q.cols();
        int selected = idx == null ? (int) keys.rows() : idx.length();
        run(idx == null ? "dense attention" : "sparse attention", c -> {
            Device qd = c.input(q);
            Device kd = c.input(keys);
            Device vd = c.input(values);
            long rows = idx == null ? 0 : c.upload(idx.data(), (long) selected * Integer.BYTES);
            long acc = c.alloc((long) heads * d * Float.BYTES);
            long o = c.alloc((long) heads * d * out.type().byteSize());
            c.launch("mp_attention", heads, a -> a.pointer(qd.data).int64(q.rowStride()).pointer(qd.scales)
                    .int32(q.type().ordinal()).pointer(kd.data).int64(keys.rowStride()).pointer(kd.scales)
                    .int32(keys.type().ordinal()).pointer(vd.data).int64(values.rowStride()).pointer(vd.scales)
                    .int32(values.type().ordinal()).int32(heads / kvHeads).int32(d).pointer(rows).int32(selected)
                    .f32(scale).pointer(acc).pointer(o).int32(out.type().ordinal()));
            c.output(o, out);
        });
    }

    @Override
    public void softRetrieve(Tensor a, Tensor v, Tensor out) {
        checkOpen();
        OpArgs.softRetrieve(capabilities(), a, v, out);
        int d = v.cols();
        if (d == 0) {
            return;
        }
        run("softRetrieve", c -> {
            Device ad = c.input(a);
            Device vd = c.input(v);
            long o = c.alloc((long) d * out.type().byteSize());
            c.launch("mp_soft_retrieve", grid(d), k -> k.pointer(ad.data).pointer(ad.scales).int32(a.type().ordinal())
                    .pointer(vd.data).int64(v.rowStride()).pointer(vd.scales).int32(v.type().ordinal())
                    .int32((int) v.rows()).int32(d).pointer(o).int32(out.type().ordinal()));
            c.output(o, out);
        });
    }

    // ---- fused ----

    /**
     * dotTopK, questBoundTopK and indexerTopK in one call group: the scores stay in device memory between the two
     * kernels (the default compositions would copy them to the host and back). Arguments are checked as the
     * composition checks them, against a host scratch of the scores' shape that is never written. The other fused
     * ops are the default compositions.
     */
    @Override
    public FusedOps fused() {
        return new FusedOps() {
            @Override
            public Backend backend() {
                return GpuBackend.this;
            }

            @Override
            public int dotTopK(Tensor q, Tensor keys, int k, Indices idx, Tensor val) {
                checkOpen();
                Tensor s = shapeOnly(q.rows(), keys.rows(), "dotTopK");
                OpArgs.dot(capabilities(), q, keys, s);
                return scoresTopK("dotTopK", s, k, idx, val, c -> dotOnDevice(c, q, keys, null, 0, ElementType.F32));
            }

            @Override
            public int questBoundTopK(Tensor q, Tensor min, Tensor max, int k, Indices idx, Tensor val) {
                checkOpen();
                Tensor s = shapeOnly(q.rows(), min.rows(), "questBoundTopK");
                OpArgs.questBound(capabilities(), q, min, max, s);
                return scoresTopK("questBoundTopK", s, k, idx, val,
                        c -> questBoundOnDevice(c, q, min, max, ElementType.F32));
            }

            @Override
            public int indexerTopK(Tensor q, Tensor w, Tensor keys, Tensor kScale, int k, Indices idx, Tensor val) {
                checkOpen();
                Tensor s = shapeOnly(1, keys.rows(), "indexerTopK");
                OpArgs.indexerScore(capabilities(), q, w, keys, kScale, s);
                return scoresTopK("indexerTopK", s, k, idx, val,
                        c -> indexerScoreOnDevice(c, q, w, keys, kScale, ElementType.F32));
            }
        };
    }

    /** Scores made on the device by {@code scores}, then their top k, in one call group. */
    private int scoresTopK(String what, Tensor s, int k, Indices idx, Tensor val, java.util.function.ToLongFunction<Call> scores) {
        OpArgs.topK(capabilities(), s, k, idx, val);
        int n = s.cols();
        int count = Math.min(k, n);
        int rows = (int) s.rows();
        if (count == 0 || rows == 0) {
            return count;
        }
        run(what, c -> topKOnDevice(c, new Device(scores.applyAsLong(c), 0), (long) n * Float.BYTES, ElementType.F32,
                rows, n, count, idx, val));
        return count;
    }

    /**
     * An F32 tensor of the intermediate scores' shape for the argument checks only (heap memory, never written
     * or read by a kernel); the composition's limit on its size applies.
     */
    private static Tensor shapeOnly(long rows, long cols, String op) {
        long n = rows * cols;
        if (rows < 0 || cols < 0 || n > Integer.MAX_VALUE - 8 || cols > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": intermediate scores [" + rows + ", " + cols
                    + "] exceed the largest composed intermediate (2^31 - 9 floats)");
        }
        return Tensor.wrap(MemorySegment.ofArray(new float[(int) n]), ElementType.F32, rows, (int) cols);
    }

    // ---- calls ----

    private int grid(long work) {
        return (int) Math.max(1, Math.min(MAX_GRID, (work + block - 1) / block));
    }

    /** One group of driver calls under the device lock, with the context made current and temporaries freed. */
    private void run(String what, Consumer<Call> body) {
        if (lostBecause != null) {
            throw new BackendException(NAME, BackendException.Fault.DEVICE_LOST, what + ": the device was lost earlier ("
                    + lostBecause + ")", null);
        }
        lock.lock();
        Call call = new Call();
        try {
            driver.makeCurrent();
            body.accept(call);
        } catch (GpuDriverException e) {
            call.failed = true;
            throw failure(what, e);
        } finally {
            try {
                call.close();
            } catch (GpuDriverException e) {
                throw failure(what + " (freeing its buffers)", e);
            } finally {
                lock.unlock();
            }
        }
    }

    private BackendException failure(String what, GpuDriverException e) {
        if (e.fault() == BackendException.Fault.DEVICE_LOST && lostBecause == null) {
            lostBecause = e.getMessage();
        }
        return new BackendException(NAME, e.fault(), what + ": " + e.getMessage(), e);
    }

    private static long dataBytes(Tensor t) {
        return t.rows() == 0 ? 0 : (t.rows() - 1) * t.rowStride() + (long) t.cols() * t.type().byteSize();
    }

    /** Device addresses of a tensor's first element and first row scale (0 for float types). */
    private record Device(long data, long scales) {
    }

    /** The temporaries and transfers of one op. */
    private final class Call {
        final Arena arena = Arena.ofConfined();
        final List<Long> allocations = new ArrayList<>();
        final long[] counts = totals.get();
        boolean failed;

        long alloc(long bytes) {
            long pointer = driver.alloc(Math.max(1, bytes));
            allocations.add(pointer);
            return pointer;
        }

        long upload(MemorySegment host, long bytes) {
            long pointer = alloc(bytes);
            toDevice(host, pointer, bytes);
            return pointer;
        }

        Device input(Tensor t) {
            PinnedTensor pin = Pins.ownedBy(GpuBackend.this, t);
            if (pin instanceof GpuPin gpu && !lost()) {
                long scales = t.type().isQuantized() ? gpu.scales() + Pins.scalesOffset(pin, t) : 0;
                return new Device(gpu.data() + Pins.dataOffset(pin, t), scales);
            }
            long data = upload(t.data(), dataBytes(t));
            long scales = t.type().isQuantized() ? upload(t.scales(), t.rows() * Float.BYTES) : 0;
            return new Device(data, scales);
        }

        void toDevice(MemorySegment host, long device, long bytes) {
            long start = System.nanoTime();
            driver.copyToDevice(host, device, bytes);
            counts[0] += bytes;
            counts[2] += System.nanoTime() - start;
        }

        void fromDevice(long device, MemorySegment host, long bytes) {
            long start = System.nanoTime();
            driver.copyFromDevice(device, host, bytes);
            counts[1] += bytes;
            counts[2] += System.nanoTime() - start;
        }

        /** Downloads a contiguous result into a (possibly strided) output tensor of the same type. */
        void output(long device, Tensor out) {
            long rowBytes = (long) out.cols() * out.type().byteSize();
            long bytes = out.rows() * rowBytes;
            if (out.rowStride() == rowBytes) {
                fromDevice(device, out.data(), bytes);
                return;
            }
            MemorySegment host = arena.allocate(Math.max(1, bytes), 8);
            fromDevice(device, host, bytes);
            for (long r = 0; r < out.rows(); r++) {
                MemorySegment.copy(host, r * rowBytes, out.data(), r * out.rowStride(), rowBytes);
            }
        }

        void launch(String kernel, int grid, Consumer<KernelArgs> args) {
            KernelArgs a = new KernelArgs(arena);
            args.accept(a);
            long start = System.nanoTime();
            driver.launch(functions.get(kernel), grid, block, a);
            driver.synchronize();
            counts[3] += System.nanoTime() - start;
        }

        void close() {
            GpuDriverException first = null;
            try {
                if (lostBecause == null) {
                    for (long pointer : allocations) {
                        try {
                            driver.free(pointer);
                        } catch (GpuDriverException e) {
                            first = first == null ? e : first;
                        }
                    }
                }
            } finally {
                arena.close();
            }
            if (first != null && !failed) {
                throw first;
            }
        }
    }
}
