package dev.mempipe.core.memory;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Tensor;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.FixedBitSet;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Exact cosine search of one query or many: the backend's fused {@code dotTopK} of the unit queries against
 * {@link EmbeddingRows} with the rows' inverse norms as weights, so each score is {@code dot(unit query, row) /
 * ||row||}, the cosine rule of {@link EmbeddingRows}, and no score matrix is ever built. Queries that share a
 * filter (the same {@link Bits} object, or none) go in one call; the backend chooses its plan by the batch size (on
 * the CPU: the bandwidth scan for one query, the blocked kernel for several) and ranks a query the same either way.
 * One engine step ({@code dotTopK}) per group.
 *
 * <p><b>Ties.</b> The contract's: cosine descending, then the lower row. Rows stored alike score alike to the bit (the
 * same dot and the same inverse norm), so they tie and come in insertion order. Cosines are clamped to
 * {@code [-1, 1]} after the ranking, and rows that clamping makes equal are re-sorted by row.
 *
 * <p>Stateless; safe to call from several threads over rows no one mutates meanwhile.
 */
public final class EmbeddingScan {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Output entries ({@code queries * min(k, n)}) per engine call at most: bounds idx and val to 128 MiB. */
    private static final long MAX_RESULTS_PER_CALL = 1L << 24;

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
        Hits[] hits = new Hits[m];
        if (n == 0) {
            Arrays.fill(hits, Hits.empty());
            return List.of(hits);
        }
        Tensor keys = rows.vectors(0, n);                                              // (n, d)
        Tensor inverseNorms = rows.inverseNorms(0, n);                                 // (1, n)
        Map<Bits, List<Integer>> groups = new IdentityHashMap<>();                     // queries by filter
        List<Integer> unfiltered = new ArrayList<>();
        for (int j = 0; j < m; j++) {
            (accept[j] == null ? unfiltered : groups.computeIfAbsent(accept[j], a -> new ArrayList<>())).add(j);
        }
        if (!unfiltered.isEmpty()) {
            searchGroup(engine, keys, inverseNorms, null, queries, k, unfiltered, hits);
        }
        for (Map.Entry<Bits, List<Integer>> group : groups.entrySet()) {
            searchGroup(engine, keys, inverseNorms, bitmap(group.getKey(), n), queries, k, group.getValue(), hits);
        }
        return List.of(hits);
    }

    /**
     * The scratch one {@code dotTopK} call of {@code g} queries holds while it runs, counted against the engine's
     * budget: the unit queries, and k row ids and k scores per query (the fused op keeps no score matrix). The
     * reservation is taken before any of it is allocated, so a search past the budget is refused with the numbers.
     */
    static long scratchBytes(int g, int d, int k) {
        return Float.BYTES * (long) g * d + (long) (Integer.BYTES + Float.BYTES) * g * k;
    }

    /** One {@code dotTopK} step per slice of the group (all of it unless its results would pass 2^24 entries). */
    private static void searchGroup(Engine engine, Tensor keys, Tensor inverseNorms, Bitmap filter, float[][] queries,
                                    int[] k, List<Integer> group, Hits[] hits) {
        int n = Math.toIntExact(keys.rows());
        int d = keys.cols();
        int maxK = 1;
        for (int j : group) {
            maxK = Math.max(maxK, Math.min(k[j], n));
        }
        int slice = (int) Math.max(1, Math.min(group.size(), MAX_RESULTS_PER_CALL / maxK));
        for (int first = 0; first < group.size(); first += slice) {
            List<Integer> part = group.subList(first, Math.min(group.size(), first + slice));
            int g = part.size();
            int kk = maxK;
            try (MemoryBudget.Reservation scratch = engine.memoryBudget().reserve(scratchBytes(g, d, kk), "a search of "
                    + g + (g == 1 ? " query" : " queries") + " over " + n + " rows (its queries and top-k scratch)")) {
                searchSlice(engine, keys, inverseNorms, filter, queries, k, part, kk, hits);
            }
        }
    }

    /** One {@code dotTopK} step for the queries of {@code part}, each given its best {@code kk} rows. */
    private static void searchSlice(Engine engine, Tensor keys, Tensor inverseNorms, Bitmap filter, float[][] queries,
                                    int[] k, List<Integer> part, int kk, Hits[] hits) {
        int n = Math.toIntExact(keys.rows());
        int d = keys.cols();
        int g = part.size();
        // unit queries, normalized in double: the dot with a row times its inverse norm is then the cosine
        Tensor q = Tensor.wrap(MemorySegment.ofArray(new float[g * d]), ElementType.F32, g, d);   // (g, d)
        for (int t = 0; t < g; t++) {
            float[] unit = unit(queries[part.get(t)]);
            MemorySegment.copy(unit, 0, q.data(), F32, q.offset(t, 0), d);
        }
        Indices idx = Indices.wrap(MemorySegment.ofArray(new int[g * kk]), g * kk);               // (g * kk)
        Tensor val = Tensor.wrap(MemorySegment.ofArray(new float[g * kk]), ElementType.F32, g, kk); // (g, kk)
        OpCost cost = OpCosts.of(Op.DOT_TOP_K.descriptor().sizes().size("m", g).size("n", n).size("d", d)
                .size("k", kk).type("Q", ElementType.F32).type("M", keys.type()).type("w", ElementType.F32)
                .present("accept", filter != null).present("val", true));
        int found = engine.run(Op.DOT_TOP_K, cost,
                b -> b.fused().dotTopK(q, keys, inverseNorms, filter, kk, idx, val));
        for (int t = 0; t < g; t++) {
            int j = part.get(t);
            int count = Math.min(k[j], found);
            Found[] best = new Found[count];
            for (int i = 0; i < count; i++) {
                // -0 ties +0; clamping absorbs the f32 rounding of dot * inverse norm
                best[i] = new Found(idx.get(t * kk + i), Math.clamp(val.get(t, i), -1f, 1f) + 0f);
            }
            Arrays.sort(best, Found.BEST_FIRST); // rows that clamping made equal, by row
            int[] ids = new int[count];
            float[] cosines = new float[count];
            for (int i = 0; i < count; i++) {
                ids[i] = best[i].row();
                cosines[i] = best[i].cosine();
            }
            hits[j] = new Hits(ids, cosines);
        }
    }

    /** {@code x / ||x||} computed in double; a zero query stays zero (it then scores 0 against every row). */
    private static float[] unit(float[] x) {
        double sum = 0;
        for (float v : x) {
            sum += (double) v * v;
        }
        double norm = Math.sqrt(sum);
        float[] u = new float[x.length];
        for (int i = 0; norm > 0 && i < x.length; i++) {
            u[i] = (float) (x[i] / norm);
        }
        return u;
    }

    /** A filter as the op's bitmap: a {@link FixedBitSet}'s own words when they fit, otherwise a copy. */
    private static Bitmap bitmap(Bits accept, int n) {
        long words = Bitmap.wordCount(n);
        if (accept instanceof FixedBitSet set && set.length() >= n && set.getBits().length >= words) {
            long[] bits = set.getBits();
            long tail = n % 64 == 0 ? 0 : bits[(int) words - 1] >>> (n % 64);
            if (tail == 0) { // bits past n must be clear
                return Bitmap.wrap(MemorySegment.ofArray(bits), n);
            }
        }
        long[] copy = new long[(int) Math.max(1, words)];
        for (int i = 0; i < n; i++) {
            if (accept.get(i)) {
                copy[i >>> 6] |= 1L << i;
            }
        }
        return Bitmap.wrap(MemorySegment.ofArray(copy), n);
    }

    /** A row and its cosine (never -0.0). */
    private record Found(int row, float cosine) {
        static final Comparator<Found> BEST_FIRST =
                Comparator.comparingDouble((Found f) -> -f.cosine).thenComparingInt(Found::row);
    }
}
