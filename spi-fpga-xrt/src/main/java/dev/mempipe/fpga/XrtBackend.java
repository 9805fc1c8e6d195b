package dev.mempipe.fpga;

import dev.mempipe.spi.BackendException;
import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.DeviceCounters;
import dev.mempipe.spi.DeviceDescription;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Limits;
import dev.mempipe.spi.NaNInputException;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.OpArgs;
import dev.mempipe.spi.PartialBackend;
import dev.mempipe.spi.PinnedBm25Index;
import dev.mempipe.spi.PinnedTensor;
import dev.mempipe.spi.Pins;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The Alveo U55C backend: {@code dot} through the {@code score} kernel, {@code topK} through the {@code topk}
 * kernel, {@code threshold} and {@code groupMax} through kernels of those names, {@code bm25Score} through the
 * {@code bm25} kernel, over XRT's C API (a card, XRT's noop emulation, or the csim device, which runs the same
 * kernels compiled by g++). The fused ops are the default compositions of these.
 *
 * <p>Data a call reads goes to the device in buffer objects with explicit, counted syncs: pinned keys and
 * indexes once (and the rows each {@code refresh} names), unpinned inputs per call. Every kernel writes a status
 * word; a run that completes without it computed nothing and fails with a transient {@link BackendException}, so
 * the engine reruns the step on the CPU and records the fallback. Run states ERROR and ABORT lose the device.
 *
 * <p>{@code topK}, {@code threshold} and {@code groupMax} read f32 scores: scores of another type are decoded to
 * f32 on the host first (as the contract decodes them). Thread-safety: safe for concurrent use; device calls are serialized by one lock.
 */
public final class XrtBackend extends PartialBackend {
    /** The top-k unit's size: the kernel's MAX_K. */
    public static final int MAX_K = 2048;
    /** Query rows the score kernel holds on chip; larger batches run in several kernel calls. */
    static final int MAX_QUERY_ROWS = 64;
    /** Distinct query terms the bm25 kernel's per-lane table holds. */
    static final int MAX_QUERY_TERMS = 256;

    private static final Set<ElementType> ALL_TYPES = EnumSet.allOf(ElementType.class);

    private final XrtDevice device;
    private final XrtCounters counters;
    private final XrtModel model;
    private final String description;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<Bm25Index, XrtPinnedIndex> pinnedIndexes = new IdentityHashMap<>();
    private long pinnedBytes;
    /** Trips of the score kernel's bounding II=1 loop in the last dot call (status word 2; a cycle count in csim). */
    private volatile long lastScoreTrips;

    private XrtBackend(XrtDevice device, XrtCounters counters, XrtModel model, String description) {
        super(XrtDevice.BACKEND, declared());
        this.device = device;
        this.counters = counters;
        this.model = model;
        this.description = description;
    }

    /**
     * Opens device 0 through {@code library} (XRT's {@code libxrt_coreutil.so.2} or the csim device) and loads
     * {@code xclbin}. Call only after {@link XrtBackendProvider}'s checks: the real XRT aborts the process when
     * its environment is incomplete.
     */
    static XrtBackend open(Path library, Path xclbin, String flavour) {
        XrtApi api = XrtApi.load(library);
        XrtCounters counters = new XrtCounters();
        XrtDevice device = XrtDevice.open(api, 0, xclbin, counters);
        XrtModel model = XrtModel.fromSystemProperties();
        return new XrtBackend(device, counters, model, XrtDevice.BACKEND + "(" + flavour + ", " + xclbin.getFileName()
                + ", model " + model.clockHz() / 1e6 + " MHz x " + model.channels() + " HBM channels)");
    }

