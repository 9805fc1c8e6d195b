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
 * The Alveo U55C backend: {@code dot}, {@code questBound} and {@code indexerScore} through the {@code score}
 * kernel (keys streamed from 8, 16 or 32 HBM channels: the build {@code score8}, {@code score16} or
 * {@code score32} the model's channel count names), {@code topK} through the {@code topk} kernel, {@code threshold}
 * and {@code groupMax} through kernels of those names, {@code bm25Score} through the {@code bm25} kernel, over XRT's
 * C API (a card, XRT's noop emulation, or the csim device, which runs the same kernels compiled by g++). The fused
 * ops ({@link #fused()}) run in one kernel run each: the score kernel (or bm25) with its top-k, groupMax or
 * threshold tail, so that intermediate scores never leave the card.
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
    /** The score kernel build this device opened: one key port per HBM channel of the model. */
    private final XrtKernels scoreKernel;
    /** Small buffers standing in for the score kernel's arguments a run does not use, by argument name. */
    private final Map<String, XrtBuffer> spares = new java.util.HashMap<>();
    private final XrtFusedOps fused = new XrtFusedOps(this);
    private final String description;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<Bm25Index, XrtPinnedIndex> pinnedIndexes = new IdentityHashMap<>();
    /** Open pins of tensors: close() frees their buffers before the device goes (XRT must not outlive a BO). */
    private final Set<XrtPinnedTensor> pinnedTensors = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    private long pinnedBytes;
    /** Trips of the score kernel's bounding II=1 loop in the last dot call (status word 2; a cycle count in csim). */
    private volatile long lastScoreTrips;

    private XrtBackend(XrtDevice device, XrtCounters counters, XrtModel model, String description) {
        super(XrtDevice.BACKEND, declared());
        this.device = device;
        this.counters = counters;
        this.model = model;
        this.scoreKernel = XrtKernels.score(model.channels());
        this.description = description;
    }

    /**
     * Opens device 0 through {@code library} (XRT's {@code libxrt_coreutil.so.2} or the csim device) and loads
     * {@code xclbin}. Call only after {@link XrtBackendProvider}'s checks: the real XRT aborts the process when
     * its environment is incomplete.
     */
    static XrtBackend open(Path library, Path xclbin, String flavour) {
        return open(library, xclbin, flavour, XrtModel.fromSystemProperties());
    }

    /** As {@link #open(Path, Path, String)} with the model (and so the score kernel build) given. */
    static XrtBackend open(Path library, Path xclbin, String flavour, XrtModel model) {
        XrtApi api = XrtApi.load(library);
        XrtCounters counters = new XrtCounters();
        XrtDevice device = XrtDevice.open(api, 0, xclbin, counters, XrtKernels.opened(model.channels()));
        return new XrtBackend(device, counters, model, XrtDevice.BACKEND + "(" + flavour + ", " + xclbin.getFileName()
                + ", model " + model.clockHz() / 1e6 + " MHz x " + model.channels() + " HBM channels)");
    }

    static Capabilities declared() {
        return Capabilities.builder()
                .op(Op.DOT, ALL_TYPES, Capabilities.FLOAT_TYPES, Limits.NONE)
                .op(Op.QUEST_BOUND, ALL_TYPES, Capabilities.FLOAT_TYPES, Limits.NONE)
                .op(Op.INDEXER_SCORE, ALL_TYPES, Capabilities.FLOAT_TYPES, Limits.NONE)
                .op(Op.TOP_K, ALL_TYPES, Capabilities.FLOAT_TYPES, Limits.NONE.withMaxK(MAX_K))
                .op(Op.THRESHOLD, ALL_TYPES, Capabilities.FLOAT_TYPES, Limits.NONE)
                .op(Op.GROUP_MAX, ALL_TYPES, Capabilities.FLOAT_TYPES, Limits.NONE)
                // term ids travel as 32-bit words of the forward index: every non-negative int fits; the kernel's
                // per-query table holds MAX_QUERY_TERMS distinct terms
                .op(Op.BM25_SCORE, EnumSet.of(ElementType.F32), Capabilities.FLOAT_TYPES,
                        Limits.NONE.withMaxTermId(Integer.MAX_VALUE).withMaxRows(Integer.MAX_VALUE)
                                .withMaxQueryTerms(MAX_QUERY_TERMS))
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

    /**
     * The largest trip count of the score kernel's key-reading loops (one 512-bit word each, one loop per HBM
     * channel, running side by side) in the last score call, summed over its kernel runs.
     */
    long lastScoreTrips() {
        return lastScoreTrips;
    }

    /** Fails with {@link IllegalStateException} after {@link #close()} (for the fused ops). */
    void ensureOpen() {
        checkOpen();
    }

    /** HBM channels the score kernel's keys are spread over. */
    int channels() {
        return model.channels();
    }

    @Override
    public dev.mempipe.spi.FusedOps fused() {
        return fused;
    }

    // ---- residency ----

    @Override
    public PinnedTensor pin(Tensor host) {
        checkOpen();
        if (host == null) {
            throw new IllegalArgumentException("pin: argument 'host' must not be null");
        }
        long bytes = XrtPinnedTensor.deviceBytes(host, channels());
        return locked(() -> {
            reserve(bytes, "pin " + host);
            KeyLayout layout = KeyLayout.of(host.type(), host.cols());
            XrtKeyChannels keys = null;
            XrtBuffer scales = null;
            try {
                keys = XrtKeyChannels.allocate(device, scoreKernel, host.rows(), layout.rowBytes());
                scales = host.type().isQuantized()
                        ? device.allocate(host.rows() * Float.BYTES, scoreKernel, "kscale") : null;
                XrtPinnedTensor pin = new XrtPinnedTensor(this, host, keys, scales);
                pin.refresh(0, host.rows());
                pinnedTensors.add(pin);
                return pin;
            } catch (RuntimeException e) {
                if (keys != null) {
                    keys.close();
                }
                if (scales != null) {
                    scales.close();
                }
                released(bytes);
                throw e;
            }
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
                for (long from = 0; from < q.rows(); from += MAX_QUERY_ROWS) {
                    long to = Math.min(q.rows(), from + MAX_QUERY_ROWS);
                    ScoreRun run = ScoreRun.dot(arena, q.rowSlice(from, to), m.type(), n, d);
                    writeScores(arena, keys, run, s, from);
                }
            }
            return null;
        });
    }

    @Override
    public void questBound(Tensor q, Tensor min, Tensor max, Tensor s) {
        checkOpen();
        OpArgs.questBound(capabilities(), q, min, max, s);
        int pages = (int) min.rows();
        int d = q.cols();
        if (pages == 0 || q.rows() == 0) {
            return;
        }
        if (d == 0) {
            zero(s); // an empty sum is 0
            return;
        }
        locked(() -> {
            try (Arena arena = Arena.ofConfined()) {
                lastScoreTrips = 0;
                for (long from = 0; from < q.rows(); from += MAX_QUERY_ROWS) {
                    long to = Math.min(q.rows(), from + MAX_QUERY_ROWS);
                    int band = (int) (to - from) * d;
                    try (Keys keys = pairsOf(arena, min.columns((int) from * d, band), max.columns((int) from * d,
                            band))) {
                        ScoreRun run = ScoreRun.questBound(arena, q.rowSlice(from, to), keys.type(), pages, d);
                        writeScores(arena, keys, run, s, from);
                    }
                }
            }
            return null;
        });
    }

    @Override
    public void indexerScore(Tensor q, Tensor w, Tensor keys, Tensor kScale, Tensor s) {
        checkOpen();
        OpArgs.indexerScore(capabilities(), q, w, keys, kScale, s);
        int n = (int) keys.rows();
        int d = q.cols();
        if (n == 0) {
            return;
        }
        if (d == 0 || q.rows() == 0) {
            zero(s); // every logit is 0, and ReLU(0) = 0
            return;
        }
        locked(() -> {
            try (Arena arena = Arena.ofConfined(); Keys k = keysOf(arena, keys)) {
                lastScoreTrips = 0;
                // more heads than the kernel holds: head blocks, their partial sums added on the host in f32
                float[] sum = new float[n];
                for (long from = 0; from < q.rows(); from += MAX_QUERY_ROWS) {
                    long to = Math.min(q.rows(), from + MAX_QUERY_ROWS);
                    ScoreRun run = ScoreRun.indexer(arena, q.rowSlice(from, to), w.columns((int) from, (int) (to - from)),
                            kScale, keys.type(), n, d);
                    MemorySegment got = scores(arena, k, run);
                    for (int i = 0; i < n; i++) {
                        sum[i] += got.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                    }
                }
                for (int i = 0; i < n; i++) {
                    s.set(0, i, sum[i]);
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
        Bm25Query terms = Bm25Query.of(query, index, params);
        int docs = index.numDocs();
        if (docs == 0) {
            return;
        }
        locked(() -> {
            try (Arena arena = Arena.ofConfined();
                 XrtBuffer out = device.allocate((long) docs * Float.BYTES, XrtKernels.BM25, "out")) {
                runBm25(arena, terms, index, params, 0, out, spare(XrtKernels.BM25, "idx"),
                        spare(XrtKernels.BM25, "val"));
                MemorySegment scores = download(arena, out, (long) docs * Float.BYTES);
                for (int doc = 0; doc < docs; doc++) {
                    s.set(0, doc, scores.getAtIndex(ValueLayout.JAVA_FLOAT, doc));
                }
            }
            return null;
        });
    }

    /** bm25 with its top-k tail: the {@code count} best documents into idx/val (bm25TopK in one run). */
    int bm25TopK(Indices query, Bm25Index index, Bm25Params params, int count, Indices idx, Tensor val) {
        Bm25Query terms = Bm25Query.of(query, index, params);
        return locked(() -> {
            try (Arena arena = Arena.ofConfined();
                 XrtBuffer idxOut = device.allocate((long) count * Integer.BYTES, XrtKernels.BM25, "idx");
                 XrtBuffer valOut = device.allocate((long) count * Float.BYTES, XrtKernels.BM25, "val")) {
                runBm25(arena, terms, index, params, count, spare(XrtKernels.BM25, "out"), idxOut, valOut);
                copySelection(arena, idxOut, valOut, 1, count, 0, idx, val);
                return count;
            }
        });
    }

    /** A query's distinct indexed terms in query order with their idf: the bm25 kernel's per-query table. */
    private record Bm25Query(List<Integer> terms, List<Double> idf) {
        static Bm25Query of(Indices query, Bm25Index index, Bm25Params params) {
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
                    idf.add(params.idf().idf(index.numDocs(), df));
                }
            }
            // OpArgs checked the declared maxQueryTerms: the indexed ones among the distinct terms fit the table
            assert terms.size() <= MAX_QUERY_TERMS : terms.size();
            return new Bm25Query(terms, idf);
        }
    }

    private void runBm25(Arena arena, Bm25Query query, Bm25Index index, Bm25Params params, int k, XrtBuffer out,
                         XrtBuffer idx, XrtBuffer val) {
        int docs = index.numDocs();
        int count = query.terms().size();
        try (Forward forward = forwardOf(arena, index)) {
            MemorySegment qterms = arena.allocate(ValueLayout.JAVA_INT, Math.max(1, count));
            MemorySegment qidf = arena.allocate(ValueLayout.JAVA_DOUBLE, Math.max(1, count));
            for (int t = 0; t < count; t++) {
                qterms.setAtIndex(ValueLayout.JAVA_INT, t, query.terms().get(t));
                qidf.setAtIndex(ValueLayout.JAVA_DOUBLE, t, query.idf().get(t));
            }
            try (XrtBuffer termsBo = upload(qterms, XrtKernels.BM25, "qterms");
                 XrtBuffer idfBo = upload(qidf, XrtKernels.BM25, "qidf");
                 XrtBuffer status = device.allocate(XrtKernels.STATUS_WORDS * Long.BYTES, XrtKernels.BM25,
                         "status")) {
                device.run(XrtKernels.BM25, forward.docOffsets(), forward.pairs(), forward.docLengths(), termsBo,
                        idfBo, out, idx, val, status, docs, count, (double) params.k1(), (double) params.b(),
                        index.avgDocLength(), k);
                long[] words = status(arena, status, XrtKernels.BM25);
                nanCheck(words, 0);
                expect(words, docs, XrtKernels.BM25);
            }
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            // pins their owners left open: free their buffers while the device is still there
            for (XrtPinnedTensor pin : List.copyOf(pinnedTensors)) {
                pin.close();
            }
            for (XrtPinnedIndex pin : List.copyOf(pinnedIndexes.values())) {
                pin.close();
            }
            super.close();
            for (XrtBuffer b : spares.values()) {
                b.close();
            }
            spares.clear();
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

    void unpin(XrtPinnedTensor pin) {
        pinnedTensors.remove(pin);
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
    private record Keys(XrtKeyChannels channels, XrtBuffer scales, ElementType type, int rowWords, long row0,
                        int col0, boolean ownsKeys, boolean ownsScales) implements AutoCloseable {
        @Override
        public void close() {
            if (ownsKeys) {
                channels.close();
            }
            if (ownsScales) {
                scales.close();
            }
        }
    }

    private Keys keysOf(Arena arena, Tensor m) {
        if (Pins.ownedBy(this, m) instanceof XrtPinnedTensor own) {
            // float keys have no scales; the kernel still takes a buffer there, a spare one
            XrtBuffer scales = own.scales == null ? spare(scoreKernel, "kscale") : own.scales;
            return new Keys(own.keys, scales, m.type(), own.layout.rowWords(), own.rowOf(m), own.colOf(m), false,
                    false);
        }
        KeyLayout layout = KeyLayout.of(m.type(), m.cols());
        XrtKeyChannels channels = XrtKeyChannels.allocate(device, scoreKernel, m.rows(), layout.rowBytes());
        try {
            channels.upload(layout.pack(arena, m, 0, m.rows()), 0, m.rows());
            boolean quantized = m.type().isQuantized();
            XrtBuffer scales = quantized ? upload(KeyLayout.scales(arena, m, 0, m.rows()), scoreKernel, "kscale")
                    : spare(scoreKernel, "kscale");
            return new Keys(channels, scales, m.type(), layout.rowWords(), 0, 0, true, quantized);
        } catch (RuntimeException e) {
            channels.close();
            throw e;
        }
    }

    /**
     * questBound's page summaries for one kernel run: min and max packed with alternating words (KeyLayout's
     * pairs), uploaded per call from the host copies (a pinned pair is not combined on the card), of one type (a
     * mixed pair is decoded to F32 on the host first).
     */
    private Keys pairsOf(Arena arena, Tensor min, Tensor max) {
        if (min.type() != max.type()) {
            min = Tensor.wrap(KeyLayout.decoded(arena, min), ElementType.F32, min.rows(), min.cols());
            max = Tensor.wrap(KeyLayout.decoded(arena, max), ElementType.F32, max.rows(), max.cols());
        }
        KeyLayout layout = KeyLayout.of(min.type(), min.cols());
        XrtKeyChannels channels = XrtKeyChannels.allocate(device, scoreKernel, min.rows(), layout.pairRowBytes());
        try {
            channels.upload(layout.packPairs(arena, min, max, 0, min.rows()), 0, min.rows());
            boolean quantized = min.type().isQuantized();
            XrtBuffer scales = quantized
                    ? upload(KeyLayout.scalePairs(arena, min, max, 0, min.rows()), scoreKernel, "kscale")
                    : spare(scoreKernel, "kscale");
            return new Keys(channels, scales, min.type(), layout.rowWords(), 0, 0, true, quantized);
        } catch (RuntimeException e) {
            channels.close();
            throw e;
        }
    }

    /** The {@code op} codes of mempipe_kernels.h's mempipe_score_op. */
    static final int OP_DOT = 0, OP_QUEST_BOUND = 1, OP_INDEXER = 2;
    /** The {@code tail} codes of mempipe_kernels.h's mempipe_score_tail. */
    static final int TAIL_SCORES = 0, TAIL_TOP_K = 1, TAIL_GROUP_MAX = 2, TAIL_GROUP_MAX_TOP_K = 3, TAIL_THRESHOLD = 4;

    /**
     * One run of the score kernel: what it computes over which query rows (at most {@link #MAX_QUERY_ROWS}), the
     * query's host-side encodings (null where the run does not read them) and the tail.
     */
    record ScoreRun(int op, ElementType keyType, boolean integerPath, int m, int n, int d, MemorySegment qf,
                    MemorySegment qi, MemorySegment qscale, MemorySegment weights, boolean perKeyScale, int tail,
                    int g, int k, double t) {

        /** Rows of scores the run produces: m, or one for the indexer. */
        int rowsOut() {
            return op == OP_INDEXER ? 1 : m;
        }

        ScoreRun withTail(int tail, int g, int k, double t) {
            return new ScoreRun(op, keyType, integerPath, m, n, d, qf, qi, qscale, weights, perKeyScale, tail, g, k, t);
        }

        /** Integer x integer dot products accumulate exactly: the query travels as codes and scales. */
        static ScoreRun dot(Arena arena, Tensor block, ElementType keyType, int n, int d) {
            boolean integerPath = block.type().isQuantized() && keyType.isQuantized();
            int rows = (int) block.rows();
            return new ScoreRun(OP_DOT, keyType, integerPath, rows, n, d,
                    integerPath ? null : KeyLayout.decoded(arena, block),
                    integerPath ? KeyLayout.codes(arena, block, 0, rows) : null,
                    integerPath ? KeyLayout.scales(arena, block, 0, rows) : null, null, false, TAIL_SCORES, 0, 0, 0);
        }

        static ScoreRun questBound(Arena arena, Tensor block, ElementType keyType, int pages, int d) {
            return new ScoreRun(OP_QUEST_BOUND, keyType, false, (int) block.rows(), pages, d,
                    KeyLayout.decoded(arena, block), null, null, null, false, TAIL_SCORES, 0, 0, 0);
        }

        /** weights holds w's H values, then kScale's n when there is one. */
        static ScoreRun indexer(Arena arena, Tensor heads, Tensor w, Tensor kScale, ElementType keyType, int n, int d) {
            int h = (int) heads.rows();
            MemorySegment weights = arena.allocate((long) (h + (kScale == null ? 0 : n)) * Float.BYTES,
                    KeyLayout.WORD_BYTES);
            for (int i = 0; i < h; i++) {
                weights.setAtIndex(ValueLayout.JAVA_FLOAT, i, w.get(0, i));
            }
            if (kScale != null) {
                for (int i = 0; i < n; i++) {
                    weights.setAtIndex(ValueLayout.JAVA_FLOAT, h + i, kScale.get(0, i));
                }
            }
            boolean integerPath = heads.type().isQuantized() && keyType.isQuantized();
            return new ScoreRun(OP_INDEXER, keyType, integerPath, h, n, d,
                    integerPath ? null : KeyLayout.decoded(arena, heads),
                    integerPath ? KeyLayout.codes(arena, heads, 0, h) : null,
                    integerPath ? KeyLayout.scales(arena, heads, 0, h) : null, weights, kScale != null, TAIL_SCORES,
                    0, 0, 0);
        }
    }

    /**
     * Runs the score kernel once; {@code out}, {@code idx}, {@code val} and {@code bits} (null: a spare) take the
     * tail's result. A NaN a selecting tail met is reported at {@code nanBase} + its position in the run.
     */
    private void runScore(Arena arena, Keys keys, ScoreRun run, long nanBase, XrtBuffer out, XrtBuffer idx,
                          XrtBuffer val, XrtBuffer bits) {
        XrtKernels kernel = scoreKernel;
        try (XrtBuffer qf = uploadOrNull(run.qf(), "qf");
             XrtBuffer qi = uploadOrNull(run.qi(), "qi");
             XrtBuffer qscale = uploadOrNull(run.qscale(), "qscale");
             XrtBuffer weights = uploadOrNull(run.weights(), "weights");
             XrtBuffer status = device.allocate(XrtKernels.STATUS_WORDS * Long.BYTES, kernel, "status")) {
            List<Object> args = new ArrayList<>(List.of(keys.channels().ports()));
            args.addAll(List.of(keys.scales(), orSpare(qf, "qf"), orSpare(qi, "qi"), orSpare(qscale, "qscale"),
                    orSpare(weights, "weights"), orSpare(out, "out"), orSpare(idx, "idx"), orSpare(val, "val"),
                    orSpare(bits, "bits"), status, run.op(), KeyLayout.typeCode(run.keyType()),
                    run.integerPath() ? 1 : 0, run.m(), run.n(), run.d(), keys.rowWords(), keys.row0(), keys.col0(),
                    run.perKeyScale() ? 1 : 0, run.tail(), run.g(), run.k(), run.t()));
            device.run(kernel, args.toArray());
            long[] words = status(arena, status, kernel);
            nanCheck(words, nanBase);
            expect(words, (long) run.rowsOut() * run.n(), kernel);
            lastScoreTrips += words[2];
        }
    }

    /** The run's plain scores, [rowsOut, n] row-major, in host memory. */
    private MemorySegment scores(Arena arena, Keys keys, ScoreRun run) {
        long bytes = (long) run.rowsOut() * run.n() * Float.BYTES;
        try (XrtBuffer out = device.allocate(bytes, scoreKernel, "out")) {
            runScore(arena, keys, run, 0, out, null, null, null);
            return download(arena, out, bytes);
        }
    }

    /** The run's plain scores into rows {@code [from, from + rowsOut)} of {@code s}. */
    private void writeScores(Arena arena, Keys keys, ScoreRun run, Tensor s, long from) {
        MemorySegment got = scores(arena, keys, run);
        int n = run.n();
        for (int j = 0; j < run.rowsOut(); j++) {
            for (int i = 0; i < n; i++) {
                s.set(from + j, i, got.getAtIndex(ValueLayout.JAVA_FLOAT, (long) j * n + i));
            }
        }
    }

    /**
     * A score run ending in a top-k tail (with {@code g > 0}, the groupMax before it), in row blocks of at most
     * {@link #MAX_QUERY_ROWS}: the {@code count} best of each row into idx/val as topK lays them out.
     * {@code ranked} is the length of the rows the tail ranks (n, or the group count).
     */
    int scoreTopK(Tensor q, Tensor keys, Tensor min, Tensor max, Tensor w, Tensor kScale, int op, int g, int ranked,
                  int count, Indices idx, Tensor val) {
        return locked(() -> {
            try (Arena arena = Arena.ofConfined()) {
                lastScoreTrips = 0;
                int d = q.cols();
                int rows = op == OP_INDEXER ? 1 : (int) q.rows();
                int block = op == OP_INDEXER ? rows : MAX_QUERY_ROWS;
                for (int from = 0; from < rows; from += block) {
                    int to = Math.min(rows, from + block);
                    int m = to - from;
                    try (Keys k = op == OP_QUEST_BOUND ? pairsOf(arena, min.columns(from * d, m * d),
                            max.columns(from * d, m * d)) : keysOf(arena, keys);
                         XrtBuffer idxOut = device.allocate((long) m * count * Integer.BYTES, scoreKernel, "idx");
                         XrtBuffer valOut = device.allocate((long) m * count * Float.BYTES, scoreKernel, "val")) {
                        ScoreRun run = switch (op) {
                            case OP_DOT -> ScoreRun.dot(arena, q.rowSlice(from, to), keys.type(), (int) keys.rows(), d);
                            case OP_QUEST_BOUND -> ScoreRun.questBound(arena, q.rowSlice(from, to), k.type(),
                                    (int) min.rows(), d);
                            default -> ScoreRun.indexer(arena, q, w, kScale, keys.type(), (int) keys.rows(), d);
                        };
                        run = run.withTail(g > 0 ? TAIL_GROUP_MAX_TOP_K : TAIL_TOP_K, g, count, 0);
                        runScore(arena, k, run, (long) from * ranked, null, idxOut, valOut, null);
                        copySelection(arena, idxOut, valOut, m, count, from, idx, val);
                    }
                }
                return count;
            }
        });
    }

    /** dot with its threshold tail in one run ({@code q} of at most {@link #MAX_QUERY_ROWS} rows). */
    void dotThreshold(Tensor q, Tensor keys, float t, Bitmap out) {
        locked(() -> {
            int n = (int) keys.rows();
            long total = q.rows() * n;
            long words = Bitmap.wordCount(total);
            try (Arena arena = Arena.ofConfined(); Keys k = keysOf(arena, keys);
                 XrtBuffer bits = device.allocate(words * Long.BYTES, scoreKernel, "bits")) {
                lastScoreTrips = 0;
                ScoreRun run = ScoreRun.dot(arena, q, keys.type(), n, q.cols()).withTail(TAIL_THRESHOLD, 0, 0, t);
                runScore(arena, k, run, 0, null, null, null, bits);
                MemorySegment got = download(arena, bits, words * Long.BYTES);
                for (long w = 0; w < words; w++) {
                    out.setWord(w, got.getAtIndex(ValueLayout.JAVA_LONG, w));
                }
            }
            return null;
        });
    }

    /** Rows {@code [from, from + m)} of a selection, {@code count} a row, from the device into idx/val. */
    private static void copySelection(Arena arena, XrtBuffer idxOut, XrtBuffer valOut, int m, int count, int from,
                                      Indices idx, Tensor val) {
        MemorySegment indices = download(arena, idxOut, (long) m * count * Integer.BYTES);
        MemorySegment values = val == null ? null : download(arena, valOut, (long) m * count * Float.BYTES);
        for (int j = 0; j < m; j++) {
            for (int c = 0; c < count; c++) {
                long at = (long) j * count + c;
                idx.set((int) ((long) (from + j) * count + c), indices.getAtIndex(ValueLayout.JAVA_INT, at));
                if (val != null) {
                    val.set(from + j, c, values.getAtIndex(ValueLayout.JAVA_FLOAT, at));
                }
            }
        }
    }

    private XrtBuffer uploadOrNull(MemorySegment data, String arg) {
        return data == null ? null : upload(data, scoreKernel, arg);
    }

    private XrtBuffer orSpare(XrtBuffer buffer, String arg) {
        return buffer != null ? buffer : spare(scoreKernel, arg);
    }

    /** A small buffer in {@code arg}'s bank for an argument a run does not use (XRT takes every argument). */
    private XrtBuffer spare(XrtKernels kernel, String arg) {
        return spares.computeIfAbsent(kernel.kernelName + "." + arg, key -> device.allocate(64, kernel, arg));
    }

    /** A selecting tail's NaN: only a status the kernel wrote may report one (an unwritten one holds anything). */
    private static void nanCheck(long[] words, long base) {
        if (words[3] == XrtKernels.STATUS_MAGIC && words[1] != 0) {
            throw new NaNInputException("s", base + words[1] - 1);
        }
    }

    private static void zero(Tensor s) {
        for (long j = 0; j < s.rows(); j++) {
            for (int i = 0; i < s.cols(); i++) {
                s.set(j, i, 0f);
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
