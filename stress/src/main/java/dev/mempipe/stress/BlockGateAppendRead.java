package dev.mempipe.stress;

import dev.mempipe.core.memory.BlockGateMemory;
import dev.mempipe.spi.Tensor;
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
 * {@link BlockGateMemory}: a snapshot taken while an append completes a block. Blocks of 2 tokens, 2 KV heads of
 * d = 2, a gate weight of 1s {@code [2, 6]}, so a gate key element is {@code sum(max) + sum(min) + sum(mean)} of its
 * head. The memory holds one token of 1s (a partial block, no gate key yet); the writer appends a token of 3s,
 * which completes the block and pools it: every one of its 4 gate-key elements is {@code 6 + 2 + 4 = 12}. A snapshot
 * that counts the block must see all 4 elements at 12: the count is never ahead of the pooled summary, nor the
 * summary half written. r1 = tokens, r2 = blocks, r3 = gate-key elements of block 0 equal to 12 (-1 with no block).
 */
@JCStressTest
@Description("BlockGateMemory: snapshot during an append that completes a block")
@Outcome(id = "1, 0, -1", expect = ACCEPTABLE, desc = "before the append: a partial block, no gate key")
@Outcome(id = "2, 1, 4", expect = ACCEPTABLE, desc = "after the append: the block's gate key whole")
@Outcome(expect = FORBIDDEN, desc = "a block counted before its gate key is written, or a gate key half written")
@State
public class BlockGateAppendRead {
    private static final int HEADS = 2;
    private static final int D = 2;
    private static final int GATE = 2;
    private static final Tensor ONES = Cpu.row(HEADS * D, 1f);
    private static final Tensor THREES = Cpu.row(HEADS * D, 3f);
    private static final Tensor WEIGHT = Tensor.of(Arena.global(), new float[GATE * 3 * D], GATE, 3 * D);

    static {
        for (int r = 0; r < GATE; r++) {
            for (int c = 0; c < 3 * D; c++) {
                WEIGHT.set(r, c, 1f);
            }
        }
    }

    private final BlockGateMemory memory = new BlockGateMemory(Arena.ofAuto(), Cpu.ENGINE, HEADS, D, WEIGHT, 4, 2);

    public BlockGateAppendRead() {
        memory.append(ONES);
    }

    @Actor
    public void writer() {
        memory.append(THREES);
    }

    @Actor
    public void reader(III_Result r) {
        BlockGateMemory.Snapshot s = memory.snapshot();
        r.r1 = (int) s.length();
        r.r2 = (int) s.blocks();
        r.r3 = s.blocks() == 0 ? -1 : Cpu.countEqual(s.gateKeys(), 0, 12f);
    }
}
