package dev.mempipe.core.model;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.pipeline.KvRows;
import dev.mempipe.core.pipeline.LactPipeline;
import dev.mempipe.core.pipeline.TitansPipeline;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.List;

/**
 * The profile's parametric memories (Titans, LaCT), d = the decoder's hidden width and h = d. A decode step writes
 * its token's (k, v) (Prepare: Titans' gradient step with momentum; LaCT's append, and its update when a chunk
 * completes) and reads {@code M(q)} (Apply). The memory is a fixed set of weights, so a step's cost does not depend
 * on how many tokens it has absorbed: setup writes at most {@value #WRITTEN_AT_MOST} of the context's tokens
 * (random seeded vectors), and the figures say so.
 */
final class ParametricWorkload {
    /** Tokens setup writes at most: one LaCT chunk. */
    static final int WRITTEN_AT_MOST = 2048;
    /** Titans in the profile: the paper's mini-batch form in setup (64 rows per step); each decode step is one. */
    static final int TITANS_SETUP_CHUNK = 64;

    final Runnable step;
    final List<WorkloadFigure> figures;

    private ParametricWorkload(Runnable step, List<WorkloadFigure> figures) {
        this.step = step;
        this.figures = figures;
    }

    static ParametricWorkload create(Workload workload, Engine engine, Arena arena, int d, long context, long seed,
                                     Tensor query) {
        int written = (int) Math.min(context, WRITTEN_AT_MOST);
        Tensor keys = Tensor.allocate(arena, ElementType.F32, written, d);
        Tensor values = Tensor.allocate(arena, ElementType.F32, written, d);
        SeededFill.uniform(keys, SeededFill.derive(seed, 201), 1f);
        SeededFill.uniform(values, SeededFill.derive(seed, 202), 1f);
        Tensor k = Tensor.allocate(arena, ElementType.F32, 1, d);
        Tensor v = Tensor.allocate(arena, ElementType.F32, 1, d);
        SeededFill.uniform(k, SeededFill.derive(seed, 203), 1f);
        SeededFill.uniform(v, SeededFill.derive(seed, 204), 1f);
        KvRows token = new KvRows(k, v);
        String basis = "synthetic: random (k, v); setup writes " + written + " of the " + context
                + " tokens (the weights' size, and so a step's cost, do not depend on the tokens absorbed)";
        WorkloadFigure writtenFigure = new WorkloadFigure("tokens written in setup", written, "tokens", basis);
        return switch (workload) {
            case TITANS -> {
                TitansPipeline.Settings s = TitansPipeline.Settings.DEFAULT;
                TitansPipeline pipeline = new TitansPipeline(engine, d, new TitansPipeline.Settings(d,
                        TITANS_SETUP_CHUNK, s.eta(), s.theta(), s.alpha(), seed), arena);
                pipeline.prepare(new KvRows(keys, values));
                yield new ParametricWorkload(() -> {
                    pipeline.prepare(token);   // one row: one gradient step, the per-token update
                    pipeline.step(query);
                }, List.of(writtenFigure));
            }
            case LACT -> {
                LactPipeline.Settings s = LactPipeline.Settings.DEFAULT;
                LactPipeline pipeline = new LactPipeline(engine, d, new LactPipeline.Settings(d, s.chunk(), s.lr(),
                        s.nsSteps(), seed), arena);
                // one chunk written and its update, timed: decode steps rarely complete a chunk
                long start = System.nanoTime();
                pipeline.prepare(new KvRows(keys, values));   // updates itself when `written` fills the chunk
                pipeline.flush();                             // or here, for a partial chunk
                double update = (System.nanoTime() - start) / 1e9;
                if (pipeline.updates() != 1) {
                    throw new IllegalStateException("LaCT setup ran " + pipeline.updates() + " updates, expected 1");
                }
                String updateBasis = "measured: a " + written + "-token chunk written in setup (copy + one update); "
                        + "model: per token = that / " + s.chunk();
                yield new ParametricWorkload(() -> {
                    pipeline.prepare(token);   // appended; the update runs when the chunk completes
                    pipeline.step(query);
                }, List.of(writtenFigure, new WorkloadFigure("chunk update", update, "s", updateBasis),
                        new WorkloadFigure("update per token, amortized", update / s.chunk(), "s", updateBasis)));
            }
            default -> throw new IllegalArgumentException(workload + " is not a parametric memory");
        };
    }
}
