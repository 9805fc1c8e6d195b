package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Proof that the parametric memories learn: N random unit-norm (k, v) pairs written once, then the mean cosine of
 * the read {@code M(k_i)} with {@code v_i}, for N up to the capacity stated in each pipeline's javadoc.
 */
class ParametricMemoryLearningTest {
    static final int D = 64;

    /** Keys and values {@code [n, D]}, rows unit-norm normal directions. */
    static KvRows pairs(Arena arena, int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        return new KvRows(unitRows(arena, n, random), unitRows(arena, n, random));
    }

    static Tensor unitRows(Arena arena, int n, SplittableRandom random) {
        float[] x = new float[n * D];
        for (int i = 0; i < n; i++) {
            double norm = 0;
            for (int j = 0; j < D; j++) {
                x[i * D + j] = (float) random.nextGaussian();
                norm += x[i * D + j] * x[i * D + j];
            }
            for (int j = 0; j < D; j++) {
                x[i * D + j] /= (float) Math.sqrt(norm);
            }
        }
        return Tensor.of(arena, x, n, D);
    }

    /** The mean cosine of the rows of {@code read} with the rows of {@code values}. */
    static double meanCosine(Tensor read, Tensor values) {
        double sum = 0;
        for (long i = 0; i < values.rows(); i++) {
            double dot = 0, a = 0, b = 0;
            for (int j = 0; j < D; j++) {
                dot += read.get(i, j) * values.get(i, j);
                a += read.get(i, j) * read.get(i, j);
                b += values.get(i, j) * values.get(i, j);
            }
            sum += dot / Math.sqrt(a * b + 1e-30);
        }
        return sum / values.rows();
    }

    static double recall(int n, long seed, Function<Arena, Pipeline<KvRows, Tensor, Tensor, Tensor, Tensor>> make,
                         java.util.function.Consumer<Pipeline<KvRows, Tensor, Tensor, Tensor, Tensor>> finish) {
        try (Arena arena = Arena.ofShared()) {
            Pipeline<KvRows, Tensor, Tensor, Tensor, Tensor> p = make.apply(arena);
            KvRows kv = pairs(arena, n, seed);
            p.prepare(kv);
            finish.accept(p);
            return meanCosine(p.step(kv.keys()), kv.values());
        }
    }

    /** The mean cosine of each read with the value of the next pair: near 0 when reads are pair-specific. */
    static double crossCosine(Tensor read, Tensor values) {
        long n = values.rows();
        double sum = 0;
        for (long i = 0; i < n; i++) {
            double dot = 0, a = 0, b = 0;
            for (int j = 0; j < D; j++) {
                float v = values.get((i + 1) % n, j);
                dot += read.get(i, j) * v;
                a += read.get(i, j) * read.get(i, j);
                b += v * v;
            }
            sum += dot / Math.sqrt(a * b + 1e-30);
        }
        return sum / n;
    }

    static final long SEED = PipelineTesting.seed(7);

    /** Writes n pairs, reads every key back; returns {mean cosine with its value, with the next pair's value}. */
    static double[] writeAndRead(int n, Function<Arena, Pipeline<KvRows, Tensor, Tensor, Tensor, Tensor>> make) {
        try (Arena arena = Arena.ofShared()) {
            Pipeline<KvRows, Tensor, Tensor, Tensor, Tensor> p = make.apply(arena);
            KvRows kv = pairs(arena, n, SEED);
            p.prepare(kv);
            if (p instanceof LactPipeline lact) {
                lact.flush();
            }
            Tensor read = p.step(kv.keys());
            double[] r = {meanCosine(read, kv.values()), crossCosine(read, kv.values())};
            System.out.printf("%s N=%d: mean cosine %.3f, with another pair's value %.3f (seed %d)%n",
                    p.getClass().getSimpleName(), n, r[0], r[1], SEED);
            return r;
        }
    }

    static void assertRecalls(double[] r, int n, String which) {
        String why = which + ", N = " + n + PipelineTesting.reproduce("ParametricMemoryLearningTest", SEED);
        assertTrue(r[0] >= 0.9, "mean cosine " + r[0] + " < 0.9 within capacity: " + why);
        assertTrue(Math.abs(r[1]) < 0.2, "reads match other pairs' values (" + r[1] + "): " + why);
    }

    @Test
    void titans_recalls_pairs_written_once_up_to_its_capacity() {
        Engine engine = PipelineTesting.engine();
        for (int n : new int[] {16, TITANS_CAPACITY}) {
            assertRecalls(writeAndRead(n, a -> new TitansPipeline(engine, D, TitansPipeline.Settings.DEFAULT, a)), n,
                    "Titans");
        }
        double beyond = writeAndRead(128,
                a -> new TitansPipeline(engine, D, TitansPipeline.Settings.DEFAULT, a))[0];
        assertTrue(beyond < 0.9, "far beyond the capacity it still recalls (" + beyond
                + "): the stated capacity is too low");
    }

    @Test
    void lact_recalls_pairs_written_in_one_chunk_up_to_its_capacity() {
        Engine engine = PipelineTesting.engine();
        for (int n : new int[] {4, LACT_CAPACITY}) {
            assertRecalls(writeAndRead(n, a -> new LactPipeline(engine, D, LactPipeline.Settings.DEFAULT, a)), n,
                    "LaCT");
        }
        double beyond = writeAndRead(64,
                a -> new LactPipeline(engine, D, LactPipeline.Settings.DEFAULT, a))[0];
        assertTrue(beyond < 0.9, "far beyond the capacity it still recalls (" + beyond
                + "): the stated capacity is too low");
    }

    @Test
    void lact_updates_once_per_full_chunk_and_reads_only_completed_chunks() {
        Engine engine = PipelineTesting.engine();
        try (Arena arena = Arena.ofShared()) {
            LactPipeline lact = new LactPipeline(engine, D, new LactPipeline.Settings(32, 8, 1f, 5, 42), arena);
            KvRows kv = pairs(arena, 20, SEED);
            lact.prepare(new KvRows(kv.keys().rowSlice(0, 5), kv.values().rowSlice(0, 5)));
            assertTrue(lact.updates() == 0 && lact.buffered() == 5, "5 of 8 rows: no update yet");
            Tensor before = lact.step(kv.keys().rowSlice(0, 1));
            assertTrue(before.get(0, 0) == 0 && before.get(0, 1) == 0, "the empty memory (W2 = 0) reads zero");
            lact.prepare(new KvRows(kv.keys().rowSlice(5, 20), kv.values().rowSlice(5, 20)));
            assertTrue(lact.updates() == 2 && lact.buffered() == 4, "20 rows = 2 chunks of 8 + 4 buffered, got "
                    + lact.updates() + " updates, " + lact.buffered() + " buffered");
            lact.flush();
            assertTrue(lact.updates() == 3 && lact.buffered() == 0, "flush writes the partial chunk");
        }
    }

    /** The capacities the pipelines' javadoc states (d = 64, h = 256, default settings). */
    static final int TITANS_CAPACITY = 48;
    static final int LACT_CAPACITY = 16;
}
