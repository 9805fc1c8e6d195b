package dev.mempipe.core.model;

import dev.mempipe.core.pipeline.AttentionShape;
import dev.mempipe.core.pipeline.KvRows;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Keys and values {@code [L, Hkv*d]} with the structure real attention has, planted for one query so that the
 * accuracy of a sparse workload can be measured against dense attention:
 * <ul>
 *   <li><b>noise</b>: every coordinate of every key and value uniform with unit variance, so a plain token's
 *       logit {@code <q_h, k> / sqrt(d)} has about unit variance;</li>
 *   <li><b>needles</b>: a few tokens whose keys lie far along the query's direction (logit about
 *       {@code needleLogit} above the noise): the facts a long-context query looks up;</li>
 *   <li><b>heavy hitters</b>: more tokens with a moderate logit boost (H2O's heavy hitters);</li>
 *   <li><b>recent window</b>: the last tokens get a small boost (locality).</li>
 * </ul>
 * A boost is added to KV head g's band of the key as {@code beta * u_g}, where {@code u_g} is the unit
 * direction of the group's mean query and {@code beta = logit / (scale * |mean query|)}; it raises the logit
 * of each query head of the group by about {@code logit}. Needles and heavy hitters sit at seeded random
 * positions before the recent window. Row r's values depend only on the seed and r
 * ({@link #rows} may be called in any pieces).
 *
 * <p>With the default structure the needles hold about 94% of the dense softmax mass at 64k tokens (the noise
 * most of the rest) and about 98% at 4k: a selection that finds them covers most of the mass, one that misses
 * them cannot.
 */
public final class SyntheticKv {
    private static final float UNIT_BOUND = (float) Math.sqrt(3); // uniform [-sqrt 3, sqrt 3) has variance 1

    /**
     * @param needles          needle tokens
     * @param needleLogit      logit boost of a needle
     * @param heavyHitters     heavy-hitter tokens
     * @param heavyHitterLogit logit boost of a heavy hitter
     * @param recentWindow     last tokens boosted
     * @param recentLogit      logit boost of a recent token
     */
    public record Structure(int needles, float needleLogit, int heavyHitters, float heavyHitterLogit, int recentWindow,
                            float recentLogit) {
        /** 8 needles at +12, 64 heavy hitters at +6, the last 256 tokens at +2. */
        public static final Structure DEFAULT = new Structure(8, 12f, 64, 6f, 256, 2f);
        /** Noise only: no token stands out. */
        public static final Structure NONE = new Structure(0, 0f, 0, 0f, 0, 0f);

        public Structure {
            if (needles < 0 || heavyHitters < 0 || recentWindow < 0) {
                throw new IllegalArgumentException("counts must be >= 0, got needles " + needles + ", heavyHitters "
                        + heavyHitters + ", recentWindow " + recentWindow);
            }
        }
    }

    private final AttentionShape shape;
    private final long length;
    private final long seed;
    private final Structure structure;
    private final float[][] direction; // per KV head: u_g, unit (d)
    private final float[] groupNorm;   // per KV head: |mean query of the group|
    private final long[] needles;      // ascending
    private final long[] heavyHitters; // ascending

    /**
     * @param query  q {@code [Hq, d]} the structure is planted for
     * @param length L, the tokens {@link #rows} can produce
     */
    public SyntheticKv(AttentionShape shape, Tensor query, long length, Structure structure, long seed) {
        this.shape = Objects.requireNonNull(shape, "shape");
        shape.checkQuery("query", query);
        if (length < 1) {
            throw new IllegalArgumentException("length must be >= 1, got " + length);
        }
        this.length = length;
        this.seed = seed;
        this.structure = Objects.requireNonNull(structure, "structure");
        int d = shape.headDim();
        this.direction = new float[shape.kvHeads()][d];
        this.groupNorm = new float[shape.kvHeads()];
        for (int g = 0; g < shape.kvHeads(); g++) {
            double[] mean = new double[d];
            for (int h = g * shape.groupSize(); h < (g + 1) * shape.groupSize(); h++) {
                for (int c = 0; c < d; c++) {
                    mean[c] += query.get(h, c) / shape.groupSize();
                }
            }
            double norm = Math.sqrt(Arrays.stream(mean).map(m -> m * m).sum());
            groupNorm[g] = (float) norm;
            for (int c = 0; c < d; c++) {
                direction[g][c] = norm == 0 ? 0 : (float) (mean[c] / norm);
            }
        }
        // needles and heavy hitters: distinct positions before the recent window (or anywhere, if it covers all)
        long before = Math.max(1, length - structure.recentWindow());
        SplittableRandom random = new SplittableRandom(SeededFill.derive(seed, 0x5EED));
        long[] planted = random.longs(0, before).distinct()
                .limit(Math.min(before, (long) structure.needles() + structure.heavyHitters())).toArray();
        int needleCount = Math.min(structure.needles(), planted.length);
        this.needles = Arrays.copyOfRange(planted, 0, needleCount);
        this.heavyHitters = Arrays.copyOfRange(planted, needleCount, planted.length);
        Arrays.sort(needles);
        Arrays.sort(heavyHitters);
    }

    /**
     * A query {@code [Hq, d]} to plant structure for: each GQA group shares a random direction of unit variance
     * per coordinate, and each head deviates from it by a quarter of that (heads of a group attend alike, as
     * the shared-selection workloads assume).
     */
    public static Tensor probeQuery(Arena arena, AttentionShape shape, long seed) {
        int d = shape.headDim();
        Tensor q = Tensor.allocate(arena, ElementType.F32, shape.queryHeads(), d);
        float[] shared = new float[d];
        float[] row = new float[d];
        for (int g = 0; g < shape.kvHeads(); g++) {
            SplittableRandom groupRandom = SeededFill.rowRandom(seed, -1 - g);
            for (int c = 0; c < d; c++) {
                shared[c] = (float) groupRandom.nextDouble(-UNIT_BOUND, UNIT_BOUND);
            }
            for (int h = g * shape.groupSize(); h < (g + 1) * shape.groupSize(); h++) {
                SplittableRandom headRandom = SeededFill.rowRandom(seed, h);
                for (int c = 0; c < d; c++) {
                    row[c] = shared[c] + 0.25f * (float) headRandom.nextDouble(-UNIT_BOUND, UNIT_BOUND);
                }
                SeededFill.store(q, h, row);
            }
        }
        return q;
    }

    /** Writes tokens {@code [from, to)} into {@code keys} and {@code values}, each {@code [to - from, Hkv*d]}. */
    public void rows(long from, long to, Tensor keys, Tensor values) {
        Objects.checkFromToIndex(from, to, length);
        if (keys.rows() != to - from || values.rows() != to - from || keys.cols() != shape.kvWidth()
                || values.cols() != shape.kvWidth()) {
            throw new IllegalArgumentException("keys and values must be [" + (to - from) + ", " + shape.kvWidth()
                    + "], got " + keys.shapeString() + " and " + values.shapeString());
        }
        int width = shape.kvWidth();
        int d = shape.headDim();
        float scale = shape.scale();
        float[] key = new float[width];
        float[] value = new float[width];
        for (long r = from; r < to; r++) {
            SplittableRandom random = SeededFill.rowRandom(seed, r);
            for (int c = 0; c < width; c++) {
                key[c] = (float) random.nextDouble(-UNIT_BOUND, UNIT_BOUND);
                value[c] = (float) random.nextDouble(-UNIT_BOUND, UNIT_BOUND);
            }
            float logit = boost(r);
            if (logit != 0) {
                for (int g = 0; g < shape.kvHeads(); g++) {
                    float beta = groupNorm[g] == 0 ? 0 : logit / (scale * groupNorm[g]);
                    for (int c = 0; c < d; c++) {
                        key[g * d + c] += beta * direction[g][c];
                    }
                }
            }
            SeededFill.store(keys, r - from, key);
            SeededFill.store(values, r - from, value);
        }
    }

    /**
     * Produces all L tokens in chunks of {@code chunkRows} and hands each to {@code sink} (a pipeline's
     * Prepare, for a bulk fill). The chunk tensors are reused: {@code sink} must not keep them.
     */
    public void fill(Arena arena, int chunkRows, Consumer<KvRows> sink) {
        if (chunkRows < 1) {
            throw new IllegalArgumentException("chunkRows must be >= 1, got " + chunkRows);
        }
        long rows = Math.min(chunkRows, length);
        Tensor keys = Tensor.allocate(arena, ElementType.F32, rows, shape.kvWidth());
        Tensor values = Tensor.allocate(arena, ElementType.F32, rows, shape.kvWidth());
        for (long from = 0; from < length; from += rows) {
            long to = Math.min(length, from + rows);
            Tensor k = keys.rowSlice(0, to - from);
            Tensor v = values.rowSlice(0, to - from);
            rows(from, to, k, v);
            sink.accept(new KvRows(k, v));
        }
    }

    /** The logit boost of token r: needle, heavy hitter, recent, or none (the largest that applies). */
    private float boost(long r) {
        if (Arrays.binarySearch(needles, r) >= 0) {
            return structure.needleLogit();
        }
        if (Arrays.binarySearch(heavyHitters, r) >= 0) {
            return structure.heavyHitterLogit();
        }
        return r >= length - structure.recentWindow() ? structure.recentLogit() : 0f;
    }

    public long length() {
        return length;
    }

    /** The needle positions, ascending. */
    public long[] needles() {
        return needles.clone();
    }

    /** The heavy-hitter positions, ascending. */
    public long[] heavyHitters() {
        return heavyHitters.clone();
    }

    public Structure structure() {
        return structure;
    }
}
