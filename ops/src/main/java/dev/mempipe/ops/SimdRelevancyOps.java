package dev.mempipe.ops;

import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.RelevancyOps;
import dev.mempipe.spi.Tensor;

/** Stage 2 on the Vector API. */
final class SimdRelevancyOps implements RelevancyOps {
    private final Capabilities caps;

    SimdRelevancyOps(Capabilities caps) {
        this.caps = caps;
    }

    @Override
    public void dot(Tensor q, Tensor m, Tensor s) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public void cosine(Tensor q, Tensor m, Tensor s) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public void questBound(Tensor q, Tensor min, Tensor max, Tensor s) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public void groupMax(Tensor s, int groupSize, Tensor y) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public void indexerScore(Tensor q, Tensor w, Tensor keys, Tensor kScale, Tensor s) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public void softmax(Tensor s, float scale, Tensor p) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public void bm25Score(Indices query, Bm25Index index, Bm25Params params, Tensor s) {
        throw new UnsupportedOperationException("TODO");
    }
}
