package dev.mempipe.stress;

import dev.mempipe.core.memory.PagedKvMemory;
import dev.mempipe.spi.Tensor;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.lang.foreign.Arena;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * {@link PagedKvMemory}: a reader's snapshot taken while a token is appended to a partial page. The page already
 * holds a row of 1s; the writer appends a row of 7s. A snapshot that counts two tokens must see the new key whole and
 * a page max of 7 in every element: the count is never ahead of the data or of the summary. One that counts one
 * token sees the old key, and a page max whose elements are each 1 or 7: the memory's documented contract lets the
 * partial last page of a snapshot widen while the next append merges into it, element by element (this test found
 * that the widening is seen element by element, which the contract allows: every element stays at least the max of
 * the snapshot's rows, so the summary stays a valid Quest bound). Anything else, say a torn element, is forbidden.
 * (The reader copies the row once: counting it in several passes would see the writer between the passes.)
 * r1 = tokens, r2 = elements of the last key that are right, r3 = elements of the page max equal to 7 when the
 * others are 1, else 100 + 10 * (elements that are 0) + (elements that are neither 0, 1 nor 7).
 */
@JCStressTest
@Description("PagedKvMemory: snapshot during an append to a partial page")
@Outcome(id = "1, 4, 0", expect = ACCEPTABLE, desc = "before the append")
@Outcome(id = {"1, 4, 1", "1, 4, 2", "1, 4, 3", "1, 4, 4"}, expect = ACCEPTABLE_INTERESTING,
        desc = "old length, the partial page's max widening element by element (documented; a valid bound)")
@Outcome(id = "2, 4, 4", expect = ACCEPTABLE, desc = "after the append: key and summary whole")
@Outcome(expect = FORBIDDEN, desc = "a length ahead of the key, or a page summary half updated")
@State
public class PagedKvAppendRead {
    private static final int D = 4;
    private static final Tensor ONES = Cpu.row(D, 1f);
    private static final Tensor SEVENS = Cpu.row(D, 7f);

    private final PagedKvMemory memory = new PagedKvMemory(Arena.ofAuto(), Cpu.ENGINE, 1, D, 4, Cpu.F32, 4);

    public PagedKvAppendRead() {
        memory.append(ONES, ONES);
    }

    @Actor
    public void writer() {
        memory.append(SEVENS, SEVENS);
    }

    @Actor
    public void reader(III_Result r) {
        PagedKvMemory.Snapshot s = memory.snapshot();
        r.r1 = (int) s.length();
        r.r2 = Cpu.countEqual(s.keys(), s.length() - 1, s.length() == 2 ? 7f : 1f);
        float[] max = s.pageMax().rowSlice(0, 1).toFloatArray(); // each element read once
        int sevens = 0;
        int ones = 0;
        int zeros = 0;
        for (float v : max) {
            sevens += v == 7f ? 1 : 0;
            ones += v == 1f ? 1 : 0;
            zeros += v == 0f ? 1 : 0;
        }
        r.r3 = sevens + ones == D ? sevens : 100 + 10 * zeros + (D - sevens - ones - zeros);
    }
}
