package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.Hits;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;

/** The Retrieval step of the RAG workloads: {@code topK} over a score row into {@link Hits}, with scratch allocated once. */
final class Ranking {
    private final Engine engine;
    private final Indices idx;  // (k)
    private final Tensor val;   // (1, k)

    Ranking(Engine engine, int k, Arena arena) {
        this.engine = engine;
        this.idx = Indices.allocate(arena, k);
        this.val = Tensor.allocate(arena, ElementType.F32, 1, k);
    }

    /** A fused scoring + top-k call: writes {@code k} results into {@code idx}/{@code val}, returns the count. */
    @FunctionalInterface
    interface FusedTopK {
        int run(dev.mempipe.spi.Backend backend, int k, Indices idx, Tensor val);
    }

    /**
     * The best {@code k} by a fused scoring + top-k op, run as one Relevancy record (labelled with the fused op's
     * name) whose cost is {@code scoring} plus the top-k over {@code n} scores.
     */
    Hits fused(String label, int n, int k, dev.mempipe.core.profile.OpCost scoring, FusedTopK op) {
        int kk = Math.min(k, idx.length());
        int found = engine.run(dev.mempipe.spi.Step.RELEVANCY, label,
                scoring.plus(OpCosts.topK(n, kk, ElementType.F32, true)), b -> op.run(b, kk, idx, val));
        int[] ids = new int[found];
        float[] best = new float[found];
        for (int i = 0; i < found; i++) {
            ids[i] = idx.get(i);
            best[i] = val.get(0, i);
        }
        return new Hits(ids, best);
    }

    /** The best {@code min(k, n)} of {@code scores (1, n)}; ids are positions in the row. */
    Hits top(Tensor scores) {
        int n = scores.cols();
        if (n == 0) {
            return new Hits(new int[0], new float[0]);
        }
        int k = Math.min(idx.length(), n);
        int found = engine.run(Op.TOP_K, OpCosts.topK(n, k, ElementType.F32, true),
                b -> b.retrieval().topK(scores, k, idx, val));
        int[] ids = new int[found];
        float[] best = new float[found];
        for (int i = 0; i < found; i++) {
            ids[i] = idx.get(i);
            best[i] = val.get(0, i);
        }
        return new Hits(ids, best);
    }
}
