package dev.mempipe.goldentests;

import dev.mempipe.spi.ApplyOps;
import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.OpArgs;
import dev.mempipe.spi.PoolMode;
import dev.mempipe.spi.PrepareOps;
import dev.mempipe.spi.RelevancyOps;
import dev.mempipe.spi.Tensor;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A correct backend that computes the way a SIMD or device kernel does: f32 arithmetic, eight interleaved
 * partial sums combined at the end, fused multiply-adds, an online (running max) softmax in attention,
 * reciprocal multiplication. Its results differ from the oracle's double arithmetic by real rounding error,
 * so the kit passing it shows that SPEC.md's bounds are not too tight for honest implementations.
 */
final class Float32Backend extends ForwardingBackend {
    private static final Capabilities ALL = Capabilities.all();
    private static final int LANES = 8;

    Float32Backend() {
        super("f32-lanes", new ScalarBackend());
    }

    /** {@code <a_ra, b_rb>} in f32 lanes, or exactly when both are integer-coded. */
    static float dot(Tensor a, long ra, Tensor b, long rb) {
        if (a.type().isQuantized() && b.type().isQuantized()) {
            long sum = 0;
            for (int i = 0; i < a.cols(); i++) {
                sum += (long) a.code(ra, i) * b.code(rb, i);
            }
            return (float) sum * a.scale(ra) * b.scale(rb);
        }
        float[] lanes = new float[LANES];
        for (int i = 0; i < a.cols(); i++) {
            lanes[i % LANES] = Math.fma(a.get(ra, i), b.get(rb, i), lanes[i % LANES]);
        }
        return reduce(lanes);
    }

    static float sumSquares(Tensor a, long r) {
        float[] lanes = new float[LANES];
        for (int i = 0; i < a.cols(); i++) {
            float v = a.get(r, i);
            lanes[i % LANES] = Math.fma(v, v, lanes[i % LANES]);
        }
        return reduce(lanes);
    }

    private static float reduce(float[] lanes) {
        // pairwise, as a vector reduction does
        for (int width = LANES / 2; width >= 1; width /= 2) {
            for (int i = 0; i < width; i++) {
                lanes[i] += lanes[i + width];
            }
        }
        return lanes[0];
    }

    @Override
    public PrepareOps prepare() {
        return new Prepare(delegate.prepare()) {
            @Override
            public void pagePool(Tensor keys, int pageSize, PoolMode mode, Tensor out) {
                if (mode != PoolMode.MEAN) {
                    d.pagePool(keys, pageSize, mode, out);
                    return;
                }
                OpArgs.pagePool(ALL, keys, pageSize, mode, out);
                for (long p = 0; p * pageSize < keys.rows(); p++) {
                    long end = Math.min((p + 1) * pageSize, keys.rows());
                    float inverse = 1f / (end - p * pageSize);
                    for (int c = 0; c < keys.cols(); c++) {
                        float sum = 0;
                        for (long r = p * pageSize; r < end; r++) {
                            sum += keys.get(r, c);
                        }
                        out.set(p, c, sum * inverse);
                    }
                }
            }

            @Override
            public void project(Tensor x, Tensor w, Tensor y) {
                OpArgs.project(ALL, x, w, y);
                for (long j = 0; j < x.rows(); j++) {
                    for (int o = 0; o < w.rows(); o++) {
                        y.set(j, o, dot(x, j, w, o));
                    }
                }
            }

            @Override
            public void l2Normalize(Tensor x, Tensor y) {
                OpArgs.l2Normalize(ALL, x, y);
                for (long r = 0; r < x.rows(); r++) {
                    float norm = (float) Math.sqrt(sumSquares(x, r));
                    float inverse = norm == 0 ? 0 : 1 / norm;
                    float[] row = new float[x.cols()];
                    for (int c = 0; c < row.length; c++) {
                        row[c] = x.get(r, c);
                    }
                    for (int c = 0; c < row.length; c++) {
                        y.set(r, c, row[c] * inverse);
                    }
                }
            }

            @Override
            public void rope(Tensor x, Indices positions, float theta, Tensor y) {
                OpArgs.rope(ALL, x, positions, theta, y);
                int d = x.cols();
                for (long r = 0; r < x.rows(); r++) {
                    for (int i = 0; i < d / 2; i++) {
                        double angle = positions.get((int) r) * Math.pow(theta, -2.0 * i / d);
                        float cos = (float) Math.cos(angle);
                        float sin = (float) Math.sin(angle);
                        float x0 = x.get(r, 2 * i);
                        float x1 = x.get(r, 2 * i + 1);
                        y.set(r, 2 * i, Math.fma(x0, cos, -x1 * sin));
                        y.set(r, 2 * i + 1, Math.fma(x0, sin, x1 * cos));
                    }
                }
            }
        };
    }

