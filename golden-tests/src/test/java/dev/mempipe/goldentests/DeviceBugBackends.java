package dev.mempipe.goldentests;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.OpArgs;
import dev.mempipe.spi.PrepareOps;
import dev.mempipe.spi.RelevancyOps;
import dev.mempipe.spi.RetrievalOps;
import dev.mempipe.spi.Tensor;
import dev.mempipe.spi.TrainArgs;
import dev.mempipe.spi.TrainOps;

import java.lang.foreign.Arena;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Backends with the bugs real device backends have and the first edition of the kit let through: writes past
 * the returned count, index and accumulator fields too narrow, rare block and tile cases, shared state between
 * threads, work handed to another thread, and a life after {@code close()}. Each wraps the scalar oracle with
 * the kit's {@link ForwardingBackend} and replaces one op.
 */
final class DeviceBugBackends {
    private static final Capabilities ALL = Capabilities.all();

    private DeviceBugBackends() {
    }

    // ---- writes past the returned count ----

    /** topK that copies back its whole device buffer: zeros past the count in the caller's idx. */
    static Backend topKClearsTheWholeIdxBuffer() {
        return new ForwardingBackend("topK-clears-idx-capacity", new ScalarBackend()) {
            @Override
            public RetrievalOps retrieval() {
                return new Retrieval(super.retrieval()) {
                    @Override
                    public int topK(Tensor s, int k, Indices idx, Tensor val) {
                        OpArgs.topK(ALL, s, k, idx, val);
                        idx.data().fill((byte) 0); // the device buffer had the capacity's size
                        return delegate.topK(s, k, idx, val);
                    }
                };
            }
        };
    }

    /** bitmapToIndices with 8-wide vector stores: the last store repeats the last index past the count. */
    static Backend bitmapToIndicesStoresWholeVectors() {
        return new ForwardingBackend("bitmapToIndices-whole-vector-stores", new ScalarBackend()) {
            @Override
            public RetrievalOps retrieval() {
                return new Retrieval(super.retrieval()) {
                    @Override
                    public int bitmapToIndices(dev.mempipe.spi.Bitmap bits, Indices out) {
                        int count = delegate.bitmapToIndices(bits, out);
                        int padded = Math.min(out.length(), (count + 7) / 8 * 8);
                        for (int i = count; i < padded; i++) {
                            out.set(i, count == 0 ? 0 : out.get(count - 1));
                        }
                        return count;
                    }
                };
            }
        };
    }

    // ---- field widths ----

    /** topK that carries each index through an f32 (a GPU kernel packing (score, index) into floats). */
    static Backend topKIndicesThroughFloat() {
        return new ForwardingBackend("topK-index-through-f32", new ScalarBackend()) {
            @Override
            public RetrievalOps retrieval() {
                return new Retrieval(super.retrieval()) {
                    @Override
                    public int topK(Tensor s, int k, Indices idx, Tensor val) {
                        int count = delegate.topK(s, k, idx, val);
                        for (int i = 0; i < count * (int) s.rows(); i++) {
                            idx.set(i, (int) (float) idx.get(i)); // exact only up to 2^24
                        }
                        return count;
                    }
                };
            }
        };
    }

    /** gather with a 16-bit row index register. */
    static Backend gatherIndexIn16Bits() {
        return new ForwardingBackend("gather-16-bit-index", new ScalarBackend()) {
            @Override
            public RetrievalOps retrieval() {
                return new Retrieval(super.retrieval()) {
                    @Override
                    public void gather(Tensor x, Indices idx, Tensor y) {
                        OpArgs.gather(ALL, x, idx, y);
                        int[] rows = idx.toArray();
                        for (int j = 0; j < rows.length; j++) {
                            rows[j] &= 0xFFFF;
                        }
                        try (Arena arena = Arena.ofConfined()) {
                            delegate.gather(x, Indices.of(arena, rows), y);
                        }
                    }
                };
            }
        };
    }

