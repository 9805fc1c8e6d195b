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
 * {@link PagedKvMemory} under one writer appending batches of tokens (every size around the page size) while two
 * readers do what Quest's Relevancy step does: take a snapshot and bound a query's logits page by page
 * ({@code questBound} over the page summaries). Every read is checked against the serial model, the appended rows:
 * at the snapshot's length, which must be one the memory published between the reader's looks before and after,
 * <ul>
 *   <li>the keys and values are the appended rows, bit for bit;</li>
 *   <li>every full page's min and max are exactly those of its rows (never a page counted before its summary);</li>
 *   <li>the partial last page's min and max, element by element, are those of its rows at that length or at a
 *       later one: published before the reader's look after, or the next, whose append may be merging into the
 *       page while the reader copies it (the contract: a partial page may widen in place, each element its old or
 *       its new value, never torn, never anything else);</li>
 *   <li>each page's Quest bound is the model's within the op's error bound (for the partial page, between the
 *       bounds of its rows at the snapshot's length and at that next length).</li>
 * </ul>
 * Seeded and scaled as {@link StressRace} says.
 */
class PagedKvMemoryStressTest {
    private static final int KV_HEADS = 2;
    private static final int HEAD_DIM = 4;
    private static final int WIDTH = KV_HEADS * HEAD_DIM;
    /** An odd page size: appends start and end at every offset of a page. */
    private static final int PAGE = 5;
    private static final int QUERIES = 8;

    @Test
    void every_snapshot_and_quest_bound_should_equal_the_serial_model_at_one_published_length() throws Exception {
        long rows = 1200L * StressRace.SCALE;
        SplittableRandom random = new SplittableRandom(StressRace.SEED);
        float[][] keys = StressRace.gaussianRows(random, rows, WIDTH);
        float[][] values = StressRace.gaussianRows(random, rows, WIDTH);
        float[][] queries = StressRace.gaussianRows(random, QUERIES, WIDTH); // [Hkv, d] each
        StressRace.Plan plan = StressRace.Plan.batches(random, rows, PAGE);
        System.out.println("PagedKvMemoryStressTest: " + rows + " tokens in " + plan.batches() + " appends, pages of "
                + PAGE + "; " + StressRace.reproduce(getClass()));
        Backend cpu = MemoryTesting.cpu();
        AtomicLong reads = new AtomicLong();
        try (Arena arena = Arena.ofShared()) {
            Tensor keyRows = Tensor.of(arena, StressRace.flat(keys), rows, WIDTH);
            Tensor valueRows = Tensor.of(arena, StressRace.flat(values), rows, WIDTH);
            var memory = new PagedKvMemory(arena, MemoryTesting.engine(cpu), KV_HEADS, HEAD_DIM, rows,
                    ElementType.F32, PAGE);
            StressRace.Result result = StressRace.run("PagedKvMemory", plan,
                    batch -> memory.append(keyRows.rowSlice(plan.from(batch), plan.to(batch)),
                            valueRows.rowSlice(plan.from(batch), plan.to(batch))),
                    memory::length,
                    () -> readAndCheck(memory, cpu, plan, keys, values,
                            queries[(int) (reads.getAndIncrement() % QUERIES)]));
            System.out.println("PagedKvMemoryStressTest: " + result);
        }
    }

