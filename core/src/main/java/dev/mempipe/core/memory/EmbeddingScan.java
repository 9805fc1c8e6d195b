package dev.mempipe.core.memory;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Tensor;
import org.apache.lucene.util.Bits;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.stream.IntStream;

/**
 * Exact cosine search of many queries in one pass over {@link EmbeddingRows}: per block of rows, one {@code cosine}
 * step scores every query (the CPU backend reads each row once per 16 queries), then one {@code topK} step keeps each
 * query's best, rows a query may not see hidden behind {@code -inf}. Both steps go through the {@link Engine}.
 *
 * <p>Blocks bound the score scratch to {@link #SCORE_BUDGET} floats whatever the rows and batch size, so a batch of
 * 64 queries over 10 million rows needs 16 MiB of scores, not 2.5 GiB.
 *
 * <p>Stateless; safe to call from several threads over rows no one mutates meanwhile.
 */
public final class EmbeddingScan {
    /** Floats of score scratch per scan (16 MiB). */
    private static final int SCORE_BUDGET = 1 << 22;
    /** Rows per block at least, so that a large batch still gives the op's threads enough rows to split. */
    private static final int MIN_BLOCK_ROWS = 4096;
    /** The largest Java float array, with the usual headroom below {@code Integer.MAX_VALUE}. */
    private static final long MAX_SCRATCH_FLOATS = Integer.MAX_VALUE - 16;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private EmbeddingScan() {
    }

