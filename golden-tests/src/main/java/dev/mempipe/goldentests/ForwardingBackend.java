package dev.mempipe.goldentests;

import dev.mempipe.spi.ApplyOps;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.DeviceCounters;
import dev.mempipe.spi.DeviceDescription;
import dev.mempipe.spi.PinnedBm25Index;
import dev.mempipe.spi.PinnedTensor;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.MlpLoss;
import dev.mempipe.spi.PoolMode;
import dev.mempipe.spi.PrepareOps;
import dev.mempipe.spi.RelevancyOps;
import dev.mempipe.spi.RetrievalOps;
import dev.mempipe.spi.Tensor;
import dev.mempipe.spi.TrainOps;

/**
 * A backend that forwards every op to another one, so that a test can replace one op and keep the rest: wrap
 * the CPU backend (or the kit's {@link ScalarBackend}) and override the op your device runs, or plant a bug
 * in one op to see that the kit catches it. Each op family is a forwarding class whose methods can be
 * overridden one at a time:
 * <pre>{@code
 * Backend withMyGather = new ForwardingBackend("my-gather", new ScalarBackend()) {
 *     public RetrievalOps retrieval() {
 *         return new Retrieval(super.retrieval()) {
 *             public void gather(Tensor x, Indices idx, Tensor y) { myDevice.gather(x, idx, y); }
 *         };
 *     }
 * };
 * }</pre>
 * Capabilities, description, device description, counters, pins and {@link #close()} go to the delegate.
 * {@link #fused()} is the default composition of <em>this</em> backend's ops, so an overridden op is used by
 * the fused ops too; override it to reach the delegate's own fused kernels.
 *
 * <p>Thread-safety and lifecycle are the delegate's: the wrapper holds nothing of its own.
 */
public class ForwardingBackend implements Backend {
    /** The backend every op not overridden goes to. */
    protected final Backend delegate;
    private final String name;

    /** Forwards to {@code delegate} under the name {@code name}. */
    public ForwardingBackend(String name, Backend delegate) {
        this.name = java.util.Objects.requireNonNull(name, "name");
        this.delegate = java.util.Objects.requireNonNull(delegate, "delegate");
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return name + " over " + delegate.description();
    }

    @Override
    public Capabilities capabilities() {
        return delegate.capabilities();
    }

    @Override
    public DeviceDescription deviceDescription() {
        return delegate.deviceDescription();
    }

    @Override
    public PinnedTensor pin(Tensor host) {
        return delegate.pin(host);
    }

    @Override
    public PinnedBm25Index pin(Bm25Index index) {
        return delegate.pin(index);
    }

    @Override
    public DeviceCounters counters() {
        return delegate.counters();
    }

    @Override
    public PrepareOps prepare() {
        return new Prepare(delegate.prepare());
    }

    @Override
    public RelevancyOps relevancy() {
        return new Relevancy(delegate.relevancy());
    }

    @Override
    public RetrievalOps retrieval() {
        return new Retrieval(delegate.retrieval());
    }

    @Override
    public ApplyOps apply() {
        return new Apply(delegate.apply());
    }

    @Override
    public TrainOps train() {
        return new Train(delegate.train());
    }

    @Override
    public void close() {
        delegate.close();
    }

    /** Forwards every {@link PrepareOps} method to {@link #delegate}; override the ones to replace. */
    public static class Prepare implements PrepareOps {
        /** Where the methods not overridden go. */
        protected final PrepareOps delegate;

        public Prepare(PrepareOps delegate) {
            this.delegate = java.util.Objects.requireNonNull(delegate, "delegate");
        }

        @Override
        public void pageMinMax(Tensor keys, int pageSize, Tensor min, Tensor max) {
            delegate.pageMinMax(keys, pageSize, min, max);
        }

        @Override
        public void pageMinMaxAppend(Tensor keys, long fromRow, int pageSize, Tensor min, Tensor max) {
            delegate.pageMinMaxAppend(keys, fromRow, pageSize, min, max);
        }

        @Override
        public void pagePool(Tensor keys, int pageSize, PoolMode mode, Tensor out) {
            delegate.pagePool(keys, pageSize, mode, out);
        }

        @Override
        public void project(Tensor x, Tensor w, Tensor y) {
            delegate.project(x, w, y);
        }

        @Override
        public void quantize(Tensor x, Tensor q) {
            delegate.quantize(x, q);
        }

        @Override
        public void dequantize(Tensor q, Tensor y) {
            delegate.dequantize(q, y);
        }

        @Override
        public void convert(Tensor x, Tensor y) {
            delegate.convert(x, y);
        }

        @Override
        public void l2Normalize(Tensor x, Tensor y) {
            delegate.l2Normalize(x, y);
        }

        @Override
        public void rope(Tensor x, Indices positions, float theta, Tensor y) {
            delegate.rope(x, positions, theta, y);
        }