    /** One Quest read: a snapshot, the page bounds of {@code query}, checked against the model. */
    private static boolean readAndCheck(PagedKvMemory memory, Backend cpu, StressRace.Plan plan, float[][] keys,
                                        float[][] values, float[] query) {
        long before = memory.length();
        PagedKvMemory.Snapshot snap = memory.snapshot();
        long n = snap.length();
        int pages = (int) snap.pages();
        float[] bounds = new float[0];
        try (Arena scratch = Arena.ofConfined()) {
            if (pages > 0) {
                Tensor s = Tensor.allocate(scratch, ElementType.F32, KV_HEADS, pages); // (Hkv, pages)
                cpu.relevancy().questBound(Tensor.of(scratch, query, KV_HEADS, HEAD_DIM), snap.pageMin(),
                        snap.pageMax(), s);
                bounds = s.toFloatArray();
            }
        }
        float[] min = snap.pageMin().toFloatArray();
        float[] max = snap.pageMax().toFloatArray();
        float[] seenKeys = snap.keys().toFloatArray();
        float[] seenValues = snap.values().toFloatArray();
        long after = memory.length();

        StressRace.window(plan, before, n, after, "a snapshot");
        // a partial page may also show the append in progress: it merges into the page before it publishes
        long[] widened = plan.between(n, plan.next(after));
        String at = " at length " + n + " (published during the read: up to " + after + ")";
        check(pages == (n + PAGE - 1) / PAGE, pages + " pages" + at);
        checkRows(seenKeys, keys, n, "key" + at);
        checkRows(seenValues, values, n, "value" + at);
        for (int p = 0; p < pages; p++) {
            long start = (long) p * PAGE;
            long end = Math.min(start + PAGE, n);
            for (int c = 0; c < WIDTH; c++) {
                int i = p * WIDTH + c;
                if (end - start == PAGE) {
                    float lo = extreme(keys, start, end, c, false);
                    float hi = extreme(keys, start, end, c, true);
                    check(min[i] == lo && max[i] == hi,
                            "full page " + p + " column " + c + " holds [" + min[i] + ", " + max[i] + "], its rows' "
                                    + "bounds are [" + lo + ", " + hi + "]" + at);
                } else {
                    check(isPartialPageValue(min[i], keys, start, widened, c, false)
                                    && isPartialPageValue(max[i], keys, start, widened, c, true),
                            "partial page " + p + " column " + c + " holds [" + min[i] + ", " + max[i] + "], the "
                                    + "bounds of its rows at no length from " + n + " to " + plan.next(after) + at);
                }
            }
            for (int h = 0; h < KV_HEADS; h++) {
                long last = widened[widened.length - 1];
                long widest = end - start == PAGE ? end : Math.min(start + PAGE, last);
                double[] low = questBound(query, keys, start, end, h);
                double[] high = questBound(query, keys, start, widest, h);
                float bound = bounds[h * pages + p];
                check(bound >= low[0] - low[1] && bound <= high[0] + high[1], "head " + h + " page " + p
                        + ": Quest bound " + bound + ", the model's is " + low[0] + " (rows to " + end + ") to "
                        + high[0] + " (rows to " + widest + ")" + at);
            }
        }
        return before != after;
    }

    /** Whether {@code value} is the min (max) of column c over the partial page's rows at one of {@code lengths}. */
    private static boolean isPartialPageValue(float value, float[][] keys, long start, long[] lengths, int c,
                                              boolean max) {
        for (long length : lengths) {
            if (value == extreme(keys, start, Math.min(start + PAGE, length), c, max)) {
                return true;
            }
        }
        return false;
    }

    private static float extreme(float[][] keys, long from, long to, int c, boolean max) {
        float e = max ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY;
        for (long r = from; r < to; r++) {
            e = max ? Math.max(e, keys[(int) r][c]) : Math.min(e, keys[(int) r][c]);
        }
        return e;
    }

    /**
     * Quest's bound of head h's query over rows {@code [from, to)} in double, and the op's error bound
     * ({@code 2 * d * 2^-24 * sum |terms|}, doubled for safety).
     */
    private static double[] questBound(float[] query, float[][] keys, long from, long to, int h) {
        double sum = 0;
        double magnitude = 0;
        for (int i = 0; i < HEAD_DIM; i++) {
            int c = h * HEAD_DIM + i;
            double q = query[c];
            double term = Math.max(q * extreme(keys, from, to, c, false), q * extreme(keys, from, to, c, true));
            sum += term;
            magnitude += Math.abs(term);
        }
        return new double[] {sum, 4.0 * HEAD_DIM * Math.ulp(1.0f) / 2 * magnitude + 1e-30};
    }

    private static void checkRows(float[] seen, float[][] model, long n, String what) {
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < WIDTH; c++) {
                if (Float.floatToRawIntBits(seen[r * WIDTH + c]) != Float.floatToRawIntBits(model[r][c])) {
                    throw new AssertionError(what + ": row " + r + " column " + c + " is " + seen[r * WIDTH + c]
                            + ", appended " + model[r][c]);
                }
            }
        }
    }
}
