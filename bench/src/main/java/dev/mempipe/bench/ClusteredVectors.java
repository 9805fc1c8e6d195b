package dev.mempipe.bench;

import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The data set of the LangChain4j store benchmarks (issue 5): unit vectors with cluster structure, shaped like sentence
 * embeddings rather than uniform noise (on uniform 384-d data every neighbour is about equally far, which flatters
 * nobody and tells nothing).
 *
 * <p>Model: {@code x = normalize(g * mu + c_k + s_k * z / sqrt(d))}, where {@code mu} is a direction shared by all
 * vectors (sentence encoders are anisotropic: unrelated sentences still score about 0.1), {@code c_k} is the unit
 * centre of cluster k (random, so nearly orthogonal to the others), {@code s_k} the cluster's spread, drawn in
 * {@code [SPREAD_MIN, SPREAD_MAX]}, and {@code z} a standard normal vector. With the constants below, unrelated
 * vectors score about 0.09, members of one cluster 0.54 to 0.67 (a topic), and a query's best match about 0.65 to 0.75.
 * Cluster sizes vary (log-normal weights, as topics in a corpus do). Queries are drawn by the same process, so they
 * land near clusters but are not in the store.
 *
 * <p>Every row also carries a metadata key {@code bucket} in {@code [0, 10)}, drawn independently of the cluster:
 * {@code bucket == 3} is the 10% selective filter of the filtered search.
 *
 * <p>Deterministic: the same constants and seed give the same floats on every JVM ({@link SplittableRandom} and
 * strict {@code Math} only).
 */
final class ClusteredVectors {
    static final int ROWS = 100_000;
    static final int DIMENSION = 384;
    static final int CLUSTERS = 1000;
    static final int QUERIES = 1000;
    static final long SEED = 20261129L;
    static final int BUCKETS = 10;
    static final int FILTER_BUCKET = 3;
    private static final double ANISOTROPY = 0.4;
    private static final double SPREAD_MIN = 0.6;
    private static final double SPREAD_MAX = 1.0;
    private static final double SIZE_SIGMA = 0.5; // log-normal sigma of the cluster weights
    /** Bumped whenever the generator changes, so that cached ground truth is not reused. */
    static final int VERSION = 1;

    final float[][] rows;    // (ROWS, DIMENSION), unit length
    final float[][] queries; // (QUERIES, DIMENSION), unit length
    final int[] bucket;      // (ROWS)
    final int[] cluster;     // (ROWS)

    private ClusteredVectors(float[][] rows, float[][] queries, int[] bucket, int[] cluster) {
        this.rows = rows;
        this.queries = queries;
        this.bucket = bucket;
        this.cluster = cluster;
    }

    /** The benchmarks' data set (about a second to generate). */
    static ClusteredVectors standard() {
        return generate(ROWS, QUERIES, SEED);
    }

    static ClusteredVectors generate(int rowCount, int queryCount, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int d = DIMENSION;
        double[] mu = unitGaussian(random, d);
        double[][] centres = new double[CLUSTERS][];
        double[] spread = new double[CLUSTERS];
        double[] cumulative = new double[CLUSTERS];
        double total = 0;
        for (int k = 0; k < CLUSTERS; k++) {
            centres[k] = unitGaussian(random, d);
            spread[k] = SPREAD_MIN + (SPREAD_MAX - SPREAD_MIN) * random.nextDouble();
            total += Math.exp(SIZE_SIGMA * random.nextGaussian());
            cumulative[k] = total;
        }
        SplittableRandom rowRandom = random.split();
        SplittableRandom queryRandom = random.split();
        SplittableRandom bucketRandom = random.split();
        float[][] rows = new float[rowCount][];
        int[] cluster = new int[rowCount];
        int[] bucket = new int[rowCount];
        for (int r = 0; r < rowCount; r++) {
            cluster[r] = pick(cumulative, total * rowRandom.nextDouble());
            rows[r] = member(rowRandom, mu, centres[cluster[r]], spread[cluster[r]]);
            bucket[r] = bucketRandom.nextInt(BUCKETS);
        }
        float[][] queries = new float[queryCount][];
        for (int q = 0; q < queryCount; q++) {
            int k = pick(cumulative, total * queryRandom.nextDouble());
            queries[q] = member(queryRandom, mu, centres[k], spread[k]);
        }
        return new ClusteredVectors(rows, queries, bucket, cluster);
    }

    private static double[] unitGaussian(SplittableRandom random, int d) {
        double[] v = new double[d];
        double norm = 0;
        for (int i = 0; i < d; i++) {
            v[i] = random.nextGaussian();
            norm += v[i] * v[i];
        }
        double inv = 1 / Math.sqrt(norm);
        for (int i = 0; i < d; i++) {
            v[i] *= inv;
        }
        return v;
    }

    private static float[] member(SplittableRandom random, double[] mu, double[] centre, double spread) {
        int d = centre.length;
        double noise = spread / Math.sqrt(d);
        double[] v = new double[d];
        double norm = 0;
        for (int i = 0; i < d; i++) {
            v[i] = ANISOTROPY * mu[i] + centre[i] + noise * random.nextGaussian();
            norm += v[i] * v[i];
        }
        double inv = 1 / Math.sqrt(norm);
        float[] out = new float[d];
        for (int i = 0; i < d; i++) {
            out[i] = (float) (v[i] * inv);
        }
        return out;
    }

    private static int pick(double[] cumulative, double u) {
        int lo = 0;
        int hi = cumulative.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (cumulative[mid] <= u) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** A stable key of this data set, for caches. */
    String key() {
        return "v" + VERSION + "-n" + rows.length + "-q" + queries.length + "-d" + DIMENSION + "-c" + CLUSTERS + "-s" + SEED;
    }

    /** Row ids as the stores get them. */
    static String id(int row) {
        return "row-" + row;
    }

    List<String> ids() {
        List<String> ids = new ArrayList<>(rows.length);
        for (int r = 0; r < rows.length; r++) {
            ids.add(id(r));
        }
        return ids;
    }

    List<Embedding> embeddings() {
        List<Embedding> out = new ArrayList<>(rows.length);
        for (float[] row : rows) {
            out.add(new Embedding(row));
        }
        return out;
    }

    /** One short segment per row with its {@code bucket} (an Integer) and {@code cluster} metadata. */
    List<TextSegment> segments() {
        List<TextSegment> out = new ArrayList<>(rows.length);
        for (int r = 0; r < rows.length; r++) {
            Metadata metadata = new Metadata();
            metadata.put("bucket", bucket[r]);
            metadata.put("cluster", cluster[r]);
            out.add(TextSegment.from("passage " + r + " of topic " + cluster[r], metadata));
        }
        return out;
    }

    Embedding query(int q) {
        return new Embedding(queries[q]);
    }
}
