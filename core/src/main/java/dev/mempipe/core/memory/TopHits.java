package dev.mempipe.core.memory;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;

/** Runs {@code topK} over a score row through the engine and turns its output into {@link Hits}. */
final class TopHits {
    private TopHits() {
    }

    /**
     * The best {@code min(k, n)} of {@code scores [1, n]}; ids are positions in the row plus {@code idBase}.
     *
     * @param scratch where the op's outputs are allocated (the caller closes it)
     */
    static Hits of(Engine engine, Tensor scores, int k, int idBase, Arena scratch) {
        int n = scores.cols();
        if (n == 0) {
            return Hits.empty();
        }
        int count = Math.min(k, n);
        Indices idx = Indices.allocate(scratch, count);
        Tensor val = Tensor.allocate(scratch, ElementType.F32, 1, count);
        int found = engine.run(Op.TOP_K, OpCosts.topK(n, count, scores.type(), true),
                b -> b.retrieval().topK(scores, k, idx, val));
        int[] ids = new int[found];
        float[] best = new float[found];
        for (int i = 0; i < found; i++) {
            ids[i] = idx.get(i) + idBase;
            best[i] = val.get(0, i);
        }
        return new Hits(ids, best);
    }
}
