package dev.mempipe.stress;

import dev.mempipe.core.memory.Bm25Memory;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.lang.foreign.Arena;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * {@link Bm25Memory}: a reader that counts the new document sees its tokens and offsets, and an index over it. The
 * writer appends the document (5, 5, 9). r1 = documents, r2 = the sum of the last document's term ids (-1 when
 * empty), r3 = documents in the BM25 index built now.
 */
@JCStressTest
@Description("Bm25Memory: document count, tokens and index during an append")
@Outcome(id = "0, -1, 0", expect = ACCEPTABLE, desc = "before the append")
@Outcome(id = "1, 19, 1", expect = ACCEPTABLE, desc = "after the append, whole")
@Outcome(expect = FORBIDDEN, desc = "a count ahead of the tokens or offsets, or an index that disagrees")
@State
public class Bm25AppendRead {
    private final Bm25Memory memory = new Bm25Memory(Arena.ofAuto(), Cpu.ENGINE, 2, 8);

    @Actor
    public void writer() {
        memory.append(new int[] {5, 5, 9});
    }

    @Actor
    public void reader(III_Result r) {
        int n = memory.documentCount();
        r.r1 = n;
        int sum = -1;
        if (n > 0) {
            sum = 0;
            for (int t : memory.document(n - 1)) {
                sum += t;
            }
        }
        r.r2 = sum;
        r.r3 = n == 0 ? 0 : memory.index().numDocs();
    }
}
