package dev.mempipe.core.memory;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

import static dev.mempipe.core.memory.StressRace.check;

/**
 * {@link IndexerKeyMemory} (I8 storage: quantized bytes and one scale per row) under one writer appending batches of
 * keys while two readers do what DeepSeek DSA's lightning indexer does: take the keys view and score every token
 * against a query of H heads ({@code indexerScore}, the view's row scales read as they are). Every read is checked
 * against the serial model, the appended rows quantized one by one ({@code Tensor.encode}): at the view's length,
 * which must be one the memory published between the reader's looks before and after, every row's bytes and scale
 * are the model's (never a row counted before its bytes or its scale), and every score is the model's
 * {@code sum_h w_h ReLU(<q_h, K_t>)} within the op's error bound. Seeded and scaled as {@link StressRace} says.
 */
class IndexerKeyMemoryStressTest {
    /** An awkward key width: not a multiple of any vector length. */
    private static final int INDEX_DIM = 13;
    private static final int HEADS = 4;
    private static final int QUERIES = 8;

    @Test
    void every_view_and_indexer_score_should_equal_the_serial_model_at_one_published_length() throws Exception {
        long rows = 1500L * StressRace.SCALE;
        SplittableRandom random = new SplittableRandom(StressRace.SEED + 1);
        float[][] keys = StressRace.gaussianRows(random, rows, INDEX_DIM);
        float[][] queries = StressRace.gaussianRows(random, QUERIES, HEADS * INDEX_DIM); // [H, dI] each
        float[] weights = StressRace.gaussianRows(random, 1, HEADS)[0];                  // [1, H]
        StressRace.Plan plan = StressRace.Plan.batches(random, rows, 8);
        System.out.println("IndexerKeyMemoryStressTest: " + rows + " I8 keys of " + INDEX_DIM + " in " + plan.batches()
                + " appends; " + StressRace.reproduce(getClass()));
        Backend cpu = MemoryTesting.cpu();
        AtomicLong reads = new AtomicLong();
        try (Arena arena = Arena.ofShared()) {
            Tensor keyRows = Tensor.of(arena, StressRace.flat(keys), rows, INDEX_DIM);
            Tensor model = Tensor.encode(arena, ElementType.I8, StressRace.flat(keys), rows, INDEX_DIM);
            float[][] decoded = decode(model);
            var memory = new IndexerKeyMemory(arena, MemoryTesting.engine(cpu), INDEX_DIM, rows, ElementType.I8);
            StressRace.Result result = StressRace.run("IndexerKeyMemory", plan,
                    batch -> memory.append(keyRows.rowSlice(plan.from(batch), plan.to(batch))),
                    memory::length,
                    () -> readAndCheck(memory, cpu, plan, model, decoded,
                            queries[(int) (reads.getAndIncrement() % QUERIES)], weights));
            System.out.println("IndexerKeyMemoryStressTest: " + result);
        }
    }

    /** One indexer read: the keys view, the scores of every token, checked against the model. */
    private static boolean readAndCheck(IndexerKeyMemory memory, Backend cpu, StressRace.Plan plan, Tensor model,
                                        float[][] decoded, float[] query, float[] weights) {
        long before = memory.length();
        Tensor view = memory.keys();
        long n = view.rows();
        float[] scores = new float[0];
        try (Arena scratch = Arena.ofConfined()) {
            if (n > 0) {
                Tensor s = Tensor.allocate(scratch, ElementType.F32, 1, (int) n); // (1, n)
                cpu.relevancy().indexerScore(Tensor.of(scratch, query, HEADS, INDEX_DIM),
                        Tensor.of(scratch, weights, 1, HEADS), view, null, s);
                scores = s.toFloatArray();
            }
            // the rows as the reader sees them now, bit for bit (bytes and scales)
            MemoryTesting.assertSameBits(model.rowSlice(0, n), view, "keys at length " + n);
        }
        long after = memory.length();
        StressRace.window(plan, before, n, after, "a keys view");
        for (int t = 0; t < n; t++) {
            double score = 0;
            double error = 1e-30;
            for (int h = 0; h < HEADS; h++) {
                double logit = 0;
                double magnitude = 0;
                for (int i = 0; i < INDEX_DIM; i++) {
                    double term = (double) query[h * INDEX_DIM + i] * decoded[t][i];
                    logit += term;
                    magnitude += Math.abs(term);
                }
                score += weights[h] * Math.max(0, logit);
                // the op's bound (2 d 2^-24 sum |terms|), doubled, through |w_h| and the 1-Lipschitz ReLU
                error += Math.abs(weights[h]) * 4.0 * INDEX_DIM * 0x1p-24 * magnitude;
            }
            error += 0x1p-24 * Math.abs(score); // the sum over heads, stored rounded
            check(Math.abs(scores[t] - score) <= error, "token " + t + " scored " + scores[t] + ", the model says "
                    + score + " (+- " + error + ") at length " + n);
        }
        return before != after;
    }

    private static float[][] decode(Tensor model) {
        float[][] out = new float[(int) model.rows()][model.cols()];
        for (int r = 0; r < out.length; r++) {
            for (int c = 0; c < model.cols(); c++) {
                out[r][c] = model.get(r, c);
            }
        }
        return out;
    }
}