    /** I8 x I8 dot accumulated in a 32-bit int (the natural DSP/SIMD choice): wraps past 2^31. */
    static Backend int8DotAccumulatesInInt32() {
        return new ForwardingBackend("int8-dot-int32-accumulator", new ScalarBackend()) {
            @Override
            public RelevancyOps relevancy() {
                return new Relevancy(super.relevancy()) {
                    @Override
                    public void dot(Tensor q, Tensor m, Tensor s) {
                        if (q.type() != ElementType.I8 || m.type() != ElementType.I8) {
                            delegate.dot(q, m, s);
                            return;
                        }
                        OpArgs.dot(ALL, q, m, s);
                        for (long j = 0; j < q.rows(); j++) {
                            for (int i = 0; i < m.rows(); i++) {
                                int acc = 0;
                                for (int c = 0; c < q.cols(); c++) {
                                    acc += q.code(j, c) * m.code(i, c);
                                }
                                s.set(j, i, (float) (((double) acc * q.scale(j)) * m.scale(i)));
                            }
                        }
                    }
                };
            }
        };
    }

    /** F16 x F16 dot whose running sum is kept in half precision (a tensor-core kernel with an f16 accumulator). */
    static Backend f16DotAccumulatesInHalf() {
        return new ForwardingBackend("f16-dot-f16-accumulator", new ScalarBackend()) {
            @Override
            public RelevancyOps relevancy() {
                return new Relevancy(super.relevancy()) {
                    @Override
                    public void dot(Tensor q, Tensor m, Tensor s) {
                        if (q.type() != ElementType.F16 || m.type() != ElementType.F16) {
                            delegate.dot(q, m, s);
                            return;
                        }
                        OpArgs.dot(ALL, q, m, s);
                        for (long j = 0; j < q.rows(); j++) {
                            for (int i = 0; i < m.rows(); i++) {
                                float acc = 0;
                                for (int c = 0; c < q.cols(); c++) {
                                    acc = Float.float16ToFloat(Float.floatToFloat16(acc + q.get(j, c) * m.get(i, c)));
                                }
                                s.set(j, i, acc);
                            }
                        }
                    }
                };
            }
        };
    }

    /** dequantize that clamps codes to the symmetric range quantize produces: -128 decodes as -127. */
    static Backend dequantizeClampsToSymmetricRange() {
        return new ForwardingBackend("dequantize-symmetric-clamp", new ScalarBackend()) {
            @Override
            public PrepareOps prepare() {
                return new Prepare(super.prepare()) {
                    @Override
                    public void dequantize(Tensor q, Tensor y) {
                        OpArgs.dequantize(ALL, q, y);
                        int max = q.type().maxCode();
                        for (long r = 0; r < q.rows(); r++) {
                            for (int c = 0; c < q.cols(); c++) {
                                y.set(r, c, Math.max(q.code(r, c), -max) * q.scale(r));
                            }
                        }
                    }
                };
            }
        };
    }

    /**
     * I8 dot whose key counter is 24 bits wide (an HLS loop counter declared {@code ap_uint<24>}): key i past 2^24
     * is scored as key {@code i mod 2^24}. Other types take a correct path.
     */
    static Backend int8DotKeyCounterIn24Bits() {
        return new ForwardingBackend("int8-dot-24-bit-key-counter", new ScalarBackend()) {
            @Override
            public RelevancyOps relevancy() {
                return new Relevancy(super.relevancy()) {
                    @Override
                    public void dot(Tensor q, Tensor m, Tensor s) {
                        delegate.dot(q, m, s);
                        if (m.type() != ElementType.I8 || m.rows() <= 1 << 24) {
                            return;
                        }
                        for (long j = 0; j < q.rows(); j++) {
                            for (int i = 1 << 24; i < m.rows(); i++) {
                                s.set(j, i, s.get(j, i & 0xFF_FFFF));
                            }
                        }
                    }
                };
            }
        };
    }