    /**
     * The best {@code k[j]} rows of {@code rows [0, rows.rows())} for each query j among those {@code accept[j]} lets
     * through (null: every row), as {@link Hits} of row numbers and cosines in {@code [-1, 1]}, best first (cosine
     * descending, then the lower row).
     *
     * @param queries m queries of the rows' dimension; need not be unit length (a zero query scores 0 everywhere)
     * @param k       m counts, each {@code >= 1}
     * @param accept  m filters covering every row, or nulls
     * @throws IllegalArgumentException when the lengths differ, a query has the wrong length or a k is below 1
     */
    public static List<Hits> search(Engine engine, EmbeddingRows rows, float[][] queries, int[] k, Bits[] accept) {
        Objects.requireNonNull(engine, "engine");
        int m = queries.length;
        if (k.length != m || accept.length != m) {
            throw new IllegalArgumentException(m + " queries, " + k.length + " k and " + accept.length + " filters");
        }
        int n = rows.rows();
        int d = rows.dimension();
        for (int j = 0; j < m; j++) {
            if (queries[j].length != d) {
                throw new IllegalArgumentException("queries[" + j + "] has " + queries[j].length + " elements, the rows "
                        + d);
            }
            MemoryArgs.k(k[j]);
        }
        List<List<Found>> found = new ArrayList<>(m); // per query: the best of every block
        for (int j = 0; j < m; j++) {
            found.add(new ArrayList<>());
        }
        if (n == 0 || m == 0) {
            return hits(found, k);
        }
        int block = Math.min(n, Math.max(MIN_BLOCK_ROWS, SCORE_BUDGET / m));
        int maxK = 1;
        for (int kj : k) {
            maxK = Math.max(maxK, Math.min(kj, block));
        }
        if ((long) m * block > MAX_SCRATCH_FLOATS) {
            throw new IllegalArgumentException("a batch of " + m + " queries needs " + (long) m * block
                    + " floats of score scratch, more than one array holds; split it into smaller batches");
        }
        // the scratch counts against the engine's budget while the search runs: refused before it is allocated
        long scratchBytes = Float.BYTES * ((long) m * d + (long) m * block) + 2L * Integer.BYTES * m * maxK;
        try (MemoryBudget.Reservation scratch = engine.memoryBudget().reserve(scratchBytes, "a search of " + m
                + (m == 1 ? " query" : " queries") + " over " + n + " rows (its scores and top-k scratch)")) {
            // Heap scratch: shareable with the backend's threads like a shared arena, without the thread handshake
            // that closing a shared arena costs on every search (0.1 ms against a 4 ms scan).
            Tensor q = Tensor.wrap(MemorySegment.ofArray(new float[m * d]), ElementType.F32, m, d);
            for (int j = 0; j < m; j++) {
                MemorySegment.copy(queries[j], 0, q.data(), F32, q.offset(j, 0), d);
            }
            Tensor scores = Tensor.wrap(MemorySegment.ofArray(new float[m * block]), ElementType.F32, m, block);
            Indices[] topRows = new Indices[m];
            Tensor[] topScores = new Tensor[m];
            for (int j = 0; j < m; j++) { // one scratch per query: queries are finished in parallel below
                topRows[j] = Indices.wrap(MemorySegment.ofArray(new int[maxK]), maxK);
                topScores[j] = Tensor.wrap(MemorySegment.ofArray(new float[maxK]), ElementType.F32, 1, maxK);
            }
            for (int r0 = 0; r0 < n; r0 += block) {
                int count = Math.min(block, n - r0);
                int first = r0;
                Tensor keys = rows.vectors(r0, r0 + count);                                  // (count, d)
                Tensor blockScores = Tensor.wrap(scores.data(), ElementType.F32, m, count, scores.rowStride(), null);
                engine.runVoid(Op.COSINE, OpCosts.cosine(m, count, d, ElementType.F32, keys.type(), ElementType.F32),
                        b -> b.relevancy().cosine(q, keys, blockScores));                    // (m, count)
                engine.runVoid(Op.TOP_K, OpCosts.topK(count, maxK).times(m), b -> {
                    // A batch's top-k are independent: on a single thread they were a quarter of a 32-query batch's time.
                    IntStream queriesOfBatch = IntStream.range(0, m);
                    (m > 1 ? queriesOfBatch.parallel() : queriesOfBatch).forEach(j -> {
                        Tensor row = blockScores.rowSlice(j, j + 1);                         // (1, count)
                        hide(row, first, count, accept[j]);
                        int kept = b.retrieval().topK(row, Math.min(k[j], count), topRows[j], topScores[j]);
                        List<Found> hits = found.get(j);
                        for (int i = 0; i < kept; i++) {
                            float cosine = topScores[j].get(0, i);
                            if (cosine == Float.NEGATIVE_INFINITY) {
                                break; // the rest are rows this query may not see
                            }
                            hits.add(new Found(first + topRows[j].get(i), Math.clamp(cosine, -1f, 1f) + 0f)); // -0 ties +0
                        }
                    });
                });
            }
        }
        return hits(found, k);
    }

    /** Scores of rows {@code accept} rejects become {@code -inf}, below every cosine. */
    private static void hide(Tensor scores, int r0, int count, Bits accept) {
        if (accept == null) {
            return;
        }
        MemorySegment data = scores.data();
        long at = scores.offset(0, 0);
        for (int r = 0; r < count; r++) {
            if (!accept.get(r0 + r)) {
                data.set(F32, at + (long) r * Float.BYTES, Float.NEGATIVE_INFINITY);
            }
        }
    }

    /** A row and its cosine (never -0.0). */
    private record Found(int row, float cosine) {
        static final Comparator<Found> BEST_FIRST =
                Comparator.comparingDouble((Found f) -> -f.cosine).thenComparingInt(Found::row);
    }

    /** Each query's rows sorted best first and cut to its k. */
    private static List<Hits> hits(List<List<Found>> found, int[] k) {
        List<Hits> out = new ArrayList<>(found.size());
        for (int j = 0; j < found.size(); j++) {
            List<Found> rows = found.get(j);
            rows.sort(Found.BEST_FIRST);
            int count = Math.min(k[j], rows.size());
            int[] ids = new int[count];
            float[] cosines = new float[count];
            for (int i = 0; i < count; i++) {
                ids[i] = rows.get(i).row();
                cosines[i] = rows.get(i).cosine();
            }
            out.add(new Hits(ids, cosines));
        }
        return out;
    }
}
