package dev.mempipe.core.memory;

import dev.mempipe.core.engine.Engine;

import java.lang.foreign.Arena;

/** Per-call scratch memory of the reads (score rows, top-k output). */
final class Scratch {
    private Scratch() {
    }

    /**
     * A new arena for one call, closed by the caller. Shared, not confined: the CPU backend may split an op
     * over its thread pool, and a confined segment cannot be touched from those threads. Its allocations count
     * against the engine's {@link Engine#memoryBudget()} while the call runs: a read whose scratch would pass it
     * is refused before it allocates, with the numbers.
     */
    static Arena open(Engine engine) {
        return engine.memoryBudget().scratchArena("the scratch of one read (scores and top-k)");
    }
}