    /** bm25Index packing (term, tf) into one int, the term id in 24 bits: ids past 2^24 alias small ones. */
    static Backend bm25TermIdsIn24Bits() {
        return new ForwardingBackend("bm25-24-bit-term-ids", new ScalarBackend()) {
            @Override
            public PrepareOps prepare() {
                return new Prepare(super.prepare()) {
                    @Override
                    public dev.mempipe.spi.Bm25Index bm25Index(Indices offsets, Indices tokens) {
                        int[] ids = tokens.toArray();
                        for (int i = 0; i < ids.length; i++) {
                            ids[i] &= 0xFF_FFFF;
                        }
                        try (Arena arena = Arena.ofConfined()) {
                            return delegate.bm25Index(offsets, Indices.of(arena, ids));
                        }
                    }
                };
            }
        };
    }

    /** pagePool whose page counter is 16 bits wide: pages past 2^16 are never written. */
    static Backend pagePoolPageCounterIn16Bits() {
        return new ForwardingBackend("pagePool-16-bit-page-counter", new ScalarBackend()) {
            @Override
            public PrepareOps prepare() {
                return new Prepare(super.prepare()) {
                    @Override
                    public void pagePool(Tensor keys, int pageSize, dev.mempipe.spi.PoolMode mode, Tensor out) {
                        long pages = out.rows();
                        if (pages <= 1 << 16) {
                            delegate.pagePool(keys, pageSize, mode, out);
                            return;
                        }
                        OpArgs.pagePool(ALL, keys, pageSize, mode, out);
                        long rows = Math.min(keys.rows(), (long) pageSize << 16);
                        delegate.pagePool(keys.rowSlice(0, rows), pageSize, mode, out.rowSlice(0, 1 << 16));
                    }
                };
            }
        };
    }

    /** F32 mlpForward on tensor cores with a half-precision accumulator (W1 x saturates near 2048). */
    static Backend mlpForwardAccumulatesInHalf() {
        return new ForwardingBackend("mlpForward-f16-accumulator", new ScalarBackend()) {
            @Override
            public TrainOps train() {
                return new Train(super.train()) {
                    @Override
                    public void mlpForward(Tensor x, Tensor w1, Tensor w3, Tensor w2, Tensor y) {
                        TrainArgs.mlpForward(x, w1, w3, w2, y);
                        int h = (int) w1.rows();
                        int d = x.cols();
                        for (long i = 0; i < x.rows(); i++) {
                            float[] g = new float[h];
                            for (int u = 0; u < h; u++) {
                                float a = halfDot(x, i, w1, u, d);
                                float b = halfDot(x, i, w3, u, d);
                                g[u] = a / (1 + (float) Math.exp(-a)) * b;
                            }
                            for (int c = 0; c < d; c++) {
                                float acc = 0;
                                for (int u = 0; u < h; u++) {
                                    acc = half(acc + w2.get(c, u) * g[u]);
                                }
                                y.set(i, c, acc);
                            }
                        }
                    }
                };
            }
        };
    }

    private static float halfDot(Tensor x, long row, Tensor w, int unit, int d) {
        float acc = 0;
        for (int c = 0; c < d; c++) {
            acc = half(acc + x.get(row, c) * w.get(unit, c));
        }
        return acc;
    }

    private static float half(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }

    // ---- rare events ----

