package dev.mempipe.core.memory;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

import static dev.mempipe.core.memory.StressRace.check;

/**
 * {@link BlockGateMemory} under one writer appending batches of keys (every size around the block size, so appends
 * complete blocks from the remainder, from the input, and both) while two readers do what SeerAttention-R's gate
 * does: take a snapshot and score a query against every head's gate keys ({@code dot}). Every read is checked
 * against the serial model: the gate keys of a memory given all rows at once, themselves checked at the start against
 * a pooling and projection computed in double from the rows. At the snapshot's length, which must be one the memory
 * published between the reader's looks before and after, the blocks are {@code length / B} and their gate keys are
 * the model's bit for bit (never a block counted before its gate key, never a gate key half written), and every
 * score is the model's within the op's error bound. Seeded and scaled as {@link StressRace} says.
 */
class BlockGateMemoryStressTest {
    private static final int KV_HEADS = 2;
    private static final int HEAD_DIM = 5;
    private static final int GATE_DIM = 3;
    /** An odd block size: appends start and end at every offset of a block. */
    private static final int BLOCK = 7;
    private static final int QUERIES = 8;

    @Test
    void every_snapshot_and_gate_score_should_equal_the_serial_model_at_one_published_length() throws Exception {
        long rows = 1400L * StressRace.SCALE;
        SplittableRandom random = new SplittableRandom(StressRace.SEED + 2);
        float[][] keys = StressRace.gaussianRows(random, rows, KV_HEADS * HEAD_DIM);
        float[][] weight = StressRace.gaussianRows(random, GATE_DIM, 3 * HEAD_DIM);         // W [dg, 3d]
        float[][] queries = StressRace.gaussianRows(random, QUERIES, KV_HEADS * GATE_DIM);  // one [dg] per head
        StressRace.Plan plan = StressRace.Plan.batches(random, rows, BLOCK);
        System.out.println("BlockGateMemoryStressTest: " + rows + " tokens in " + plan.batches() + " appends, blocks "
                + "of " + BLOCK + "; " + StressRace.reproduce(getClass()));
        Backend cpu = MemoryTesting.cpu();
        AtomicLong reads = new AtomicLong();
        try (Arena arena = Arena.ofShared()) {
            Tensor keyRows = Tensor.of(arena, StressRace.flat(keys), rows, KV_HEADS * HEAD_DIM);
            Tensor w = Tensor.of(arena, StressRace.flat(weight), GATE_DIM, 3 * HEAD_DIM);
            var atOnce = new BlockGateMemory(arena, MemoryTesting.engine(cpu), KV_HEADS, HEAD_DIM, w, rows, BLOCK);
            atOnce.append(keyRows);
            Tensor model = atOnce.gateKeys(); // (blocks, Hkv*dg), never written again
            checkModel(model, keys, weight);
            float[] modelKeys = model.toFloatArray();
            var memory = new BlockGateMemory(arena, MemoryTesting.engine(cpu), KV_HEADS, HEAD_DIM, w, rows, BLOCK);
            StressRace.Result result = StressRace.run("BlockGateMemory", plan,
                    batch -> memory.append(keyRows.rowSlice(plan.from(batch), plan.to(batch))),
                    memory::length,
                    () -> readAndCheck(memory, cpu, plan, model, modelKeys,
                            queries[(int) (reads.getAndIncrement() % QUERIES)]));
            System.out.println("BlockGateMemoryStressTest: " + result);
        }
    }

    /** One gate read: a snapshot, every head's gate scores, checked against the model. */
    private static boolean readAndCheck(BlockGateMemory memory, Backend cpu, StressRace.Plan plan, Tensor model,
                                        float[] modelKeys, float[] query) {
        long before = memory.length();
        BlockGateMemory.Snapshot snap = memory.snapshot();
        long n = snap.length();
        int blocks = (int) snap.blocks();
        float[] scores = new float[KV_HEADS * blocks];
        try (Arena scratch = Arena.ofConfined()) {
            if (blocks > 0) {
                for (int h = 0; h < KV_HEADS; h++) {
                    Tensor s = Tensor.allocate(scratch, ElementType.F32, 1, blocks); // (1, blocks)
                    float[] q = Arrays.copyOfRange(query, h * GATE_DIM, (h + 1) * GATE_DIM);
                    cpu.relevancy().dot(Tensor.of(scratch, q, 1, GATE_DIM), snap.gateKeys(h), s);
                    System.arraycopy(s.toFloatArray(), 0, scores, h * blocks, blocks);
                }
            }
        }
        MemoryTesting.assertSameBits(model.rowSlice(0, blocks), snap.gateKeys(), "gate keys at length " + n);
        long after = memory.length();
        StressRace.window(plan, before, n, after, "a snapshot");
        check(blocks == n / BLOCK, blocks + " blocks at length " + n);
        int width = KV_HEADS * GATE_DIM;
        for (int h = 0; h < KV_HEADS; h++) {
            for (int b = 0; b < blocks; b++) {
                double dot = 0;
                double magnitude = 0;
                for (int i = 0; i < GATE_DIM; i++) {
                    double term = (double) query[h * GATE_DIM + i] * modelKeys[b * width + h * GATE_DIM + i];
                    dot += term;
                    magnitude += Math.abs(term);
                }
                double error = 4.0 * GATE_DIM * 0x1p-24 * magnitude + 1e-30; // the op's bound, doubled
                float score = scores[h * blocks + b];
                check(Math.abs(score - dot) <= error, "head " + h + " block " + b + " scored " + score
                        + ", the model says " + dot + " at length " + n);
            }
        }
        return before != after;
    }

    /**
     * The model (the at-once memory's gate keys) against the definition in double: per head and block, MAX, MIN and
     * MEAN of the block's rows, concatenated and projected by W; within f32 rounding of the pooling and projection.
     */
    private static void checkModel(Tensor model, float[][] keys, float[][] weight) {
        int blocks = keys.length / BLOCK;
        check(model.rows() == blocks, "the model has " + model.rows() + " blocks, expected " + blocks);
        for (int b = 0; b < blocks; b++) {
            for (int h = 0; h < KV_HEADS; h++) {
                double[] pooled = new double[3 * HEAD_DIM];
                for (int i = 0; i < HEAD_DIM; i++) {
                    double max = Double.NEGATIVE_INFINITY;
                    double min = Double.POSITIVE_INFINITY;
                    double sum = 0;
                    for (int r = b * BLOCK; r < (b + 1) * BLOCK; r++) {
                        double x = keys[r][h * HEAD_DIM + i];
                        max = Math.max(max, x);
                        min = Math.min(min, x);
                        sum += x;
                    }
                    pooled[i] = max;
                    pooled[HEAD_DIM + i] = min;
                    pooled[2 * HEAD_DIM + i] = sum / BLOCK;
                }
                for (int g = 0; g < GATE_DIM; g++) {
                    double dot = 0;
                    double magnitude = 0;
                    for (int j = 0; j < 3 * HEAD_DIM; j++) {
                        dot += weight[g][j] * pooled[j];
                        magnitude += Math.abs(weight[g][j] * pooled[j]);
                    }
                    float got = model.get(b, h * GATE_DIM + g);
                    check(Math.abs(got - dot) <= 1e-5 * magnitude + 1e-6, "the model's gate key of block " + b
                            + " head " + h + " element " + g + " is " + got + ", pooling and projecting in double "
                            + "gives " + dot);
                }
            }
        }
    }
}
