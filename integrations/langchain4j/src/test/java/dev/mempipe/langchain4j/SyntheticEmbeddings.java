package dev.mempipe.langchain4j;

import dev.langchain4j.data.embedding.Embedding;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded embeddings with the structure of real ones: points scattered around a few cluster centres, so that a
 * query has a few close neighbours and many far ones (uniform random vectors would all be nearly orthogonal, which
 * makes recall trivially high or meaningless).
 */
final class SyntheticEmbeddings {
    private SyntheticEmbeddings() {
    }

    /** {@code n} vectors of dimension {@code d} around {@code clusters} centres, noise 0.35 of a centre's scale. */
    static List<Embedding> clustered(long seed, int n, int d, int clusters) {
        return clustered(seed, n, d, clusters, 0.35);
    }

    /**
     * As {@link #clustered(long, int, int, int)} with noise {@code noise} times a centre's scale: two points of one
     * cluster have a cosine near {@code 1 / (1 + noise^2)}; 0.35 makes near-duplicates (0.89), 0.8 the spread of a
     * sentence model's neighbours (0.6).
     */
    static List<Embedding> clustered(long seed, int n, int d, int clusters, double noise) {
        SplittableRandom random = new SplittableRandom(seed);
        float[][] centres = new float[clusters][d];
        for (float[] centre : centres) {
            for (int i = 0; i < d; i++) {
                centre[i] = (float) gaussian(random);
            }
        }
        List<Embedding> out = new ArrayList<>(n);
        for (int r = 0; r < n; r++) {
            float[] centre = centres[random.nextInt(clusters)];
            float[] v = new float[d];
            for (int i = 0; i < d; i++) {
                v[i] = (float) (centre[i] + noise * gaussian(random));
            }
            out.add(new Embedding(v));
        }
        return out;
    }

    private static double gaussian(SplittableRandom random) {
        // Box-Muller: SplittableRandom has no nextGaussian
        return Math.sqrt(-2 * Math.log(1 - random.nextDouble())) * Math.cos(2 * Math.PI * random.nextDouble());
    }
}
