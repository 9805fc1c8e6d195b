package dev.mempipe.ops;

import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.NaNInputException;
import dev.mempipe.spi.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicLong;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code dotTopK} fused: exact batched search with no score matrix. Each task takes a range of rows and keeps, per
 * query, its best rows ({@link SimdBestRows}); the tasks' bests are merged at the end. Two plans, chosen by the
 * batch size:
 *
 * <ul>
 *   <li><b>One query: the bandwidth scan.</b> Blocks of {@link #SCAN_BLOCK} rows through {@link SimdDotTiles#rows}
 *       (four rows side by side from the block's four quarters, their lanes summed together), then the block's
 *       scores are weighted and tested against the current cut a vector at a time, and only the few that pass are
 *       offered. Memory-bound: it runs at the read bandwidth.</li>
 *   <li><b>Several queries: the blocked plan.</b> A block of rows sized to stay in the L2 cache
 *       ({@link #tileRows}) is read from memory once and scored against every query, so the work is
 *       compute-bound: {@code 2 m n d} FLOPs over {@code n d} bytes read once. Whole panels of
 *       {@link SimdDotPanels#QUERIES} queries take the packed matrix kernel ({@link SimdDotPanels}: an outer
 *       product, as {@code sgemm}'s); the queries past the last whole panel take the 4 x 4 dot-product tile
 *       ({@link SimdDotTiles}), four queries by four rows, and the last one to three the one-query kernel over
 *       the same cached block.</li>
 * </ul>
 *
 * Every kernel gives every (query, row) pair the same float (see {@link SimdDotTiles} and {@link SimdDotPanels}), times the row's weight, so a
 * query ranks rows the same alone and in a batch, on every thread split and in every JIT tier. F16 and I16 keys
 * have no tile: each query scans them on its own with {@code dot}'s kernels (their last bit may differ between
 * JIT tiers). Stateless and thread-safe.
 */
final class SimdDotTopK {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VectorSpecies<Float> F = SimdDotKernels.F;
    private static final int LANES = SimdDotKernels.LANES;
    /** Rows per block of the one-query scan (as {@code dot}'s scan). */
    private static final int SCAN_BLOCK = 1024;
    /** Bytes of key rows per cached block: a quarter of a 1 MiB L2 (Zen 4), half of a 512 KiB one. */
    private static final long TILE_BLOCK_BYTES = Long.getLong("mempipe.dotTopK.blockBytes", 256 * 1024);
    /** Multiply-adds per parallel task at least (the scans' grain). */
    private static final long MIN_WORK = 1L << 21;

    private SimdDotTopK() {
    }

    /**
     * The op after its checks: queries {@code qs} (decoded and laid out for the key type) against {@code keys};
     * writes {@code idx} and {@code val} as {@code FusedOps.dotTopK} says and returns r.
     */
    static int search(float[][] qs, Tensor keys, Tensor w, Bitmap accept, int k, Indices idx, Tensor val,
                      MemorySegment[] touched) {
        int m = qs.length;
        int n = Math.toIntExact(keys.rows());
        int d = keys.cols();
        int c = Math.min(k, n);
        Rows rows = new Rows(keys, w, accept);
        int capacity = Math.min(k, n);
        SimdBestRows[] best = new SimdBestRows[m];
        for (int j = 0; j < m; j++) {
            best[j] = new SimdBestRows(capacity);
        }
        AtomicLong firstNaN = new AtomicLong(Long.MAX_VALUE);
        boolean tiled = m > 1;
        SimdDotPanels.Panels panels = SimdDotPanels.applies(rows.type, m) ? SimdDotPanels.pack(qs, rows.type, d) : null;
        long grain = Math.max(tiled ? tileRows(keys) : SCAN_BLOCK, MIN_WORK / Math.max(1L, (long) m * d));
        Parallel.RangeBody body = (from, to) -> {
            SimdBestRows[] mine = new SimdBestRows[m];
            for (int j = 0; j < m; j++) {
                mine[j] = new SimdBestRows((int) Math.min(capacity, to - from));
            }
            long nan = !SimdDotTiles.supports(rows.type) ? scanEach(qs, rows, (int) from, (int) to, mine)
                    : tiled ? blocked(qs, panels, rows, (int) from, (int) to, mine)
                    : scan(qs[0], rows, (int) from, (int) to, mine[0]);
            if (nan != Long.MAX_VALUE) {
                firstNaN.accumulateAndGet(nan, Math::min);
            }
            synchronized (best) {
                for (int j = 0; j < m; j++) {
                    best[j].offerAll(mine[j]);
                }
            }
        };
        if (Parallel.shareable(touched)) {
            Parallel.forRange(n, grain, 4, body);
        } else {
            Parallel.forRangeHere(n, grain, 4, body);
        }
        if (firstNaN.get() != Long.MAX_VALUE) {
            throw new NaNInputException("S", firstNaN.get());
        }
        int[] ids = new int[capacity];
        float[] scores = new float[capacity];
        int r = 0;
        for (int j = 0; j < m; j++) {
            r = best[j].drain(ids, scores, 0);
            for (int t = 0; t < r; t++) {
                idx.set(j * c + t, ids[t]);
                if (val != null) {
                    val.set(j, t, scores[t]);
                }
            }
        }
        return m == 0 ? Math.min(k, rows.acceptedCount()) : r;
    }

    /** Key rows per cached block of the blocked plan: a multiple of 4, at least 16. */
    static int tileRows(Tensor keys) {
        return tileRows(keys.rowStride());
    }

    private static int tileRows(long bytesPerRow) {
        long rowBytes = Math.max(1, bytesPerRow);
        return (int) Math.max(16, Math.min(4096, TILE_BLOCK_BYTES / rowBytes) & ~3L);
    }

    /** The one-query plan over rows {@code [from, to)}; the first NaN's flat position, or {@code Long.MAX_VALUE}. */
    private static long scan(float[] q, Rows rows, int from, int to, SimdBestRows best) {
        float[] out = new float[SCAN_BLOCK];
        long nan = Long.MAX_VALUE;
        for (int r0 = from; r0 < to; r0 += SCAN_BLOCK) {
            int count = Math.min(SCAN_BLOCK, to - r0);
            // four rows side by side from the block's four quarters: four hardware prefetch streams
            int h = count / 4;
            SimdDotTiles.rows(rows.type, q, rows.d, rows.seg, rows.stride, r0, 1, h, h, rows.scales, out, 0, 1, h);
            for (int r = 4 * h; r < count; r++) {
                out[r] = SimdDotTiles.row(rows.type, q, rows.d, rows.seg, (r0 + r) * rows.stride, rows.scale(r0 + r));
            }
            nan = Math.min(nan, rows.offerBlock(out, r0, count, 0, best));
        }
        return nan;
    }

    /** F16 and I16 keys (no tile): each query on its own through the scan kernels of {@code dot}. */
    private static long scanEach(float[][] qs, Rows rows, int from, int to, SimdBestRows[] best) {
        float[] out = new float[SCAN_BLOCK];
        long nan = Long.MAX_VALUE;
        for (int r0 = from; r0 < to; r0 += SCAN_BLOCK) {
            int count = Math.min(SCAN_BLOCK, to - r0);
            for (int j = 0; j < qs.length; j++) {
                SimdDotKernels.scan(rows.type, new float[][] {qs[j]}, rows.d, rows.seg, r0 * rows.stride, rows.stride,
                        rows.scales, r0, count, out, SCAN_BLOCK, null);
                nan = Math.min(nan, rows.offerBlock(out, r0, count, j, best[j]));
            }
        }
        return nan;
    }

    /**
     * The blocked plan over rows {@code [from, to)}: per cached block of rows, the packed panels of {@code panels}
     * (null: none), then the other queries by tiles; the first NaN's flat position, or {@code Long.MAX_VALUE}.
     */
    private static long blocked(float[][] qs, SimdDotPanels.Panels panels, Rows rows, int from, int to,
                                SimdBestRows[] best) {
        int block = tileRows(rows.keys);
        boolean decode = panels != null && rows.type != ElementType.F32;
        if (decode) {
            block = tileRows(4L * panels.end()); // the decoded copy is what stays cached
        }
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment decoded = decode ? scratch.allocate(4L * block * panels.end(), 64) : null;
            return blocked(qs, panels, rows, from, to, best, block, decoded);
        }
    }

    private static long blocked(float[][] qs, SimdDotPanels.Panels panels, Rows rows, int from, int to,
                                SimdBestRows[] best, int block, MemorySegment decoded) {
        int m = qs.length;
        float[] tile = new float[16];
        float[] sums = new float[16];
        float[] one = new float[4];
        float[] part = panels == null ? null : new float[SimdDotPanels.SCRATCH];
        float[] scores = panels == null ? null : new float[SimdDotPanels.ROWS * SimdDotPanels.QUERIES];
        int packed = panels == null ? 0 : panels.queries();
        float[] blockScores = (m - packed) % 4 == 0 ? null : new float[block]; // the last queries' scores of a block
        float[] cuts = new float[SimdDotPanels.QUERIES]; // each panel query's best.cut(), kept current
        MemorySegment elems = decoded != null ? decoded : rows.seg;
        long elemStride = decoded != null ? 4L * panels.end() : rows.stride;
        long nan = Long.MAX_VALUE;
        for (int b0 = from; b0 < to; b0 += block) {
            int b1 = Math.min(to, b0 + block);
            int full = b0 + (b1 - b0) / 4 * 4;
            if (decoded != null && packed > 0) { // BF16 and I8 rows decoded once for every panel
                SimdDotPanels.decode(rows.type, rows.seg, b0 * rows.stride, rows.stride, full - b0, panels.end(),
                        decoded);
            }
            for (int p = 0; p < packed / SimdDotPanels.QUERIES; p++) { // whole panels: the matrix kernel
                int j0 = p * SimdDotPanels.QUERIES;
                for (int lane = 0; lane < SimdDotPanels.QUERIES; lane++) {
                    cuts[lane] = best[j0 + lane].cut();
                }
                for (int r = b0; r < full; r += 4) {
                    long at = decoded == null ? r * rows.stride : 4L * (r - b0) * panels.end();
                    SimdDotPanels.score(rows.type, panels, p, elems, at, elemStride, rows.seg, r * rows.stride,
                            rows.stride, rows.scale(r), rows.scale(r + 1), rows.scale(r + 2), rows.scale(r + 3), part,
                            scores);
                    for (int t = 0; t < 4; t++) {
                        long lanes = SimdDotPanels.candidates(scores, t, rows.weight(r + t), cuts);
                        for (; lanes != 0; lanes &= lanes - 1) { // most rows enter no query's best: no lane set
                            int lane = Long.numberOfTrailingZeros(lanes);
                            nan = Math.min(nan, rows.offer(scores, t * SimdDotPanels.QUERIES + lane, 1, r + t, 1,
                                    j0 + lane, best[j0 + lane]));
                            cuts[lane] = best[j0 + lane].cut();
                        }
                    }
                }
                for (int lane = 0; lane < SimdDotPanels.QUERIES; lane++) {
                    nan = Math.min(nan, tail(qs[j0 + lane], rows, full, b1, j0 + lane, best[j0 + lane], one));
                }
            }
            int j = packed;
            for (; j + 4 <= m; j += 4) { // the rest by the 4 x 4 tile
                for (int r = b0; r < full; r += 4) {
                    SimdDotTiles.tile(rows.type, qs[j], qs[j + 1], qs[j + 2], qs[j + 3], rows.d, rows.seg,
                            r * rows.stride, rows.stride, rows.scale(r), rows.scale(r + 1), rows.scale(r + 2),
                            rows.scale(r + 3), sums, tile);
                    for (int t = 0; t < 4; t++) {
                        nan = Math.min(nan, rows.offer(tile, 4 * t, 1, r, 4, j + t, best[j + t]));
                    }
                }
                for (int t = 0; t < 4; t++) {
                    nan = Math.min(nan, tail(qs[j + t], rows, full, b1, j + t, best[j + t], one));
                }
            }
            for (; j < m; j++) { // the last one to three queries: the block's rows four at a time, then offered
                SimdDotTiles.rows(rows.type, qs[j], rows.d, rows.seg, rows.stride, b0, 4, 1, (full - b0) / 4,
                        rows.scales, blockScores, 0, 4, 1);
                nan = Math.min(nan, rows.offer(blockScores, 0, 1, b0, full - b0, j, best[j]));
                nan = Math.min(nan, tail(qs[j], rows, full, b1, j, best[j], one));
            }
        }
        return nan;
    }

    /** Rows {@code [from, to)} (fewer than four) one at a time. */
    private static long tail(float[] q, Rows rows, int from, int to, int query, SimdBestRows best, float[] one) {
        long nan = Long.MAX_VALUE;
        for (int r = from; r < to; r++) {
            one[0] = SimdDotTiles.row(rows.type, q, rows.d, rows.seg, r * rows.stride, rows.scale(r));
            nan = Math.min(nan, rows.offer(one, 0, 1, r, 1, query, best));
        }
        return nan;
    }

    /** The key rows with their weights and filter, as the kernels read them. */
    private static final class Rows {
        final Tensor keys;
        final ElementType type;
        final int d;
        final int n;
        final MemorySegment seg;
        final long stride;
        final MemorySegment scales;
        final boolean quantized;
        final MemorySegment weights; // null: all ones
        final long weightOffset;
        final Bitmap accept;         // null: every row

        Rows(Tensor keys, Tensor w, Bitmap accept) {
            this.keys = keys;
            this.type = keys.type();
            this.d = keys.cols();
            this.n = Math.toIntExact(keys.rows());
            this.seg = keys.data();
            this.stride = keys.rowStride();
            this.scales = keys.scales();
            this.quantized = type.isQuantized();
            this.weights = w == null ? null : w.data();
            this.weightOffset = w == null ? 0 : w.offset(0, 0);
            this.accept = accept;
        }

        /** Row {@code row}'s weight (1 without weights). */
        float weight(int row) {
            return weights == null ? 1f : weights.get(F32, weightOffset + (long) row * Float.BYTES);
        }

        float scale(int row) {
            return quantized ? scales.get(F32, (long) row * Float.BYTES) : 1f;
        }

        int acceptedCount() {
            if (accept == null) {
                return n;
            }
            int count = 0;
            for (long w = 0; w < Bitmap.wordCount(n); w++) {
                count += Long.bitCount(accept.word(w));
            }
            return count;
        }

        /**
         * {@link #offer} of {@code out[0, count)} as the dots of query {@code query} with rows {@code r0 ..}, a vector
         * at a time: the weights are applied and the cut tested on whole vectors (the weights read from their segment),
         * and only a vector that holds a candidate, or a NaN
         * (which compares false), goes through {@link #offer}, which decides row by row exactly as without this step.
         * Most vectors of a long scan hold neither, where the scalar pass paid a segment load, a multiply and a
         * branch for every row (the weights alone were about 4% of a one-thread I8 search in a probe).
         */
        long offerBlock(float[] out, int r0, int count, int query, SimdBestRows best) {
            boolean weighted = weights != null;
            // the block's weights as a slice read at the loop index (see SimdDotKernels.f32Rows)
            MemorySegment w = weighted ? weights.asSlice(weightOffset + (long) r0 * Float.BYTES,
                    (long) count * Float.BYTES) : null;
            long nan = Long.MAX_VALUE;
            int t = 0;
            for (int end = count - count % LANES; t < end; t += LANES) {
                FloatVector s = FloatVector.fromArray(F, out, t);
                if (weighted) {
                    s = s.mul(FloatVector.fromMemorySegment(F, w, (long) t * Float.BYTES,
                            ByteOrder.LITTLE_ENDIAN)); // the float product offer computes
                }
                if (!s.compare(VectorOperators.LT, best.cut()).allTrue()) {
                    nan = Math.min(nan, offer(out, t, 1, r0 + t, LANES, query, best));
                }
            }
            if (t < count) {
                nan = Math.min(nan, offer(out, t, 1, r0 + t, count - t, query, best));
            }
            return nan;
        }

        /**
         * Offers {@code out[o + t * step]} as the dot of query {@code query} with row {@code r0 + t}, for t below
         * {@code count}: weighted, filtered, one float comparison for most. Returns the first NaN's flat position
         * ({@code query * n + row}) among accepted rows, or {@code Long.MAX_VALUE}.
         */
        long offer(float[] out, int o, int step, int r0, int count, int query, SimdBestRows best) {
            long nan = Long.MAX_VALUE;
            float cut = best.cut();
            for (int t = 0; t < count; t++) {
                int row = r0 + t;
                float score = weights == null ? out[o + t * step]
                        : out[o + t * step] * weights.get(F32, weightOffset + (long) row * Float.BYTES);
                if (score < cut) {
                    continue; // the common case once the best are found
                }
                if (accept != null && (accept.word(row >>> 6) & (1L << row)) == 0) {
                    continue;
                }
                if (score != score) {
                    nan = Math.min(nan, (long) query * n + row);
                    continue;
                }
                best.offer(score, row);
                cut = best.cut();
            }
            return nan;
        }
    }
}