    @Override
    public RelevancyOps relevancy() {
        return new Relevancy(delegate.relevancy()) {
            @Override
            public void dot(Tensor q, Tensor m, Tensor s) {
                OpArgs.dot(ALL, q, m, s);
                for (long j = 0; j < q.rows(); j++) {
                    for (int i = 0; i < m.rows(); i++) {
                        s.set(j, i, Float32Backend.dot(q, j, m, i));
                    }
                }
            }

            @Override
            public void cosine(Tensor q, Tensor m, Tensor s) {
                OpArgs.cosine(ALL, q, m, s);
                for (long j = 0; j < q.rows(); j++) {
                    float qn = (float) Math.sqrt(sumSquares(q, j));
                    for (int i = 0; i < m.rows(); i++) {
                        float mn = (float) Math.sqrt(sumSquares(m, i));
                        s.set(j, i, qn == 0 || mn == 0 ? 0 : Float32Backend.dot(q, j, m, i) / (qn * mn));
                    }
                }
            }

            @Override
            public void questBound(Tensor q, Tensor min, Tensor max, Tensor s) {
                OpArgs.questBound(ALL, q, min, max, s);
                for (long j = 0; j < q.rows(); j++) {
                    for (int p = 0; p < min.rows(); p++) {
                        float[] lanes = new float[LANES];
                        for (int i = 0; i < q.cols(); i++) {
                            float qi = q.get(j, i);
                            int c = (int) j * q.cols() + i;
                            lanes[i % LANES] += Math.max(qi * min.get(p, c), qi * max.get(p, c));
                        }
                        s.set(j, p, reduce(lanes));
                    }
                }
            }

            @Override
            public void indexerScore(Tensor q, Tensor w, Tensor keys, Tensor kScale, Tensor s) {
                OpArgs.indexerScore(ALL, q, w, keys, kScale, s);
                for (int t = 0; t < keys.rows(); t++) {
                    float ks = kScale == null ? 1 : kScale.get(0, t);
                    float score = 0;
                    for (int h = 0; h < q.rows(); h++) {
                        score = Math.fma(w.get(0, h), Math.max(0, ks * Float32Backend.dot(q, h, keys, t)), score);
                    }
                    s.set(0, t, score);
                }
            }

            @Override
            public void softmax(Tensor s, float scale, Tensor p) {
                OpArgs.softmax(ALL, s, scale, p);
                int n = s.cols();
                float[] x = new float[n];
                float max = Float.NEGATIVE_INFINITY;
                for (int i = 0; i < n; i++) {
                    x[i] = scale * s.get(0, i);
                    max = Math.max(max, x[i]);
                }
                float sum = 0;
                for (int i = 0; i < n; i++) {
                    x[i] = (float) Math.exp(x[i] - max);
                    sum += x[i];
                }
                float inverse = 1 / sum;
                for (int i = 0; i < n; i++) {
                    p.set(0, i, x[i] * inverse);
                }
            }

            @Override
            public void bm25Score(Indices query, Bm25Index index, Bm25Params params, Tensor s) {
                OpArgs.bm25Score(ALL, query, index, params, s);
                float[] scores = new float[index.numDocs()];
                Set<Integer> terms = new LinkedHashSet<>();
                for (int i = 0; i < query.length(); i++) {
                    terms.add(query.get(i));
                }
                float avg = (float) index.avgDocLength();
                for (int term : terms) {
                    int df = index.docFreq(term);
                    if (df == 0) {
                        continue;
                    }
                    float idf = (float) params.idf().idf(index.numDocs(), df);
                    for (int at = index.postingStart(term); at < index.postingEnd(term); at++) {
                        int doc = index.postingDocs()[at];
                        float tf = index.postingTfs()[at];
                        float norm = 1 - params.b() + params.b() * index.docLength(doc) / avg;
                        scores[doc] += idf * tf * (params.k1() + 1) / (tf + params.k1() * norm);
                    }
                }
                for (int doc = 0; doc < scores.length; doc++) {
                    s.set(0, doc, scores[doc]);
                }
            }
        };
    }

    @Override
    public ApplyOps apply() {
        return new Apply(delegate.apply()) {
            @Override
            public void attention(Tensor q, Tensor keys, Tensor values, int kvHeads, Indices idx, float scale,
                                  Tensor out) {
                OpArgs.attention(ALL, q, keys, values, kvHeads, idx, scale, out);
                int d = q.cols();
                int group = (int) q.rows() / kvHeads;
                int selected = idx == null ? (int) keys.rows() : idx.length();
                for (int h = 0; h < q.rows(); h++) {
                    int base = (h / group) * d;
                    float runningMax = Float.NEGATIVE_INFINITY;
                    float sum = 0;
                    float[] acc = new float[d];
                    for (int j = 0; j < selected; j++) {
                        int row = idx == null ? j : idx.get(j);
                        float[] lanes = new float[LANES];
                        for (int c = 0; c < d; c++) {
                            lanes[c % LANES] = Math.fma(q.get(h, c), keys.get(row, base + c), lanes[c % LANES]);
                        }
                        float logit = scale * reduce(lanes);
                        float newMax = Math.max(runningMax, logit);
                        float rescale = (float) Math.exp(runningMax - newMax); // online softmax
                        float weight = (float) Math.exp(logit - newMax);
                        sum = sum * rescale + weight;
                        for (int c = 0; c < d; c++) {
                            acc[c] = Math.fma(weight, values.get(row, base + c), acc[c] * rescale);
                        }
                        runningMax = newMax;
                    }
                    for (int c = 0; c < d; c++) {
                        out.set(h, c, acc[c] / sum);
                    }
                }
            }

            @Override
            public void softRetrieve(Tensor a, Tensor v, Tensor out) {
                OpArgs.softRetrieve(ALL, a, v, out);
                float[] acc = new float[v.cols()];
                for (int i = 0; i < v.rows(); i++) {
                    float ai = a.get(0, i);
                    for (int c = 0; c < acc.length; c++) {
                        acc[c] = Math.fma(ai, v.get(i, c), acc[c]);
                    }
                }
                for (int c = 0; c < acc.length; c++) {
                    out.set(0, c, acc[c]);
                }
            }
        };
    }
}
