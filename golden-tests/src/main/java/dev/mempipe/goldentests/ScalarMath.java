package dev.mempipe.goldentests;

import dev.mempipe.spi.Tensor;

/** Row helpers shared by the scalar oracle's op families. */
final class ScalarMath {
    private ScalarMath() {
    }

    /**
     * {@code <a_ra, b_rb>} as the contract defines it: exact long accumulation of the codes scaled once when
     * both rows are integer-coded, otherwise a double sum of the decoded f32 elements.
     */
    static double dot(Tensor a, long ra, Tensor b, long rb) {
        int d = a.cols();
        if (a.type().isQuantized() && b.type().isQuantized()) {
            long sum = 0;
            for (int i = 0; i < d; i++) {
                sum += (long) a.code(ra, i) * b.code(rb, i);
            }
            return sum * (double) a.scale(ra) * (double) b.scale(rb);
        }
        double sum = 0;
        for (int i = 0; i < d; i++) {
            sum += (double) a.get(ra, i) * b.get(rb, i);
        }
        return sum;
    }

    /** The L2 norm of a decoded row, in double. */
    static double norm(Tensor t, long row) {
        double sum = 0;
        for (int i = 0; i < t.cols(); i++) {
            double x = t.get(row, i);
            sum += x * x;
        }
        return Math.sqrt(sum);
    }

    /** A decoded row as doubles (read before writing so that in-place ops see the original values). */
    static double[] row(Tensor t, long row) {
        double[] out = new double[t.cols()];
        for (int i = 0; i < out.length; i++) {
            out[i] = t.get(row, i);
        }
        return out;
    }

    /** Stores a double result, rounding once to f32 and then to the output's storage type. */
    static void store(Tensor t, long row, int col, double value) {
        t.set(row, col, (float) value);
    }
}
