package dev.mempipe.ops;

import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.RetrievalOps;
import dev.mempipe.spi.Tensor;

/** Stage 3 on the Vector API. */
final class SimdRetrievalOps implements RetrievalOps {
    private final Capabilities caps;

    SimdRetrievalOps(Capabilities caps) {
        this.caps = caps;
    }

    @Override
    public int topK(Tensor s, int k, Indices idx, Tensor val) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public void threshold(Tensor s, float t, Bitmap out) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public int bitmapToIndices(Bitmap bits, Indices out) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public int expandBlocks(Indices blocks, int blockSize, long length, int sink, int window, Indices out) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public void gather(Tensor x, Indices idx, Tensor y) {
        throw new UnsupportedOperationException("TODO");
    }
}