        @Override
        public Bm25Index bm25Index(Indices offsets, Indices tokens) {
            return delegate.bm25Index(offsets, tokens);
        }
    }

    /** Forwards every {@link RelevancyOps} method to {@link #delegate}; override the ones to replace. */
    public static class Relevancy implements RelevancyOps {
        /** Where the methods not overridden go. */
        protected final RelevancyOps delegate;

        public Relevancy(RelevancyOps delegate) {
            this.delegate = java.util.Objects.requireNonNull(delegate, "delegate");
        }

        @Override
        public void dot(Tensor q, Tensor m, Tensor s) {
            delegate.dot(q, m, s);
        }

        @Override
        public void dotRows(Tensor q, Tensor keys, Indices rowIds, Tensor s) {
            delegate.dotRows(q, keys, rowIds, s);
        }

        @Override
        public void codeDotRows(Tensor queryCodes, Tensor codes, int bits, Indices rowIds, Tensor s) {
            delegate.codeDotRows(queryCodes, codes, bits, rowIds, s);
        }

        @Override
        public void cosine(Tensor q, Tensor m, Tensor s) {
            delegate.cosine(q, m, s);
        }

        @Override
        public void questBound(Tensor q, Tensor min, Tensor max, Tensor s) {
            delegate.questBound(q, min, max, s);
        }

        @Override
        public void groupMax(Tensor s, int groupSize, Tensor y) {
            delegate.groupMax(s, groupSize, y);
        }

        @Override
        public void indexerScore(Tensor q, Tensor w, Tensor keys, Tensor kScale, Tensor s) {
            delegate.indexerScore(q, w, keys, kScale, s);
        }

        @Override
        public void softmax(Tensor s, float scale, Tensor p) {
            delegate.softmax(s, scale, p);
        }

        @Override
        public void bm25Score(Indices query, Bm25Index index, Bm25Params params, Tensor s) {
            delegate.bm25Score(query, index, params, s);
        }
    }

    /** Forwards every {@link RetrievalOps} method to {@link #delegate}; override the ones to replace. */
    public static class Retrieval implements RetrievalOps {
        /** Where the methods not overridden go. */
        protected final RetrievalOps delegate;

        public Retrieval(RetrievalOps delegate) {
            this.delegate = java.util.Objects.requireNonNull(delegate, "delegate");
        }

        @Override
        public int topK(Tensor s, int k, Indices idx, Tensor val) {
            return delegate.topK(s, k, idx, val);
        }

        @Override
        public void threshold(Tensor s, float t, Bitmap out) {
            delegate.threshold(s, t, out);
        }

        @Override
        public int bitmapToIndices(Bitmap bits, Indices out) {
            return delegate.bitmapToIndices(bits, out);
        }

        @Override
        public int expandBlocks(Indices blocks, int blockSize, long length, int sink, int window, Indices out) {
            return delegate.expandBlocks(blocks, blockSize, length, sink, window, out);
        }

        @Override
        public void gather(Tensor x, Indices idx, Tensor y) {
            delegate.gather(x, idx, y);
        }
    }

    /** Forwards every {@link ApplyOps} method to {@link #delegate}; override the ones to replace. */
    public static class Apply implements ApplyOps {
        /** Where the methods not overridden go. */
        protected final ApplyOps delegate;

        public Apply(ApplyOps delegate) {
            this.delegate = java.util.Objects.requireNonNull(delegate, "delegate");
        }

        @Override
        public void attention(Tensor q, Tensor keys, Tensor values, int kvHeads, Indices idx, float scale,
                              Tensor out) {
            delegate.attention(q, keys, values, kvHeads, idx, scale, out);
        }

        @Override
        public void softRetrieve(Tensor a, Tensor v, Tensor out) {
            delegate.softRetrieve(a, v, out);
        }
    }

    /** Forwards every {@link TrainOps} method to {@link #delegate}; override the ones to replace. */
    public static class Train implements TrainOps {
        /** Where the methods not overridden go. */
        protected final TrainOps delegate;

        public Train(TrainOps delegate) {
            this.delegate = java.util.Objects.requireNonNull(delegate, "delegate");
        }

        @Override
        public void mlpForward(Tensor x, Tensor w1, Tensor w3, Tensor w2, Tensor y) {
            delegate.mlpForward(x, w1, w3, w2, y);
        }

        @Override
        public void mlpGradient(Tensor x, Tensor t, Tensor w1, Tensor w3, Tensor w2, MlpLoss loss, Tensor g1,
                                Tensor g3, Tensor g2) {
            delegate.mlpGradient(x, t, w1, w3, w2, loss, g1, g3, g2);
        }

        @Override
        public void momentumUpdate(Tensor w, Tensor g, Tensor s, float eta, float theta, float alpha) {
            delegate.momentumUpdate(w, g, s, eta, theta, alpha);
        }

        @Override
        public void newtonSchulz(Tensor g, int steps, Tensor o) {
            delegate.newtonSchulz(g, steps, o);
        }
    }
}
