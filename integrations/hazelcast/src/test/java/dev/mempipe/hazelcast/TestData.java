package dev.mempipe.hazelcast;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.Hits;
import dev.mempipe.core.profile.EnergyMeter;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded data for the cluster tests. The seed is {@code -Dmempipe.kit.seed} (a number, or {@code random}) as in the
 * conformance kit, {@code -Dmempipe.kit.scale=N} multiplies the sizes; every failure message carries the seed and the
 * command that reruns the class with it.
 */
final class TestData {
    static final long SEED = seed();
    static final int SCALE = Integer.getInteger("mempipe.kit.scale", 1);
    /** The engine the single-node references run on (as the store's default: bounded records, no energy). */
    static final Engine ENGINE = Engine.builder().maxRecords(256)
            .energyMeter(EnergyMeter.unavailable("not metered in tests")).build();

    private TestData() {
    }

    private static long seed() {
        String property = System.getProperty("mempipe.kit.seed");
        if (property == null || property.isBlank()) {
            return 0x6D656D70697065L;
        }
        return property.equals("random") ? new SplittableRandom().nextLong() : Long.decode(property);
    }

    static SplittableRandom random(String salt) {
        return new SplittableRandom(SEED ^ salt.hashCode() * 0x9E3779B97F4A7C15L);
    }

    /** Appended to failure messages: the seed and a rerun command. */
    static String reproduce(Class<?> testClass) {
        return "seed " + SEED + "; rerun: ./mvnw verify -pl integrations/hazelcast -am -Dtest=" + testClass.getSimpleName()
                + " -Dsurefire.failIfNoSpecifiedTests=false -Dmempipe.test.argLine=-Dmempipe.kit.seed=" + SEED;
    }

    static float[][] gaussian(SplittableRandom random, int n, int d) {
        float[][] rows = new float[n][d];
        for (float[] row : rows) {
            for (int i = 0; i < d; i++) {
                row[i] = (float) random.nextGaussian();
            }
        }
        return rows;
    }

    /**
     * Rows with at most two nonzero elements (small integers), drawn from a few patterns, so there are many exact
     * duplicates (exact ties, spread over all members) and some all-zero rows. Every sum the ops form over such a row
     * (its norm, its dot product with any query) has at most two nonzero terms, so it is exact whatever order the
     * kernels add lanes in: the cluster and one node must agree to the bit.
     */
    static float[][] twoHotRows(SplittableRandom random, int n, int d, int patterns) {
        float[][] distinct = new float[patterns][];
        for (int p = 0; p < patterns; p++) {
            distinct[p] = twoHot(random, d);
        }
        float[][] rows = new float[n][];
        for (int r = 0; r < n; r++) {
            rows[r] = distinct[random.nextInt(patterns)].clone();
        }
        return rows;
    }

    /** A vector with at most two nonzero elements, small integers of either sign (sometimes all zero). */
    static float[] twoHot(SplittableRandom random, int d) {
        float[] v = new float[d];
        v[random.nextInt(d)] = random.nextInt(-2, 3);
        v[random.nextInt(d)] = random.nextInt(-2, 3);
        return v;
    }

    static float[] flatten(float[][] rows, int d) {
        float[] out = new float[rows.length * d];
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(rows[r], 0, out, r * d, d);
        }
        return out;
    }

    static ClusterHits toCluster(Hits hits) {
        long[] ids = new long[hits.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = hits.id(i);
        }
        return new ClusterHits(ids, hits.scores());
    }

    /**
     * The cluster's answer against one node's, when scores are f32 dot products whose lane sums the JIT may add in
     * another order (the ops' documented "up to the last bits"): same length, distinct ids, each rank's score within
     * {@code tau} of one node's score at that rank, and the ids equal index for index except where one node's scores
     * at the two ranks are themselves within {@code tau} (a near-tie either order answers).
     *
     * @return how many ranks differed (near-ties)
     */
    static int assertSameWithin(ClusterHits want, ClusterHits got, float tau, String context) {
        assertEquals(want.size(), got.size(), context + ": result size");
        Set<Long> seen = new HashSet<>();
        int differing = 0;
        for (int i = 0; i < want.size(); i++) {
            assertTrue(seen.add(got.id(i)), context + ": id " + got.id(i) + " returned twice");
            assertTrue(Math.abs(want.score(i) - got.score(i)) <= tau, context + ": rank " + i + " score "
                    + got.score(i) + " vs " + want.score(i) + " (tau " + tau + ")\nwant " + want + "\ngot  " + got);
            if (want.id(i) != got.id(i)) {
                differing++;
                boolean nearTie = (i > 0 && want.score(i - 1) - want.score(i) <= 2 * tau)
                        || (i + 1 < want.size() && want.score(i) - want.score(i + 1) <= 2 * tau)
                        || i == want.size() - 1;
                assertTrue(nearTie, context + ": rank " + i + " holds id " + got.id(i) + " instead of " + want.id(i)
                        + " with no near-tie\nwant " + want + "\ngot  " + got);
            }
        }
        return differing;
    }
}
