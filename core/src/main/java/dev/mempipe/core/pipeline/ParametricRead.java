package dev.mempipe.core.pipeline;

import dev.mempipe.core.memory.FastWeightMlp;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;

/**
 * The read side both parametric memories (Titans, LaCT) share: Relevancy and Retrieval run nothing (every weight
 * takes part in every read), Apply is {@code f(q)} into scratch that grows to the largest query batch seen.
 */
final class ParametricRead {
    private final FastWeightMlp mlp;
    private final Arena arena;
    private Tensor out;

    ParametricRead(FastWeightMlp mlp, Arena arena) {
        this.mlp = mlp;
        this.arena = arena;
        this.out = Views.f32(arena, 1, mlp.dimension());
    }

    Tensor apply(Tensor queries) {
        mlp.requireRows("queries", queries);
        if (queries.rows() > out.rows()) {
            out = Views.f32(arena, queries.rows(), mlp.dimension());  // the old scratch lives until the arena closes
        }
        Tensor y = out.rowSlice(0, queries.rows());
        mlp.read(queries, y);
        return y;
    }
}
