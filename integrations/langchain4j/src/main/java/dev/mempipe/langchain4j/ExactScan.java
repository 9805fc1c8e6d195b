package dev.mempipe.langchain4j;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Tensor;
import org.apache.lucene.util.Bits;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Exact search of many queries in one pass over the rows: per block of rows, the backend's {@code dot} scores
 * every query (the CPU backend reads each row once per 16 queries), each score is turned into a cosine with the row's
 * inverse norm, rows a query may not see get {@code -inf}, and the backend's {@code topK} keeps each query's best.
 *
 * <p>Blocks bound the score scratch to {@link #SCORE_BUDGET} floats whatever the store and batch size, so a batch of
 * 64 queries over 10 million rows needs 16 MiB of scores, not 2.5 GiB.
 */
final class ExactScan {
    private static final VectorSpecies<Float> LANES = FloatVector.SPECIES_PREFERRED;
    /** Floats of score scratch per scan (16 MiB). */
    private static final int SCORE_BUDGET = 1 << 22;
    /** Rows per block at least, so that a large batch still gives the op's threads enough rows to split. */
    private static final int MIN_BLOCK_ROWS = 4096;
    /** The largest Java float array, with the usual headroom below {@code Integer.MAX_VALUE}. */
    private static final long MAX_SCRATCH_FLOATS = Integer.MAX_VALUE - 16;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private ExactScan() {
    }

    /**
     * The best {@code k[j]} rows for each unit query j among the rows {@code accept[j]} lets through (null: every
     * row), best first ({@link RowHit#BEST_FIRST}).
     *
     * @param unitQueries queries of unit length (or zero), each of the rows' dimension
     */
    static List<List<RowHit>> search(Backend backend, StoredRows rows, float[][] unitQueries, int[] k, Bits[] accept) {
        int m = unitQueries.length;
        int n = rows.rows();
        int d = rows.dimension();
        List<List<RowHit>> best = new ArrayList<>(m);
        for (int j = 0; j < m; j++) {
            best.add(new ArrayList<>());
        }
        if (n == 0 || m == 0) {
            return best;
        }
        int block = Math.min(n, Math.max(MIN_BLOCK_ROWS, SCORE_BUDGET / m));
        int maxK = 1;
        for (int kj : k) {
            maxK = Math.max(maxK, Math.min(kj, block));
        }
        if ((long) m * block > MAX_SCRATCH_FLOATS) {
            throw new IllegalArgumentException("a batch of " + m + " requests needs " + (long) m * block
                    + " floats of score scratch, more than one array holds; split it into smaller batches");
        }
        // Heap scratch: shareable with the backend's threads like a shared arena, without the thread handshake
        // that closing a shared arena costs on every search (0.1 ms against a 4 ms scan).
        Tensor queries = Tensor.wrap(MemorySegment.ofArray(new float[m * d]), ElementType.F32, m, d);
        for (int j = 0; j < m; j++) {
            MemorySegment.copy(unitQueries[j], 0, queries.data(), F32, queries.offset(j, 0), d);
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
            Tensor blockScores = Tensor.wrap(scores.data(), ElementType.F32, m, count, scores.rowStride(), null);
            backend.relevancy().dot(queries, rows.vectors(r0, r0 + count), blockScores);
            // A batch's per-query cosine pass and top-k are independent: on a single thread they were a
            // quarter of a 32-query batch's time.
            IntStream queriesOfBatch = IntStream.range(0, m);
            (m > 1 ? queriesOfBatch.parallel() : queriesOfBatch).forEach(j -> {
                Tensor row = blockScores.rowSlice(j, j + 1); // (1, count)
                toCosines(row, rows, first, count, accept[j]);
                int found = backend.retrieval().topK(row, Math.min(k[j], count), topRows[j], topScores[j]);
                List<RowHit> hits = best.get(j);
                for (int i = 0; i < found; i++) {
                    float cosine = topScores[j].get(0, i);
                    if (cosine == Float.NEGATIVE_INFINITY) {
                        break; // the rest are rows this query may not see
                    }
                    hits.add(new RowHit(first + topRows[j].get(i), cosine));
                }
            });
        }
        for (int j = 0; j < m; j++) {
            List<RowHit> hits = best.get(j);
            hits.sort(RowHit.BEST_FIRST);
            if (hits.size() > k[j]) {
                hits.subList(k[j], hits.size()).clear();
            }
        }
        return best;
    }

    /**
     * Turns dot products with a unit query into cosines in {@code [-1, 1]} (the clamp absorbs f32 rounding) and
     * hides rows {@code accept} rejects behind {@code -inf}.
     */
    private static void toCosines(Tensor scores, StoredRows rows, int r0, int count, Bits accept) {
        MemorySegment data = scores.data();
        long at = scores.offset(0, 0);
        int r = 0;
        if (accept == null) { // the common case, vectorized: a scalar pass was half the cost of a whole search
            MemorySegment norms = rows.inverseNorms();
            FloatVector lo = FloatVector.broadcast(LANES, -1f);
            FloatVector hi = FloatVector.broadcast(LANES, 1f);
            for (int bound = LANES.loopBound(count); r < bound; r += LANES.length()) {
                long offset = at + (long) r * Float.BYTES;
                FloatVector.fromMemorySegment(LANES, data, offset, ByteOrder.LITTLE_ENDIAN)
                        .mul(FloatVector.fromMemorySegment(LANES, norms, (long) (r0 + r) * Float.BYTES,
                                ByteOrder.LITTLE_ENDIAN))
                        .max(lo).min(hi)
                        .intoMemorySegment(data, offset, ByteOrder.LITTLE_ENDIAN);
            }
        }
        for (; r < count; r++) {
            long offset = at + (long) r * Float.BYTES;
            float cosine;
            if (accept != null && !accept.get(r0 + r)) {
                cosine = Float.NEGATIVE_INFINITY;
            } else {
                cosine = Math.clamp(data.get(F32, offset) * rows.inverseNorm(r0 + r), -1f, 1f);
            }
            data.set(F32, offset, cosine);
        }
    }
}
