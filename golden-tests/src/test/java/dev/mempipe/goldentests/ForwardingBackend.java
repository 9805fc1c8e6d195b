package dev.mempipe.goldentests;

import dev.mempipe.spi.ApplyOps;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.PoolMode;
import dev.mempipe.spi.PrepareOps;
import dev.mempipe.spi.RelevancyOps;
import dev.mempipe.spi.RetrievalOps;
import dev.mempipe.spi.Tensor;

/**
 * A backend that forwards every op to another one; the kit's self-tests override one op family method to
 * plant a bug. Each op family is a forwarding class whose single methods can be overridden.
 */
class ForwardingBackend implements Backend {
    final Backend delegate;
    private final String name;

    ForwardingBackend(String name, Backend delegate) {
        this.name = name;
        this.delegate = delegate;
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
    public void close() {
        delegate.close();
    }

    static class Prepare implements PrepareOps {
        final PrepareOps d;

        Prepare(PrepareOps d) {
            this.d = d;
        }

        @Override
        public void pageMinMax(Tensor keys, int pageSize, Tensor min, Tensor max) {
            d.pageMinMax(keys, pageSize, min, max);
        }

        @Override
        public void pageMinMaxAppend(Tensor keys, long fromRow, int pageSize, Tensor min, Tensor max) {
            d.pageMinMaxAppend(keys, fromRow, pageSize, min, max);
        }

        @Override
        public void pagePool(Tensor keys, int pageSize, PoolMode mode, Tensor out) {
            d.pagePool(keys, pageSize, mode, out);
        }

        @Override
        public void project(Tensor x, Tensor w, Tensor y) {
            d.project(x, w, y);
        }

        @Override
        public void quantize(Tensor x, Tensor q) {
            d.quantize(x, q);
        }

        @Override
        public void dequantize(Tensor q, Tensor y) {
            d.dequantize(q, y);
        }

        @Override
        public void convert(Tensor x, Tensor y) {
            d.convert(x, y);
        }

        @Override
        public void l2Normalize(Tensor x, Tensor y) {
            d.l2Normalize(x, y);
        }

        @Override
        public void rope(Tensor x, Indices positions, float theta, Tensor y) {
            d.rope(x, positions, theta, y);
        }

        @Override
        public Bm25Index bm25Index(Indices offsets, Indices tokens) {
            return d.bm25Index(offsets, tokens);
        }
    }

    static class Relevancy implements RelevancyOps {
        final RelevancyOps d;

        Relevancy(RelevancyOps d) {
            this.d = d;
        }

        @Override
        public void dot(Tensor q, Tensor m, Tensor s) {
            d.dot(q, m, s);
        }

        @Override
        public void cosine(Tensor q, Tensor m, Tensor s) {
            d.cosine(q, m, s);
        }

        @Override
        public void questBound(Tensor q, Tensor min, Tensor max, Tensor s) {
            d.questBound(q, min, max, s);
        }

        @Override
        public void groupMax(Tensor s, int groupSize, Tensor y) {
            d.groupMax(s, groupSize, y);
        }

        @Override
        public void indexerScore(Tensor q, Tensor w, Tensor keys, Tensor kScale, Tensor s) {
            d.indexerScore(q, w, keys, kScale, s);
        }

        @Override
        public void softmax(Tensor s, float scale, Tensor p) {
            d.softmax(s, scale, p);
        }

        @Override
        public void bm25Score(Indices query, Bm25Index index, Bm25Params params, Tensor s) {
            d.bm25Score(query, index, params, s);
        }
    }

    static class Retrieval implements RetrievalOps {
        final RetrievalOps d;

        Retrieval(RetrievalOps d) {
            this.d = d;
        }

        @Override
        public int topK(Tensor s, int k, Indices idx, Tensor val) {
            return d.topK(s, k, idx, val);
        }

        @Override
        public void threshold(Tensor s, float t, Bitmap out) {
            d.threshold(s, t, out);
        }

        @Override
        public int bitmapToIndices(Bitmap bits, Indices out) {
            return d.bitmapToIndices(bits, out);
        }

        @Override
        public int expandBlocks(Indices blocks, int blockSize, long length, int sink, int window, Indices out) {
            return d.expandBlocks(blocks, blockSize, length, sink, window, out);
        }

        @Override
        public void gather(Tensor x, Indices idx, Tensor y) {
            d.gather(x, idx, y);
        }
    }

    static class Apply implements ApplyOps {
        final ApplyOps d;

        Apply(ApplyOps d) {
            this.d = d;
        }

        @Override
        public void attention(Tensor q, Tensor keys, Tensor values, int kvHeads, Indices idx, float scale,
                              Tensor out) {
            d.attention(q, keys, values, kvHeads, idx, scale, out);
        }

        @Override
        public void softRetrieve(Tensor a, Tensor v, Tensor out) {
            d.softRetrieve(a, v, out);
        }
    }
}
