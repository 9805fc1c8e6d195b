package dev.mempipe.gpu.check;

import dev.mempipe.gpu.GpuBackend;
import dev.mempipe.gpu.GpuDriver;
import dev.mempipe.gpu.KernelArgs;
import dev.mempipe.gpu.KernelCode;
import dev.mempipe.ops.SimdBackend;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.PinnedTensor;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The ratios, each measured within one run on one device (labelled {@code measured}):
 * <ul>
 *   <li>F32 {@code dot} scan read bandwidth (keys bytes / kernel time) against a device-to-device copy's
 *       (bytes read + written) / time: &gt;= 0.8;</li>
 *   <li>BF16 and I8 keys/s against F32: &gt;= 1.7x and &gt;= 3x;</li>
 *   <li>{@code topK} k = 2048 over 2^20 scores against the F32 scan: &lt;= 0.5x its time;</li>
 *   <li>sparse attention (4,096 of 131,072 rows, 32/8 heads, d = 128) against dense: &lt;= 0.1x;</li>
 *   <li>a 16-element {@code dot} through the backend against the bare driver calls it makes: &lt;= 1.5x;</li>
 *   <li>pinned {@code dotTopK} (k = 64) against the CPU backend (reported, no bound).</li>
 * </ul>
 * Kernels are timed at the driver level (launch + synchronize, best of several runs, inputs already on the
 * device) so that the ratios compare kernels, not transfers. On gsim the same code runs at small sizes as a
 * smoke test of the harness; its numbers are the CPU's and are labelled so.
 *
 * <p>Not thread-safe; owns its driver, closed by {@link #close()}.
 */
final class GpuFigures implements AutoCloseable {
    /** Problem sizes: the on a GPU, small ones on gsim. */
    record Sizes(int scanKeys, int d, int topKScores, int topK, int attentionRows, int attentionSelected, int queryHeads,
                 int kvHeads, int launchIterations, int dotTopKKeys, int repeats) {
        static final Sizes GPU = new Sizes(1 << 22, 128, 1 << 20, 2048, 131_072, 4096, 32, 8, 300, 1 << 20, 10);
        static final Sizes GSIM = new Sizes(1 << 12, 128, 1 << 13, 256, 2048, 64, 4, 2, 20, 1 << 12, 2);
    }

    private final GpuDriver driver;
    private final int block;
    private final Sizes sizes;
    private final Map<String, Long> functions = new LinkedHashMap<>();
    private final List<Long> buffers = new ArrayList<>();
    private final Arena arena = Arena.ofConfined();

    GpuFigures(GpuDriver driver, KernelCode.Image image, Sizes sizes) {
        this.driver = driver;
        this.sizes = sizes;
        this.block = 4 * Math.max(1, driver.info().warpSize()); // as GpuBackend
        driver.makeCurrent();
        driver.loadModule(image.bytes());
        for (String k : List.of("mp_dot", "mp_top_k", "mp_attention")) {
            functions.put(k, driver.function(k));
        }
    }

    /** The kernel ratios (driver level). */
    Map<String, Object> kernels() {
        Map<String, Object> out = new LinkedHashMap<>();
        int n = sizes.scanKeys();
        int d = sizes.d();
        long f32Bytes = (long) n * d * Float.BYTES;
        long keysF32 = filled(f32Bytes, ElementType.F32);
        long keysBf16 = filled((long) n * d * 2, ElementType.BF16);
        long keysI8 = filled((long) n * d, ElementType.I8);
        long scales = filled((long) n * Float.BYTES, ElementType.F32);
        long query = filled((long) d * Float.BYTES, ElementType.F32);
        long queryI8 = filled(d, ElementType.I8);
        long queryScale = filled(Float.BYTES, ElementType.F32);
        long scores = alloc((long) n * Float.BYTES);
        long copyTo = alloc(f32Bytes);

        double copy = best(() -> driver.copyOnDevice(keysF32, copyTo, f32Bytes));
        double scanF32 = best(() -> dot(query, 0, ElementType.F32, keysF32, 0, ElementType.F32, n, d, scores));
        double scanBf16 = best(() -> dot(query, 0, ElementType.F32, keysBf16, 0, ElementType.BF16, n, d, scores));
        double scanI8 = best(() -> dot(queryI8, queryScale, ElementType.I8, keysI8, scales, ElementType.I8, n, d, scores));
        double copyBandwidth = 2.0 * f32Bytes / copy;
        double scanBandwidth = f32Bytes / scanF32;
        out.put("scan", Map.of("keys", n, "d", d, "f32_seconds", scanF32, "read_bytes_per_second", scanBandwidth,
                "copy_seconds", copy, "copy_bytes_per_second_read_plus_written", copyBandwidth, "label", "measured"));
        out.put("scan_vs_copy_bandwidth", ratio(scanBandwidth / copyBandwidth, ">= 0.8", scanBandwidth / copyBandwidth >= 0.8));
        out.put("bf16_vs_f32_keys_per_second", ratio(scanF32 / scanBf16, ">= 1.7", scanF32 / scanBf16 >= 1.7));
        out.put("i8_vs_f32_keys_per_second", ratio(scanF32 / scanI8, ">= 3", scanF32 / scanI8 >= 3));

        int m = sizes.topKScores();
        int k = sizes.topK();
        long topScores = filled((long) m * Float.BYTES, ElementType.F32);
        long scratch = alloc((long) k * Long.BYTES);
        long nanAt = alloc(Integer.BYTES);
        long idx = alloc((long) k * Integer.BYTES);
        long val = alloc((long) k * Float.BYTES);
        MemorySegment noNan = arena.allocate(ValueLayout.JAVA_INT);
        noNan.set(ValueLayout.JAVA_INT, 0, Integer.MAX_VALUE);
        double topK = best(() -> {
            driver.copyToDevice(noNan, nanAt, Integer.BYTES);
            launch("mp_top_k", 1, a -> a.pointer(topScores).int64((long) m * Float.BYTES).pointer(0).int32(0).int32(m)
                    .int32(k).pointer(scratch).pointer(nanAt).pointer(idx).pointer(val));
        });
        out.put("topk_vs_scan_seconds", ratio(topK / scanF32, "<= 0.5", topK / scanF32 <= 0.5,
                "topK k=" + k + " over " + m + " scores against the F32 scan of " + n + " keys"));

        int rows = sizes.attentionRows();
        int hq = sizes.queryHeads();
        int hkv = sizes.kvHeads();
        long kvBytes = (long) rows * hkv * d * Float.BYTES;
        long keys = filled(kvBytes, ElementType.F32);
        long values = filled(kvBytes, ElementType.F32);
        long q = filled((long) hq * d * Float.BYTES, ElementType.F32);
        long acc = alloc((long) hq * d * Float.BYTES);
        long o = alloc((long) hq * d * Float.BYTES);
        int selected = sizes.attentionSelected();
        MemorySegment picks = arena.allocate(ValueLayout.JAVA_INT, selected);
        for (int i = 0; i < selected; i++) {
            picks.setAtIndex(ValueLayout.JAVA_INT, i, (int) ((long) i * rows / selected));
        }
        long picked = alloc((long) selected * Integer.BYTES);
        driver.copyToDevice(picks, picked, (long) selected * Integer.BYTES);
        double dense = best(() -> attention(q, keys, values, hq, hkv, d, 0, rows, acc, o));
        double sparse = best(() -> attention(q, keys, values, hq, hkv, d, picked, selected, acc, o));
        out.put("sparse_vs_dense_attention_seconds", ratio(sparse / dense, "<= 0.1", sparse / dense <= 0.1,
                selected + " of " + rows + " rows, " + hq + "/" + hkv + " heads, d=" + d));
        return out;
    }

    /** A 16-element dot through {@code backend} against the bare driver calls it makes, and pinned dotTopK vs the CPU. */
    Map<String, Object> backendLevel(GpuBackend backend) {
        Map<String, Object> out = new LinkedHashMap<>();
        int d = 16;
        try (Arena a = Arena.ofConfined()) {
            Tensor q = random(a, 1, d, 1);
            Tensor m = random(a, 1, d, 2);
            Tensor s = Tensor.allocate(a, ElementType.F32, 1, 1);
            int iterations = sizes.launchIterations();
            double viaBackend = median(iterations, () -> backend.relevancy().dot(q, m, s));
            long function = functions.get("mp_dot");
            double bare = median(iterations, () -> {
                driver.makeCurrent();
                long qd = driver.alloc((long) d * Float.BYTES);
                driver.copyToDevice(q.data(), qd, (long) d * Float.BYTES);
                long md = driver.alloc((long) d * Float.BYTES);
                driver.copyToDevice(m.data(), md, (long) d * Float.BYTES);
                long sd = driver.alloc(Float.BYTES);
                try (Arena local = Arena.ofConfined()) {
                    KernelArgs k = new KernelArgs(local).pointer(qd).int64((long) d * Float.BYTES).pointer(0).int32(0)
                            .pointer(md).int64((long) d * Float.BYTES).pointer(0).int32(0).pointer(0).int32(1).int32(1)
                            .int32(d).pointer(sd).int32(0).int32(0);
                    driver.launch(function, 1, block, k);
                }
                driver.synchronize();
                driver.copyFromDevice(sd, s.data(), Float.BYTES);
                driver.free(qd);
                driver.free(md);
                driver.free(sd);
            });
            out.put("dot16_backend_vs_bare_driver_calls", ratio(viaBackend / bare, "<= 1.5", viaBackend / bare <= 1.5,
                    "median of " + iterations + " calls: backend " + viaBackend + " s, bare " + bare + " s"));

            int n = sizes.dotTopKKeys();
            Tensor keys = random(a, n, 128, 3);
            Tensor query = random(a, 1, 128, 4);
            int k = 64;
            Indices gpuIdx = Indices.allocate(a, k);
            Indices cpuIdx = Indices.allocate(a, k);
            Backend cpu = new SimdBackend();
            try (PinnedTensor pinned = backend.pin(keys)) {
                double onGpu = median(sizes.repeats(), () -> backend.fused().dotTopK(query, pinned.tensor(), k, gpuIdx, null));
                double onCpu = median(sizes.repeats(), () -> cpu.fused().dotTopK(query, keys, k, cpuIdx, null));
                boolean same = Arrays.equals(gpuIdx.data().toArray(ValueLayout.JAVA_INT), cpuIdx.data().toArray(ValueLayout.JAVA_INT));
                out.put("pinned_dotTopK_vs_cpu", Map.of("keys", n, "d", 128, "k", k, "gpu_seconds", onGpu, "cpu_seconds", onCpu,
                        "cpu_over_gpu", onCpu / onGpu, "same_indices", same, "label", "measured (reported, no bound)"));
            } finally {
                cpu.close();
            }
        }
        return out;
    }

    private void dot(long q, long qScales, ElementType qType, long keys, long kScales, ElementType kType, int n, int d,
                     long out) {
        long qStride = (long) d * qType.byteSize();
        long kStride = (long) d * kType.byteSize();
        launch("mp_dot", grid(n), a -> a.pointer(q).int64(qStride).pointer(qScales).int32(qType.ordinal()).pointer(keys)
                .int64(kStride).pointer(kScales).int32(kType.ordinal()).pointer(0).int32(1).int32(n).int32(d)
                .pointer(out).int32(ElementType.F32.ordinal()).int32(0));
    }

    private void attention(long q, long keys, long values, int hq, int hkv, int d, long idx, int selected, long acc, long o) {
        long kvStride = (long) hkv * d * Float.BYTES;
        launch("mp_attention", hq, a -> a.pointer(q).int64((long) d * Float.BYTES).pointer(0).int32(0).pointer(keys)
                .int64(kvStride).pointer(0).int32(0).pointer(values).int64(kvStride).pointer(0).int32(0)
                .int32(hq / hkv).int32(d).pointer(idx).int32(selected).f32((float) (1 / Math.sqrt(d))).pointer(acc)
                .pointer(o).int32(0));
    }

    private void launch(String kernel, int grid, java.util.function.Consumer<KernelArgs> args) {
        try (Arena local = Arena.ofConfined()) {
            KernelArgs a = new KernelArgs(local);
            args.accept(a);
            driver.launch(functions.get(kernel), grid, block, a);
            driver.synchronize();
        }
    }

    private int grid(long work) {
        return (int) Math.max(1, Math.min(1 << 16, (work + block - 1) / block));
    }

    private long alloc(long bytes) {
        long p = driver.alloc(Math.max(1, bytes));
        buffers.add(p);
        return p;
    }

    /** Device memory of {@code bytes} filled with finite values of {@code type} (a seeded 1 MiB block repeated). */
    private long filled(long bytes, ElementType type) {
        long p = alloc(bytes);
        int chunk = (int) Math.min(bytes, 1 << 20);
        MemorySegment block = arena.allocate(chunk, 8);
        SplittableRandom r = new SplittableRandom(42);
        for (int i = 0; i + type.byteSize() <= chunk; i += type.byteSize()) {
            float v = (float) (r.nextDouble() * 2 - 1);
            switch (type) {
                case F32 -> block.set(ValueLayout.JAVA_FLOAT_UNALIGNED, i, v);
                case BF16 -> block.set(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) (Float.floatToRawIntBits(v) >>> 16));
                case I8 -> block.set(ValueLayout.JAVA_BYTE, i, (byte) r.nextInt(-127, 128));
                default -> throw new IllegalArgumentException("no fill for " + type);
            }
        }
        for (long at = 0; at < bytes; at += chunk) {
            driver.copyToDevice(block, p + at, Math.min(chunk, bytes - at));
        }
        return p;
    }

    private static Tensor random(Arena a, long rows, int cols, long seed) {
        Tensor t = Tensor.allocate(a, ElementType.F32, rows, cols);
        SplittableRandom r = new SplittableRandom(seed);
        MemorySegment data = t.data();
        for (long i = 0; i < rows * cols; i++) {
            data.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (r.nextDouble() * 2 - 1));
        }
        return t;
    }

    /** The best (shortest) of {@code repeats} timed runs after one warm-up, in seconds. */
    private double best(Runnable run) {
        run.run();
        long best = Long.MAX_VALUE;
        for (int i = 0; i < sizes.repeats(); i++) {
            long start = System.nanoTime();
            run.run();
            best = Math.min(best, System.nanoTime() - start);
        }
        return best / 1e9;
    }

    private static double median(int runs, Runnable run) {
        run.run();
        long[] t = new long[runs];
        for (int i = 0; i < runs; i++) {
            long start = System.nanoTime();
            run.run();
            t[i] = System.nanoTime() - start;
        }
        Arrays.sort(t);
        return t[runs / 2] / 1e9;
    }

    private static Map<String, Object> ratio(double value, String bound, boolean met) {
        return ratio(value, bound, met, null);
    }

    private static Map<String, Object> ratio(double value, String bound, boolean met, String what) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("ratio", value);
        r.put("bound", bound);
        r.put("met", met);
        if (what != null) {
            r.put("what", what);
        }
        r.put("label", "measured");
        return r;
    }

    @Override
    public void close() {
        try {
            driver.makeCurrent();
            for (long p : buffers) {
                driver.free(p);
            }
        } finally {
            arena.close();
            driver.close();
        }
    }
}