    /**
     * Softmax in blocks of 256 whose per-block maximum search stops one element short: a maximum in a block's
     * last element is missed, and far above the others it overflows exp.
     */
    static Backend softmaxMissesTheLastElementOfABlock() {
        return new ForwardingBackend("softmax-block-max-off-by-one", new ScalarBackend()) {
            @Override
            public RelevancyOps relevancy() {
                return new Relevancy(super.relevancy()) {
                    @Override
                    public void softmax(Tensor s, float scale, Tensor p) {
                        OpArgs.softmax(ALL, s, scale, p);
                        int n = s.cols();
                        float max = Float.NEGATIVE_INFINITY;
                        for (int start = 0; start < n; start += 256) {
                            int end = Math.min(n, start + 256);
                            for (int i = start; i < Math.max(start + 1, end - 1); i++) { // the bug: end - 1
                                max = Math.max(max, scale * s.get(0, i));
                            }
                        }
                        float sum = 0;
                        float[] e = new float[n];
                        for (int i = 0; i < n; i++) {
                            e[i] = (float) Math.exp(scale * s.get(0, i) - max);
                            sum += e[i];
                        }
                        for (int i = 0; i < n; i++) {
                            p.set(0, i, e[i] / sum);
                        }
                    }
                };
            }
        };
    }

    /**
     * dot whose remainder tile is wrong only when three remainders meet (queries m % 8 == 7, keys n % 16 == 15,
     * width d % 16 == 1): the last score of the last query repeats the one before it.
     */
    static Backend dotTileRemainderBug() {
        return new ForwardingBackend("dot-tile-remainder", new ScalarBackend()) {
            @Override
            public RelevancyOps relevancy() {
                return new Relevancy(super.relevancy()) {
                    @Override
                    public void dot(Tensor q, Tensor m, Tensor s) {
                        delegate.dot(q, m, s);
                        long rows = q.rows();
                        long keys = m.rows();
                        if (rows % 8 == 7 && keys % 16 == 15 && q.cols() % 16 == 1) {
                            s.set(rows - 1, (int) keys - 1, s.get(rows - 1, (int) keys - 2));
                        }
                    }
                };
            }
        };
    }

    // ---- threads ----

