package dev.mempipe.stress;

import dev.mempipe.core.memory.CompressedMemory;
import dev.mempipe.spi.Tensor;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

import java.lang.foreign.Arena;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * {@link CompressedMemory} of capacity 1: an append evicts the held summary (1s) and writes the new one (2s) into the
 * same ring slot. A reader sees the old summary or the new one, whole, with the matching count: r1 = summaries
 * appended, r2 = the sum of the held summary's 8 elements.
 */
@JCStressTest
@Description("CompressedMemory: read during an evicting append")
@Outcome(id = "1, 8", expect = ACCEPTABLE, desc = "the old summary")
@Outcome(id = "2, 16", expect = ACCEPTABLE, desc = "the new summary")
@Outcome(expect = FORBIDDEN, desc = "a summary half overwritten, or a count that does not match it")
@State
public class CompressedEvictRead {
    private static final Tensor ONES = Cpu.row(8, 1f);
    private static final Tensor TWOS = Cpu.row(8, 2f);

    private final CompressedMemory memory = new CompressedMemory(Arena.ofAuto(), Cpu.ENGINE, 8, 1);

    public CompressedEvictRead() {
        memory.append(ONES);
    }

    @Actor
    public void writer() {
        memory.append(TWOS);
    }

    @Actor
    public void reader(JJ_Result r) {
        memory.read(held -> {
            float sum = 0;
            for (int c = 0; c < held.cols(); c++) {
                sum += held.get(0, c);
            }
            r.r1 = memory.appended();
            r.r2 = (long) sum;
            return null;
        });
    }
}
