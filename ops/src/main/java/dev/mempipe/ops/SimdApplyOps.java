package dev.mempipe.ops;

import dev.mempipe.spi.ApplyOps;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Tensor;

/** Stage 4 on the Vector API. */
final class SimdApplyOps implements ApplyOps {
    private final Capabilities caps;

    SimdApplyOps(Capabilities caps) {
        this.caps = caps;
    }

    @Override
    public void attention(Tensor q, Tensor keys, Tensor values, int kvHeads, Indices idx, float scale, Tensor out) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public void softRetrieve(Tensor a, Tensor v, Tensor out) {
        throw new UnsupportedOperationException("TODO");
    }
}
