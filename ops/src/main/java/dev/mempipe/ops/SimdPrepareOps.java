package dev.mempipe.ops;

import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.PoolMode;
import dev.mempipe.spi.PrepareOps;
import dev.mempipe.spi.Tensor;

/** Stage 1 on the Vector API. */
final class SimdPrepareOps implements PrepareOps {
    private final Capabilities caps;

    SimdPrepareOps(Capabilities caps) {
        this.caps = caps;
    }

    @Override
    public void pageMinMax(Tensor keys, int pageSize, Tensor min, Tensor max) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public void pageMinMaxAppend(Tensor keys, long fromRow, int pageSize, Tensor min, Tensor max) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public void pagePool(Tensor keys, int pageSize, PoolMode mode, Tensor out) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public void project(Tensor x, Tensor w, Tensor y) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public void quantize(Tensor x, Tensor q) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public void dequantize(Tensor q, Tensor y) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public void convert(Tensor x, Tensor y) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public void l2Normalize(Tensor x, Tensor y) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public void rope(Tensor x, Indices positions, float theta, Tensor y) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public Bm25Index bm25Index(Indices offsets, Indices tokens) {
        throw new UnsupportedOperationException("TODO");
    }
}
