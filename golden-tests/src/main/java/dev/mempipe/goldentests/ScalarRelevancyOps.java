package dev.mempipe.goldentests;

import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.OpArgs;
import dev.mempipe.spi.RelevancyOps;
import dev.mempipe.spi.Tensor;

import java.util.LinkedHashSet;
import java.util.Set;

/** Stage 2 of the scalar oracle. */
final class ScalarRelevancyOps implements RelevancyOps {
    private final Capabilities caps;
    private final ScalarState state;

    ScalarRelevancyOps(Capabilities caps, ScalarState state) {
        this.caps = caps;
        this.state = state;
    }

    @Override
    public void dot(Tensor q, Tensor m, Tensor s) {
        state.ensureOpen("dot");
        OpArgs.dot(caps, q, m, s);
        for (long j = 0; j < q.rows(); j++) {
            for (int i = 0; i < m.rows(); i++) {
                ScalarMath.store(s, j, i, ScalarMath.dot(q, j, m, i));
            }
        }
    }

    @Override
    public void dotRows(Tensor q, Tensor keys, Indices rowIds, Tensor s) {
        state.ensureOpen("dotRows");
        OpArgs.check(caps, Op.DOT_ROWS, q, keys, rowIds, s);
        for (int j = 0; j < rowIds.length(); j++) {
            ScalarMath.store(s, 0, j, ScalarMath.dot(q, 0, keys, rowIds.get(j)));
        }
    }

    /** The plainest reading of the contract: each code decoded on its own, the sum in a long, rounded once. */
    @Override
    public void codeDotRows(Tensor queryCodes, Tensor codes, int bits, Indices rowIds, Tensor s) {
        state.ensureOpen("codeDotRows");
        OpArgs.codeDotRows(caps, queryCodes, codes, bits, rowIds, s);
        int perByte = bits == 8 ? 1 : 2;
        for (int j = 0; j < rowIds.length(); j++) {
            long sum = 0;
            for (int i = 0; i < queryCodes.cols(); i++) {
                for (int half = 0; half < perByte; half++) {
                    sum += (long) unsignedCode(queryCodes, 0, i, bits, half)
                            * unsignedCode(codes, rowIds.get(j), i, bits, half);
                }
            }
            s.set(0, j, (float) sum);
        }
    }

    /** Code {@code half} of byte {@code col}: the byte itself (8 bits), its high (half 0) or low nibble (4 bits). */
    private static int unsignedCode(Tensor t, long row, int col, int bits, int half) {
        int b = Byte.toUnsignedInt((byte) t.code(row, col));
        return bits == 8 ? b : half == 0 ? b >>> 4 : b & 0xF;
    }

    @Override
    public void cosine(Tensor q, Tensor m, Tensor s) {
        state.ensureOpen("cosine");
        OpArgs.cosine(caps, q, m, s);
        for (long j = 0; j < q.rows(); j++) {
            double qNorm = ScalarMath.norm(q, j);
            for (int i = 0; i < m.rows(); i++) {
                double mNorm = ScalarMath.norm(m, i);
                double cos = qNorm == 0 || mNorm == 0 ? 0 : ScalarMath.dot(q, j, m, i) / (qNorm * mNorm);
                ScalarMath.store(s, j, i, cos);
            }
        }
    }

    @Override
    public void questBound(Tensor q, Tensor min, Tensor max, Tensor s) {
        state.ensureOpen("questBound");
        OpArgs.questBound(caps, q, min, max, s);
        for (long j = 0; j < q.rows(); j++) {
            for (int p = 0; p < min.rows(); p++) {
                double bound = 0;
                for (int i = 0; i < q.cols(); i++) {
                    double qi = q.get(j, i);
                    int c = (int) j * q.cols() + i; // KV head j's band of the summaries
                    bound += Math.max(qi * min.get(p, c), qi * max.get(p, c));
                }
                ScalarMath.store(s, j, p, bound);
            }
        }
    }

    @Override
    public void groupMax(Tensor s, int groupSize, Tensor y) {
        state.ensureOpen("groupMax");
        OpArgs.groupMax(caps, s, groupSize, y);
        int n = s.cols();
        for (long j = 0; j < s.rows(); j++) {
            for (int g = 0; (long) g * groupSize < n; g++) {
                int end = (int) Math.min((long) (g + 1) * groupSize, n);
                float best = Float.NEGATIVE_INFINITY;
                for (int i = g * groupSize; i < end; i++) {
                    best = Math.max(best, s.get(j, i));
                }
                y.set(j, g, best);
            }
        }
    }

    @Override
    public void indexerScore(Tensor q, Tensor w, Tensor keys, Tensor kScale, Tensor s) {
        state.ensureOpen("indexerScore");
        OpArgs.indexerScore(caps, q, w, keys, kScale, s);
        for (int t = 0; t < keys.rows(); t++) {
            double ks = kScale == null ? 1 : kScale.get(0, t);
            double score = 0;
            for (int h = 0; h < q.rows(); h++) {
                double logit = ks * ScalarMath.dot(q, h, keys, t);
                score += w.get(0, h) * Math.max(0, logit);
            }
            ScalarMath.store(s, 0, t, score);
        }
    }

    @Override
    public void softmax(Tensor s, float scale, Tensor p) {
        state.ensureOpen("softmax");
        OpArgs.softmax(caps, s, scale, p);
        // exact two-pass softmax in double; read everything first because s and p may be the same tensor
        double[] x = ScalarMath.row(s, 0);
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < x.length; i++) {
            x[i] *= scale;
            max = Math.max(max, x[i]);
        }
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            x[i] = Math.exp(x[i] - max);
            sum += x[i];
        }
        for (int i = 0; i < x.length; i++) {
            ScalarMath.store(p, 0, i, x[i] / sum);
        }
    }

    @Override
    public void bm25Score(Indices query, Bm25Index index, Bm25Params params, Tensor s) {
        state.ensureOpen("bm25Score");
        OpArgs.bm25Score(caps, query, index, params, s);
        int numDocs = index.numDocs();
        double[] scores = new double[numDocs];
        double k1 = params.k1();
        double b = params.b();
        double avgLength = index.avgDocLength();
        Set<Integer> terms = new LinkedHashSet<>();
        for (int i = 0; i < query.length(); i++) {
            terms.add(query.get(i)); // a repeated query term counts once
        }
        for (int term : terms) {
            int df = index.docFreq(term);
            if (df == 0) {
                continue;
            }
            double idf = params.idf().idf(numDocs, df);
            for (int at = index.postingStart(term); at < index.postingEnd(term); at++) {
                int doc = index.postingDocs()[at];
                double tf = index.postingTfs()[at];
                double lengthNorm = 1 - b + b * index.docLength(doc) / avgLength;
                scores[doc] += idf * tf * (k1 + 1) / (tf + k1 * lengthNorm);
            }
        }
        for (int doc = 0; doc < numDocs; doc++) {
            ScalarMath.store(s, 0, doc, scores[doc]);
        }
    }
}
