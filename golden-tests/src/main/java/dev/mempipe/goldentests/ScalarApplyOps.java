package dev.mempipe.goldentests;

import dev.mempipe.spi.ApplyOps;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.OpArgs;
import dev.mempipe.spi.Tensor;

/** Stage 4 of the scalar oracle. */
final class ScalarApplyOps implements ApplyOps {
    private final Capabilities caps;
    private final ScalarState state;

    ScalarApplyOps(Capabilities caps, ScalarState state) {
        this.caps = caps;
        this.state = state;
    }

    @Override
    public void attention(Tensor q, Tensor keys, Tensor values, int kvHeads, Indices idx, float scale, Tensor out) {
        state.ensureOpen("attention");
        OpArgs.attention(caps, q, keys, values, kvHeads, idx, scale, out);
        int d = q.cols();
        int heads = (int) q.rows();
        int groupSize = heads / kvHeads;
        int selected = idx == null ? (int) keys.rows() : idx.length();
        for (int h = 0; h < heads; h++) {
            int kvCol = (h / groupSize) * d; // GQA: query head h reads KV head h / (Hq / Hkv)
            // exact two-pass softmax in double: the oracle need not be online, only right
            double[] logits = new double[selected];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < selected; j++) {
                int row = idx == null ? j : idx.get(j);
                double dot = 0;
                for (int c = 0; c < d; c++) {
                    dot += (double) q.get(h, c) * keys.get(row, kvCol + c);
                }
                logits[j] = scale * dot;
                max = Math.max(max, logits[j]);
            }
            double sum = 0;
            for (int j = 0; j < selected; j++) {
                logits[j] = Math.exp(logits[j] - max);
                sum += logits[j];
            }
            for (int c = 0; c < d; c++) {
                double o = 0;
                for (int j = 0; j < selected; j++) {
                    int row = idx == null ? j : idx.get(j);
                    o += logits[j] * values.get(row, kvCol + c);
                }
                ScalarMath.store(out, h, c, o / sum);
            }
        }
    }

    @Override
    public void softRetrieve(Tensor a, Tensor v, Tensor out) {
        state.ensureOpen("softRetrieve");
        OpArgs.softRetrieve(caps, a, v, out);
        for (int c = 0; c < v.cols(); c++) {
            double o = 0;
            for (int i = 0; i < v.rows(); i++) {
                o += (double) a.get(0, i) * v.get(i, c);
            }
            ScalarMath.store(out, 0, c, o);
        }
    }
}
