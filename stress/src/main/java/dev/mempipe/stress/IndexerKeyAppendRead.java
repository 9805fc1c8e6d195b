package dev.mempipe.stress;

import dev.mempipe.core.memory.IndexerKeyMemory;
import dev.mempipe.spi.ElementType;
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
 * {@link IndexerKeyMemory}: the keys read while a key is appended. Stored as I8, so a key is its quantized bytes
 * and its row scale (its summary: {@code maxabs / 127}); the memory holds a key of 1s, the writer appends a key of
 * 7s. A reader that sees two keys must decode the second to 7 in every element: neither its bytes nor its scale
 * may lag the published length (a missing scale decodes to 0, a missing byte to 0). r1 = keys seen, r2 = elements
 * of the last key seen that decode to its value (1 or 7, within the quantization error).
 */
@JCStressTest
@Description("IndexerKeyMemory: keys read during an append")
@Outcome(id = "1, 4", expect = ACCEPTABLE, desc = "before the append")
@Outcome(id = "2, 4", expect = ACCEPTABLE, desc = "after the append: bytes and row scale whole")
@Outcome(expect = FORBIDDEN, desc = "a length ahead of the key's bytes or of its row scale")
@State
public class IndexerKeyAppendRead {
    private static final int D = 4;
    private static final Tensor ONES = Cpu.row(D, 1f);
    private static final Tensor SEVENS = Cpu.row(D, 7f);

    private final IndexerKeyMemory memory = new IndexerKeyMemory(Arena.ofAuto(), Cpu.ENGINE, D, 4, ElementType.I8);

    public IndexerKeyAppendRead() {
        memory.append(ONES);
    }

    @Actor
    public void writer() {
        memory.append(SEVENS);
    }

    @Actor
    public void reader(II_Result r) {
        Tensor keys = memory.keys();
        long n = keys.rows();
        r.r1 = (int) n;
        float expected = n == 2 ? 7f : 1f;
        int right = 0;
        for (int c = 0; c < D; c++) {
            right += Math.abs(keys.get(n - 1, c) - expected) < 1e-3f * expected ? 1 : 0;
        }
        r.r2 = right;
    }
}
