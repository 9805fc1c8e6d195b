package dev.mempipe.stress;

import dev.mempipe.core.memory.EmbeddingMemory;
import dev.mempipe.spi.Tensor;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.lang.foreign.Arena;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * {@link EmbeddingMemory}: a reader that sees the new length sees the whole vector. The writer appends (4, 4, 4, 4),
 * stored as given (the memory keeps inverse norms beside the rows, it does not normalize them). r1 = length, r2 =
 * elements of the row equal to 4 (-1 when empty).
 */
@JCStressTest
@Description("EmbeddingMemory: length and row during an append")
@Outcome(id = "0, -1", expect = ACCEPTABLE, desc = "before the append")
@Outcome(id = "1, 4", expect = ACCEPTABLE, desc = "after the append, the row whole")
@Outcome(expect = FORBIDDEN, desc = "a length ahead of the data")
@State
public class EmbeddingAppendRead {
    private static final Tensor FOURS = Cpu.row(4, 4f);

    private final EmbeddingMemory memory = new EmbeddingMemory(Arena.ofAuto(), Cpu.ENGINE, 4, 2);

    @Actor
    public void writer() {
        memory.append(FOURS);
    }

    @Actor
    public void reader(II_Result r) {
        Tensor view = memory.vectors();
        r.r1 = (int) view.rows();
        r.r2 = view.rows() == 0 ? -1 : Cpu.countEqual(view, 0, 4f);
    }
}