    /** dot that stages the query in one buffer shared by every caller (no lock), as a device upload would. */
    static Backend dotWithASharedStagingBuffer() {
        return new ForwardingBackend("dot-shared-staging-buffer", new ScalarBackend()) {
            private float[] staging = new float[0];

            @Override
            public RelevancyOps relevancy() {
                return new Relevancy(super.relevancy()) {
                    @Override
                    public void dot(Tensor q, Tensor m, Tensor s) {
                        OpArgs.dot(ALL, q, m, s);
                        int d = q.cols();
                        float[] buffer = staging.length >= q.rows() * d ? staging : new float[(int) q.rows() * d];
                        staging = buffer;
                        for (long j = 0; j < q.rows(); j++) {
                            for (int c = 0; c < d; c++) {
                                buffer[(int) j * d + c] = q.get(j, c);
                            }
                        }
                        try {
                            Thread.sleep(1); // the upload and the kernel launch
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        for (long j = 0; j < q.rows(); j++) {
                            for (int i = 0; i < m.rows(); i++) {
                                double acc = 0;
                                for (int c = 0; c < d; c++) {
                                    acc += (double) buffer[(int) j * d + c] * m.get(i, c);
                                }
                                s.set(j, i, (float) acc);
                            }
                        }
                    }
                };
            }
        };
    }

    /** dot that runs every call on its driver thread, which cannot read memory of the caller's confined arena. */
    static Backend dotOnADriverThread() {
        ExecutorService driver = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fake-device-driver");
            t.setDaemon(true);
            return t;
        });
        return new ForwardingBackend("dot-on-driver-thread", new ScalarBackend()) {
            @Override
            public RelevancyOps relevancy() {
                RelevancyOps direct = super.relevancy();
                return new Relevancy(direct) {
                    @Override
                    public void dot(Tensor q, Tensor m, Tensor s) {
                        Future<?> done = driver.submit(() -> direct.dot(q, m, s));
                        try {
                            done.get();
                        } catch (ExecutionException e) {
                            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new IllegalStateException(e);
                        }
                    }
                };
            }

            @Override
            public void close() {
                driver.shutdown();
                super.close();
            }
        };
    }

    /** mlpForward that stages x in one device buffer shared by every caller (no lock). */
    static Backend mlpForwardWithASharedStagingBuffer() {
        return new ForwardingBackend("mlpForward-shared-staging-buffer", new ScalarBackend()) {
            private Tensor staging;

            @Override
            public TrainOps train() {
                return new Train(super.train()) {
                    @Override
                    public void mlpForward(Tensor x, Tensor w1, Tensor w3, Tensor w2, Tensor y) {
                        TrainArgs.mlpForward(x, w1, w3, w2, y);
                        Tensor buffer = staging;
                        if (buffer == null || buffer.rows() != x.rows() || buffer.cols() != x.cols()) {
                            buffer = Tensor.allocate(Arena.global(), ElementType.F32, x.rows(), x.cols());
                            staging = buffer;
                        }
                        for (long r = 0; r < x.rows(); r++) {
                            for (int c = 0; c < x.cols(); c++) {
                                buffer.set(r, c, x.get(r, c));
                            }
                        }
                        try {
                            Thread.sleep(1); // the upload and the kernel launch
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        delegate.mlpForward(buffer, w1, w3, w2, y);
                    }
                };
            }
        };
    }

    /** newtonSchulz that runs on the driver's thread, which cannot read memory of the caller's confined arena. */
    static Backend newtonSchulzOnADriverThread() {
        ExecutorService driver = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fake-train-driver");
            t.setDaemon(true);
            return t;
        });
        return new ForwardingBackend("newtonSchulz-on-driver-thread", new ScalarBackend()) {
            @Override
            public TrainOps train() {
                TrainOps direct = super.train();
                return new Train(direct) {
                    @Override
                    public void newtonSchulz(Tensor g, int steps, Tensor o) {
                        Future<?> done = driver.submit(() -> direct.newtonSchulz(g, steps, o));
                        try {
                            done.get();
                        } catch (ExecutionException e) {
                            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new IllegalStateException(e);
                        }
                    }
                };
            }

            @Override
            public void close() {
                driver.shutdown();
                super.close();
            }
        };
    }

    // ---- lifecycle ----

    /** A backend whose close() releases nothing and marks nothing: ops keep working after it. */
    static Backend opsWorkAfterClose() {
        return new ForwardingBackend("ops-work-after-close", new ScalarBackend()) {
            @Override
            public void close() {
                // the bug: nothing to release, so nothing done, and the contract's IllegalStateException is lost
            }
        };
    }

    /** Instances share one device context, which the first close() releases for all of them. */
    static Backend closeReleasesTheSharedContext() {
        return new SharedContextBackend();
    }

    /**
     * The train ops run on a host fallback with a state of its own, which {@code close()} does not reach: the
     * other families refuse work after it, mlpForward and the rest keep running.
     */
    static Backend trainOpsWorkAfterClose() {
        ScalarBackend fallback = new ScalarBackend(); // the bug: never closed
        return new ForwardingBackend("train-ops-work-after-close", new ScalarBackend()) {
            @Override
            public TrainOps train() {
                return new Train(fallback.train());
            }
        };
    }

    private static final class SharedContextBackend extends ForwardingBackend {
        /** One per process, as a driver's primary context is. */
        private static final ScalarBackend CONTEXT = new ScalarBackend();
        private static volatile boolean contextOpen = true;

        SharedContextBackend() {
            super("close-releases-shared-context", CONTEXT);
            contextOpen = true; // a new instance "retains" the context again (the bug: no reference count)
        }

        @Override
        public RelevancyOps relevancy() {
            return new Relevancy(super.relevancy()) {
                @Override
                public void dot(Tensor q, Tensor m, Tensor s) {
                    if (!contextOpen) {
                        throw new IllegalStateException("device context released");
                    }
                    delegate.dot(q, m, s);
                }
            };
        }

        @Override
        public void close() {
            contextOpen = false; // never closes the shared oracle: later tests would all fail for the wrong reason
        }
    }
}
