package dev.mempipe.bench;

import dev.mempipe.spi.io.AtomicFile;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.IntPredicate;
import java.util.stream.IntStream;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Exact top-k by brute force in double precision (each f32 product is exact in double, sums round at 2^-53), the
 * reference every recall figure of the store benchmarks is computed against. Ties go to the lower row. Results are
 * cached under {@code java.io.tmpdir} keyed by the data set, the filter and k: about 40 s the first time, then a read.
 */
final class GroundTruth {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_512; // 8 doubles take one 256-bit float load

    private GroundTruth() {
    }

    /** The k best rows (best first) of every query among the rows {@code accept} lets through (null: all). */
    static int[][] topK(ClusteredVectors data, int k, IntPredicate accept, String filterName) {
        Path cache = Path.of(System.getProperty("java.io.tmpdir"),
                "mempipe-bench-truth-" + data.key() + "-k" + k + "-" + filterName + ".bin");
        int[][] cached = read(cache, data.queries.length, k);
        if (cached != null) {
            return cached;
        }
        long start = System.nanoTime();
        int[][] truth = new int[data.queries.length][];
        IntStream.range(0, data.queries.length).parallel()
                .forEach(q -> truth[q] = bruteForce(data.rows, data.queries[q], k, accept));
        System.out.printf("ground truth (%s, %d queries, double brute force): %.1f s%n", filterName,
                data.queries.length, (System.nanoTime() - start) / 1e9);
        write(cache, truth);
        return truth;
    }

    static int[] bruteForce(float[][] rows, float[] query, int k, IntPredicate accept) {
        int[] best = new int[k];
        double[] bestScore = new double[k];
        int found = 0;
        for (int r = 0; r < rows.length; r++) {
            if (accept != null && !accept.test(r)) {
                continue;
            }
            double s = dot(query, rows[r]);
            if (found < k) {
                int at = found++;
                while (at > 0 && bestScore[at - 1] < s) { // strict: an equal score stays behind the lower row
                    best[at] = best[at - 1];
                    bestScore[at] = bestScore[at - 1];
                    at--;
                }
                best[at] = r;
                bestScore[at] = s;
            } else if (s > bestScore[k - 1]) {
                int at = k - 1;
                while (at > 0 && bestScore[at - 1] < s) {
                    best[at] = best[at - 1];
                    bestScore[at] = bestScore[at - 1];
                    at--;
                }
                best[at] = r;
                bestScore[at] = s;
            }
        }
        return found == k ? best : java.util.Arrays.copyOf(best, found);
    }

    /** The dot product in double: every f32 product is exact, the sum rounds in double. */
    static double dot(float[] a, float[] b) {
        DoubleVector acc = DoubleVector.zero(D);
        int i = 0;
        for (; i + F.length() <= a.length; i += F.length()) {
            DoubleVector x = (DoubleVector) FloatVector.fromArray(F, a, i).convertShape(VectorOperators.F2D, D, 0);
            DoubleVector y = (DoubleVector) FloatVector.fromArray(F, b, i).convertShape(VectorOperators.F2D, D, 0);
            acc = x.fma(y, acc);
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < a.length; i++) {
            sum += (double) a[i] * b[i];
        }
        return sum;
    }

    /** Share of {@code truth[q][0..k)} found in {@code got[q]}, over all queries. */
    static double recall(int[][] truth, List<int[]> got, int k) {
        long hit = 0;
        long total = 0;
        for (int q = 0; q < got.size(); q++) {
            int[] want = truth[q];
            int[] have = got.get(q);
            for (int i = 0; i < Math.min(k, want.length); i++) {
                total++;
                for (int h : have) {
                    if (h == want[i]) {
                        hit++;
                        break;
                    }
                }
            }
        }
        return total == 0 ? 1 : (double) hit / total;
    }

    private static int[][] read(Path file, int queries, int k) {
        if (!Files.exists(file)) {
            return null;
        }
        try (DataInputStream in = new DataInputStream(Files.newInputStream(file))) {
            if (in.readInt() != queries) {
                return null;
            }
            int[][] out = new int[queries][];
            for (int q = 0; q < queries; q++) {
                int n = in.readInt();
                if (n > k) {
                    return null;
                }
                out[q] = new int[n];
                for (int i = 0; i < n; i++) {
                    out[q][i] = in.readInt();
                }
            }
            return out;
        } catch (IOException e) {
            return null; // a damaged cache is recomputed
        }
    }

    private static void write(Path file, int[][] truth) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                out.writeInt(truth.length);
                for (int[] t : truth) {
                    out.writeInt(t.length);
                    for (int r : t) {
                        out.writeInt(r);
                    }
                }
            }
            AtomicFile.write(file, bytes.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot cache ground truth in " + file, e);
        }
    }
}
