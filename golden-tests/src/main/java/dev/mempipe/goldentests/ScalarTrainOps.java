package dev.mempipe.goldentests;

import dev.mempipe.spi.MlpLoss;
import dev.mempipe.spi.Tensor;
import dev.mempipe.spi.TrainArgs;
import dev.mempipe.spi.TrainOps;

/**
 * The oracle of the parametric-memory ops: the formulas of {@link TrainOps} as plain loops in double, with the
 * backward pass written out term by term, so that it can be checked against finite differences and trusted.
 */
final class ScalarTrainOps implements TrainOps {
    private final ScalarState state;

    ScalarTrainOps(ScalarState state) {
        this.state = state;
    }

    @Override
    public void mlpForward(Tensor x, Tensor w1, Tensor w3, Tensor w2, Tensor y) {
        state.ensureOpen("mlpForward");
        TrainArgs.mlpForward(x, w1, w3, w2, y);
        Pass p = forward(x, w1, w3, w2);
        store(p.y, y);
    }

    @Override
    public void mlpGradient(Tensor x, Tensor t, Tensor w1, Tensor w3, Tensor w2, MlpLoss loss, Tensor g1, Tensor g3,
                            Tensor g2) {
        state.ensureOpen("mlpGradient");
        TrainArgs.mlpGradient(x, t, w1, w3, w2, loss, g1, g3, g2);
        int n = (int) x.rows();
        int d = x.cols();
        int h = (int) w1.rows();
        Pass p = forward(x, w1, w3, w2);
        double[][] dW1 = new double[h][d];
        double[][] dW3 = new double[h][d];
        double[][] dW2 = new double[d][h];
        for (int i = 0; i < n; i++) {
            double[] e = new double[d];  // dL/dy_i
            for (int c = 0; c < d; c++) {
                e[c] = loss == MlpLoss.SQUARED ? 2 * (p.y[i][c] - t.get(i, c)) : -t.get(i, c);
            }
            for (int r = 0; r < d; r++) {
                for (int j = 0; j < h; j++) {
                    dW2[r][j] += e[r] * p.g[i][j];
                }
            }
            for (int j = 0; j < h; j++) {
                double dg = 0;
                for (int r = 0; r < d; r++) {
                    dg += w2.get(r, j) * e[r];
                }
                double a = p.a[i][j];
                double s = 1 / (1 + Math.exp(-a));
                double silu = a * s;
                double dSilu = s * (1 + a * (1 - s));
                double db = dg * silu;
                double da = dg * p.b[i][j] * dSilu;
                for (int c = 0; c < d; c++) {
                    double xc = x.get(i, c);
                    dW1[j][c] += da * xc;
                    dW3[j][c] += db * xc;
                }
            }
        }
        store(dW1, g1);
        store(dW3, g3);
        store(dW2, g2);
    }

    @Override
    public void momentumUpdate(Tensor w, Tensor g, Tensor s, float eta, float theta, float alpha) {
        state.ensureOpen("momentumUpdate");
        TrainArgs.momentumUpdate(w, g, s, eta, theta, alpha);
        for (long r = 0; r < w.rows(); r++) {
            for (int c = 0; c < w.cols(); c++) {
                double m = (double) eta * s.get(r, c) - (double) theta * g.get(r, c);
                s.set(r, c, (float) m);
                w.set(r, c, (float) ((1 - (double) alpha) * w.get(r, c) + (float) m));
            }
        }
    }

    @Override
    public void newtonSchulz(Tensor g, int steps, Tensor o) {
        state.ensureOpen("newtonSchulz");
        TrainArgs.newtonSchulz(g, steps, o);
        int rows = (int) g.rows();
        int cols = g.cols();
        boolean tall = rows > cols;
        int m = tall ? cols : rows;
        int k = tall ? rows : cols;
        double[][] x = new double[m][k];
        double norm = 0;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double v = g.get(r, c);
                norm += v * v;
                if (tall) {
                    x[c][r] = v;
                } else {
                    x[r][c] = v;
                }
            }
        }
        norm = Math.sqrt(norm);
        if (norm > 0) {
            for (double[] row : x) {
                for (int c = 0; c < k; c++) {
                    row[c] /= norm;
                }
            }
            for (int step = 0; step < steps; step++) {
                double[][] a = times(x, transpose(x));                 // (m, m)
                double[][] aa = times(a, a);                            // (m, m)
                double[][] b = new double[m][m];
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < m; j++) {
                        b[i][j] = NS_B * a[i][j] + NS_C * aa[i][j];
                    }
                }
                double[][] bx = times(b, x);                            // (m, k)
                for (int i = 0; i < m; i++) {
                    for (int c = 0; c < k; c++) {
                        x[i][c] = NS_A * x[i][c] + bx[i][c];
                    }
                }
            }
        }
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                o.set(r, c, (float) (tall ? x[c][r] : x[r][c]));
            }
        }
    }

    /** The forward pass's intermediates, in double: a = W1 x, b = W3 x, g = silu(a) b, y = W2 g. */
    private record Pass(double[][] a, double[][] b, double[][] g, double[][] y) {
    }

    private static Pass forward(Tensor x, Tensor w1, Tensor w3, Tensor w2) {
        int n = (int) x.rows();
        int d = x.cols();
        int h = (int) w1.rows();
        double[][] a = new double[n][h];
        double[][] b = new double[n][h];
        double[][] g = new double[n][h];
        double[][] y = new double[n][d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < h; j++) {
                double sa = 0;
                double sb = 0;
                for (int c = 0; c < d; c++) {
                    sa += (double) w1.get(j, c) * x.get(i, c);
                    sb += (double) w3.get(j, c) * x.get(i, c);
                }
                a[i][j] = sa;
                b[i][j] = sb;
                g[i][j] = sa / (1 + Math.exp(-sa)) * sb;
            }
            for (int r = 0; r < d; r++) {
                double sy = 0;
                for (int j = 0; j < h; j++) {
                    sy += w2.get(r, j) * g[i][j];
                }
                y[i][r] = sy;
            }
        }
        return new Pass(a, b, g, y);
    }

    private static double[][] times(double[][] p, double[][] q) {
        int n = p.length;
        int inner = q.length;
        int m = q[0].length;
        double[][] out = new double[n][m];
        for (int i = 0; i < n; i++) {
            for (int l = 0; l < inner; l++) {
                double v = p[i][l];
                for (int j = 0; j < m; j++) {
                    out[i][j] += v * q[l][j];
                }
            }
        }
        return out;
    }

    private static double[][] transpose(double[][] p) {
        double[][] t = new double[p[0].length][p.length];
        for (int i = 0; i < p.length; i++) {
            for (int j = 0; j < p[0].length; j++) {
                t[j][i] = p[i][j];
            }
        }
        return t;
    }

    private static void store(double[][] values, Tensor out) {
        for (int r = 0; r < values.length; r++) {
            for (int c = 0; c < values[r].length; c++) {
                out.set(r, c, (float) values[r][c]);
            }
        }
    }
}