    static Capabilities declared() {
        return Capabilities.builder()
                .op(Op.DOT, ALL_TYPES, Capabilities.FLOAT_TYPES, Limits.NONE)
                .op(Op.TOP_K, ALL_TYPES, Capabilities.FLOAT_TYPES, Limits.NONE.withMaxK(MAX_K))
                .op(Op.THRESHOLD, ALL_TYPES, Capabilities.FLOAT_TYPES, Limits.NONE)
                .op(Op.GROUP_MAX, ALL_TYPES, Capabilities.FLOAT_TYPES, Limits.NONE)
                // term ids travel as 32-bit words of the forward index: every non-negative int fits
                .op(Op.BM25_SCORE, EnumSet.of(ElementType.F32), Capabilities.FLOAT_TYPES,
                        Limits.NONE.withMaxTermId(Integer.MAX_VALUE).withMaxRows(Integer.MAX_VALUE))
                .deviceMemoryBytes(XrtModel.HBM_BYTES)
                .build();
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public DeviceDescription deviceDescription() {
        return model.describe();
    }

    @Override
    public DeviceCounters counters() {
        return counters.current();
    }

    /** Trips of the score kernel's key-reading loop (one 512-bit word each) in the last dot call. */
    long lastScoreTrips() {
        return lastScoreTrips;
    }

    // ---- residency ----

    @Override
    public PinnedTensor pin(Tensor host) {
        checkOpen();
        if (host == null) {
            throw new IllegalArgumentException("pin: argument 'host' must not be null");
        }
        long bytes = XrtPinnedTensor.deviceBytes(host);
        return locked(() -> {
            reserve(bytes, "pin " + host);
            KeyLayout layout = KeyLayout.of(host.type(), host.cols());
            XrtBuffer keys = device.allocate(host.rows() * layout.rowBytes(), XrtKernels.SCORE, "keys");
            XrtBuffer scales = host.type().isQuantized()
                    ? device.allocate(host.rows() * Float.BYTES, XrtKernels.SCORE, "kscale") : null;
            XrtPinnedTensor pin = new XrtPinnedTensor(this, host, keys, scales);
            pin.refresh(0, host.rows());
            return pin;
        });
    }

    @Override
    public PinnedBm25Index pin(Bm25Index index) {
        checkOpen();
        if (index == null) {
            throw new IllegalArgumentException("pin: argument 'index' must not be null");
        }
        return locked(() -> {
            try (Arena arena = Arena.ofConfined()) {
                ForwardIndex forward = new ForwardIndex(arena, index);
                reserve(forward.bytes(), "pin a BM25 index of " + index.numDocs() + " documents");
                XrtPinnedIndex pin = new XrtPinnedIndex(this, index, upload(forward.docOffsets, XrtKernels.BM25,
                        "docOffsets"), upload(forward.pairs, XrtKernels.BM25, "pairs"),
                        upload(forward.docLengths, XrtKernels.BM25, "docLen"), forward.bytes());
                pinnedIndexes.put(index, pin);
                return pin;
            }
        });
    }

    // ---- ops ----

    @Override
    public void dot(Tensor q, Tensor m, Tensor s) {
        checkOpen();
        OpArgs.dot(capabilities(), q, m, s);
        int n = (int) m.rows();
        int d = q.cols();
        if (n == 0 || q.rows() == 0) {
            return;
        }
        if (d == 0) {
            for (long j = 0; j < q.rows(); j++) {
                for (int i = 0; i < n; i++) {
                    s.set(j, i, 0f); // an empty dot product is 0
                }
            }
            return;
        }
        locked(() -> {
            try (Arena arena = Arena.ofConfined(); Keys keys = keysOf(arena, m)) {
                lastScoreTrips = 0;
                boolean integerPath = q.type().isQuantized() && m.type().isQuantized();
                for (long from = 0; from < q.rows(); from += MAX_QUERY_ROWS) {
                    long to = Math.min(q.rows(), from + MAX_QUERY_ROWS);
                    scoreRows(arena, q, from, to, keys, m.type(), integerPath, n, d, s);
                }
            }
            return null;
        });
    }

    @Override
    public int topK(Tensor s, int k, Indices idx, Tensor val) {
        checkOpen();
        OpArgs.topK(capabilities(), s, k, idx, val);
        int n = s.cols();
        int count = Math.min(k, n);
        int m = (int) s.rows();
        if (count == 0 || m == 0) {
            return count;
        }
        return locked(() -> {
            try (Arena arena = Arena.ofConfined();
                 XrtBuffer scores = upload(KeyLayout.decoded(arena, s), XrtKernels.TOP_K, "s");
                 XrtBuffer idxOut = device.allocate((long) m * count * Integer.BYTES, XrtKernels.TOP_K, "idx");
                 XrtBuffer valOut = device.allocate((long) m * count * Float.BYTES, XrtKernels.TOP_K, "val");
                 XrtBuffer status = device.allocate(XrtKernels.STATUS_WORDS * Long.BYTES, XrtKernels.TOP_K, "status")) {
                device.run(XrtKernels.TOP_K, scores, idxOut, valOut, status, m, n, count);
                long[] words = status(arena, status, XrtKernels.TOP_K);
                // only a status the kernel wrote may report a NaN: an unwritten one holds anything
                if (words[3] == XrtKernels.STATUS_MAGIC && words[1] != 0) {
                    throw new NaNInputException("s", words[1] - 1);
                }
                expect(words, (long) m * n, XrtKernels.TOP_K);
                MemorySegment indices = download(arena, idxOut, (long) m * count * Integer.BYTES);
                MemorySegment values = download(arena, valOut, (long) m * count * Float.BYTES);
                for (int j = 0; j < m; j++) {
                    for (int c = 0; c < count; c++) {
                        long at = (long) j * count + c;
                        idx.set((int) at, indices.getAtIndex(ValueLayout.JAVA_INT, at));
                        if (val != null) {
                            val.set(j, c, values.getAtIndex(ValueLayout.JAVA_FLOAT, at));
                        }
                    }
                }
                return count;
            }
        });
    }

    @Override
    public void groupMax(Tensor s, int groupSize, Tensor y) {
        checkOpen();
        OpArgs.groupMax(capabilities(), s, groupSize, y);
        int m = (int) s.rows();
        int n = s.cols();
        int groups = y.cols();
        if (m == 0 || n == 0) {
            return;
        }
        locked(() -> {
            try (Arena arena = Arena.ofConfined();
                 XrtBuffer scores = upload(KeyLayout.decoded(arena, s), XrtKernels.GROUP_MAX, "s");
                 XrtBuffer out = device.allocate((long) m * groups * Float.BYTES, XrtKernels.GROUP_MAX, "y");
                 XrtBuffer status = device.allocate(XrtKernels.STATUS_WORDS * Long.BYTES, XrtKernels.GROUP_MAX,
                         "status")) {
                device.run(XrtKernels.GROUP_MAX, scores, out, status, m, n, groupSize);
                expect(status(arena, status, XrtKernels.GROUP_MAX), (long) m * n, XrtKernels.GROUP_MAX);
                MemorySegment got = download(arena, out, (long) m * groups * Float.BYTES);
                for (int j = 0; j < m; j++) {
                    for (int c = 0; c < groups; c++) {
                        y.set(j, c, got.getAtIndex(ValueLayout.JAVA_FLOAT, (long) j * groups + c));
                    }
                }
            }
            return null;
        });
    }

    @Override
    public void threshold(Tensor s, float t, Bitmap out) {
        checkOpen();
        OpArgs.threshold(capabilities(), s, t, out);
        long total = s.size();
        long words = Bitmap.wordCount(total);
        if (total == 0) {
            return;
        }
        locked(() -> {
            try (Arena arena = Arena.ofConfined();
                 XrtBuffer scores = upload(KeyLayout.decoded(arena, s), XrtKernels.THRESHOLD, "s");
                 XrtBuffer bits = device.allocate(words * Long.BYTES, XrtKernels.THRESHOLD, "bits");
                 XrtBuffer status = device.allocate(XrtKernels.STATUS_WORDS * Long.BYTES, XrtKernels.THRESHOLD,
                         "status")) {
                device.run(XrtKernels.THRESHOLD, scores, bits, status, total, (double) t);
                long[] state = status(arena, status, XrtKernels.THRESHOLD);
                if (state[3] == XrtKernels.STATUS_MAGIC && state[1] != 0) {
                    throw new NaNInputException("s", state[1] - 1);
                }
                expect(state, total, XrtKernels.THRESHOLD);
                MemorySegment got = download(arena, bits, words * Long.BYTES);
                for (long w = 0; w < words; w++) {
                    out.setWord(w, got.getAtIndex(ValueLayout.JAVA_LONG, w));
                }
            }
            return null;
        });
    }

    @Override
    public void bm25Score(Indices query, Bm25Index index, Bm25Params params, Tensor s) {
        checkOpen();
        OpArgs.bm25Score(capabilities(), query, index, params, s);
        int docs = index.numDocs();
        List<Integer> terms = new ArrayList<>();
        List<Double> idf = new ArrayList<>();
        Set<Integer> distinct = new LinkedHashSet<>();
        for (int i = 0; i < query.length(); i++) {
            distinct.add(query.get(i)); // a repeated query term counts once
        }
        for (int term : distinct) {
            int df = index.docFreq(term);
            if (df > 0) {
                terms.add(term);
                idf.add(params.idf().idf(docs, df));
            }
        }
        if (terms.size() > MAX_QUERY_TERMS) {
            throw new IllegalArgumentException(Op.BM25_SCORE + ": argument 'query' has " + terms.size()
                    + " distinct indexed terms, beyond the bm25 kernel's table of " + MAX_QUERY_TERMS);
        }
        if (docs == 0) {
            return;
        }
        locked(() -> {
            try (Arena arena = Arena.ofConfined(); Forward forward = forwardOf(arena, index)) {
                MemorySegment qterms = arena.allocate(ValueLayout.JAVA_INT, Math.max(1, terms.size()));
                MemorySegment qidf = arena.allocate(ValueLayout.JAVA_DOUBLE, Math.max(1, terms.size()));
                for (int t = 0; t < terms.size(); t++) {
                    qterms.setAtIndex(ValueLayout.JAVA_INT, t, terms.get(t));
                    qidf.setAtIndex(ValueLayout.JAVA_DOUBLE, t, idf.get(t));
                }
                try (XrtBuffer termsBo = upload(qterms, XrtKernels.BM25, "qterms");
                     XrtBuffer idfBo = upload(qidf, XrtKernels.BM25, "qidf");
                     XrtBuffer out = device.allocate((long) docs * Float.BYTES, XrtKernels.BM25, "out");
                     XrtBuffer status = device.allocate(XrtKernels.STATUS_WORDS * Long.BYTES, XrtKernels.BM25,
                             "status")) {
                    device.run(XrtKernels.BM25, forward.docOffsets(), forward.pairs(), forward.docLengths(), termsBo,
                            idfBo, out, status, docs, terms.size(), (double) params.k1(), (double) params.b(),
                            index.avgDocLength());
                    expect(status(arena, status, XrtKernels.BM25), docs, XrtKernels.BM25);
                    MemorySegment scores = download(arena, out, (long) docs * Float.BYTES);
                    for (int doc = 0; doc < docs; doc++) {
                        s.set(0, doc, scores.getAtIndex(ValueLayout.JAVA_FLOAT, doc));
                    }
                }
            }
            return null;
        });
    }

    @Override
    public void close() {
        lock.lock();
        try {
            super.close();
            device.close();
        } finally {
            lock.unlock();
        }
    }

    // ---- plumbing ----

    /** Runs {@code body} holding the device lock. */
    <T> T locked(Supplier<T> body) {
        lock.lock();
        try {
            return body.get();
        } finally {
            lock.unlock();
        }
    }

    void released(long bytes) {
        pinnedBytes -= bytes;
    }

    void unpin(Bm25Index index, XrtPinnedIndex pin) {
        pinnedIndexes.remove(index, pin);
    }

    private void reserve(long bytes, String what) {
        long capacity = capabilities().deviceMemoryBytes();
        if (pinnedBytes + bytes > capacity) {
            throw new BackendException(name(), what + " needs " + bytes + " bytes but only " + (capacity - pinnedBytes)
                    + " of the device's " + capacity + " are free");
        }
        pinnedBytes += bytes;
    }

    /** The score kernel's key arguments: a pin's buffers (not freed here) or per-call copies (freed here). */
    private record Keys(XrtBuffer keys, XrtBuffer scales, int rowWords, long row0, int col0, boolean ownsKeys,
                        boolean ownsScales) implements AutoCloseable {
        @Override
        public void close() {
            if (ownsKeys) {
                keys.close();
            }
            if (ownsScales) {
                scales.close();
            }
        }
    }

    private Keys keysOf(Arena arena, Tensor m) {
        if (Pins.ownedBy(this, m) instanceof XrtPinnedTensor own) {
            // float keys have no scales; the kernel still takes a buffer there, a small unused one
            boolean noScales = own.scales == null;
            XrtBuffer scales = noScales ? device.allocate(64, XrtKernels.SCORE, "kscale") : own.scales;
            return new Keys(own.keys, scales, own.layout.rowWords(), own.rowOf(m), own.colOf(m), false, noScales);
        }
        KeyLayout layout = KeyLayout.of(m.type(), m.cols());
        XrtBuffer keys = upload(layout.pack(arena, m, 0, m.rows()), XrtKernels.SCORE, "keys");
        XrtBuffer scales = m.type().isQuantized()
                ? upload(KeyLayout.scales(arena, m, 0, m.rows()), XrtKernels.SCORE, "kscale")
                : device.allocate(64, XrtKernels.SCORE, "kscale");
        return new Keys(keys, scales, layout.rowWords(), 0, 0, true, true);
    }

    private void scoreRows(Arena arena, Tensor q, long from, long to, Keys keys, ElementType keyType,
                           boolean integerPath, int n, int d, Tensor s) {
        int rows = (int) (to - from);
        Tensor block = q.rowSlice(from, to);
        MemorySegment qf = integerPath ? arena.allocate(64) : KeyLayout.decoded(arena, block);
        MemorySegment qi = integerPath ? KeyLayout.codes(arena, block, 0, rows) : arena.allocate(64);
        MemorySegment qscale = integerPath ? KeyLayout.scales(arena, block, 0, rows) : arena.allocate(64);
        try (XrtBuffer qfBo = upload(qf, XrtKernels.SCORE, "qf");
             XrtBuffer qiBo = upload(qi, XrtKernels.SCORE, "qi");
             XrtBuffer qscaleBo = upload(qscale, XrtKernels.SCORE, "qscale");
             XrtBuffer out = device.allocate((long) rows * n * Float.BYTES, XrtKernels.SCORE, "out");
             XrtBuffer status = device.allocate(XrtKernels.STATUS_WORDS * Long.BYTES, XrtKernels.SCORE, "status")) {
            device.run(XrtKernels.SCORE, keys.keys(), keys.scales(), qfBo, qiBo, qscaleBo, out, status,
                    KeyLayout.typeCode(keyType), integerPath ? 1 : 0, rows, n, d, keys.rowWords(), keys.row0(),
                    keys.col0());
            long[] words = status(arena, status, XrtKernels.SCORE);
            expect(words, (long) rows * n, XrtKernels.SCORE);
            lastScoreTrips += words[2];
            MemorySegment scores = download(arena, out, (long) rows * n * Float.BYTES);
            for (int j = 0; j < rows; j++) {
                for (int i = 0; i < n; i++) {
                    s.set(from + j, i, scores.getAtIndex(ValueLayout.JAVA_FLOAT, (long) j * n + i));
                }
            }
        }
    }

    /** The bm25 kernel's index arguments: a pin's buffers or per-call copies. */
    private record Forward(XrtBuffer docOffsets, XrtBuffer pairs, XrtBuffer docLengths, boolean owned)
            implements AutoCloseable {
        @Override
        public void close() {
            if (owned) {
                docOffsets.close();
                pairs.close();
                docLengths.close();
            }
        }
    }

    private Forward forwardOf(Arena arena, Bm25Index index) {
        XrtPinnedIndex pin = pinnedIndexes.get(index);
        if (pin != null && pin.isOpen()) {
            return new Forward(pin.docOffsets, pin.pairs, pin.docLengths, false);
        }
        ForwardIndex forward = new ForwardIndex(arena, index);
        return new Forward(upload(forward.docOffsets, XrtKernels.BM25, "docOffsets"),
                upload(forward.pairs, XrtKernels.BM25, "pairs"), upload(forward.docLengths, XrtKernels.BM25, "docLen"),
                true);
    }

    /** A new buffer in {@code arg}'s bank holding {@code data}, synced to the device. */
    private XrtBuffer upload(MemorySegment data, XrtKernels kernel, String arg) {
        XrtBuffer bo = device.allocate(data.byteSize(), kernel, arg);
        try {
            bo.write(data, 0);
            bo.syncToDevice(0, data.byteSize());
            return bo;
        } catch (RuntimeException e) {
            bo.close();
            throw e;
        }
    }

    private static MemorySegment download(Arena arena, XrtBuffer bo, long bytes) {
        MemorySegment out = arena.allocate(Math.max(1, bytes), 64);
        bo.syncFromDevice(0, bytes);
        bo.read(out.asSlice(0, bytes), 0);
        return out;
    }

    private static long[] status(Arena arena, XrtBuffer status, XrtKernels kernel) {
        MemorySegment words = download(arena, status, XrtKernels.STATUS_WORDS * Long.BYTES);
        return words.toArray(ValueLayout.JAVA_LONG);
    }

    /** A completed run must have written its status word with the items it processed. */
    private void expect(long[] status, long items, XrtKernels kernel) {
        if (status[3] != XrtKernels.STATUS_MAGIC || status[0] != items) {
            throw new BackendException(name(), "kernel " + kernel.kernelName + " completed without its status word"
                    + " (items processed " + status[0] + ", expected " + items + "): nothing was computed (an"
                    + " emulation that runs no kernels, or a kernel that stopped early)");
        }
    }
}
