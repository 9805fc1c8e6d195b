package dev.mempipe.goldentests;

import dev.mempipe.spi.ApplyOps;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.FloatFormats;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.MlpLoss;
import dev.mempipe.spi.NaNInputException;
import dev.mempipe.spi.OpArgs;
import dev.mempipe.spi.PoolMode;
import dev.mempipe.spi.PrepareOps;
import dev.mempipe.spi.RelevancyOps;
import dev.mempipe.spi.RetrievalOps;
import dev.mempipe.spi.Tensor;
import dev.mempipe.spi.TrainArgs;
import dev.mempipe.spi.TrainOps;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Comparator;

/**
 * Backends with one realistic bug each: the scalar oracle with a single op replaced by a plausible wrong
 * implementation (the kind a first SIMD or device kernel has). The kit must fail every one of them.
 */
final class BrokenBackends {
    private static final Capabilities ALL = Capabilities.all();

    private BrokenBackends() {
    }

    // ---- Retrieval ----

    /** topK that breaks ties by descending index (a max-heap keyed on (score, index)). */
    static Backend topKTiesByDescendingIndex() {
        return retrieval("topK-ties-descending-index", (s, a, b) -> {
            int c = Float.compare(s[b] == 0 ? 0f : s[b], s[a] == 0 ? 0f : s[a]);
            return c != 0 ? c : Integer.compare(b, a);
        }, true);
    }

    /** topK ordering scores with Float.compare, which puts -0.0 below +0.0. */
    static Backend topKNegativeZeroBelowPositiveZero() {
        return retrieval("topK-negative-zero-unequal", (s, a, b) -> {
            int c = Float.compare(s[b], s[a]);
            return c != 0 ? c : Integer.compare(a, b);
        }, true);
    }

    /** topK that lets NaN through (sorted as if it were -infinity) instead of rejecting it. */
    static Backend topKPassesNaN() {
        return retrieval("topK-passes-nan", (s, a, b) -> {
            float x = Float.isNaN(s[a]) ? Float.NEGATIVE_INFINITY : s[a] == 0 ? 0f : s[a];
            float y = Float.isNaN(s[b]) ? Float.NEGATIVE_INFINITY : s[b] == 0 ? 0f : s[b];
            int c = Float.compare(y, x);
            return c != 0 ? c : Integer.compare(a, b);
        }, false);
    }

    @FunctionalInterface
    private interface ScoreOrder {
        int compare(float[] scores, int a, int b);
    }

    private static Backend retrieval(String name, ScoreOrder order, boolean rejectNaN) {
        return new ForwardingBackend(name, new ScalarBackend()) {
            @Override
            public RetrievalOps retrieval() {
                return new Retrieval(delegate.retrieval()) {
                    @Override
                    public int topK(Tensor s, int k, Indices idx, Tensor val) {
                        OpArgs.topK(ALL, s, k, idx, val);
                        int n = s.cols();
                        float[] scores = new float[n];
                        Integer[] positions = new Integer[n];
                        for (int i = 0; i < n; i++) {
                            scores[i] = s.get(0, i);
                            positions[i] = i;
                            if (rejectNaN && Float.isNaN(scores[i])) {
                                throw new NaNInputException("s", i);
                            }
                        }
                        Arrays.sort(positions, (Comparator<Integer>) (a, b) -> order.compare(scores, a, b));
                        int count = Math.min(k, n);
                        for (int j = 0; j < count; j++) {
                            idx.set(j, positions[j]);
                            if (val != null) {
                                val.set(0, j, scores[positions[j]]);
                            }
                        }
                        return count;
                    }
                };
            }
        };
    }

    /** gather that wraps an out-of-range row number (index modulo n) instead of rejecting it. */
    static Backend gatherWrapsIndices() {
        return new ForwardingBackend("gather-wraps-indices", new ScalarBackend()) {
            @Override
            public RetrievalOps retrieval() {
                return new Retrieval(delegate.retrieval()) {
                    @Override
                    public void gather(Tensor x, Indices idx, Tensor y) {
                        int[] wrapped = idx.toArray();
                        for (int j = 0; j < wrapped.length; j++) {
                            wrapped[j] = Math.floorMod(wrapped[j], (int) Math.max(1, x.rows()));
                        }
                        try (Arena arena = Arena.ofConfined()) {
                            delegate.gather(x, Indices.of(arena, wrapped), y);
                        }
                    }
                };
            }
        };
    }

    // ---- Prepare ----

    /** pageMinMax that only summarizes whole pages: a partial last page is never written. */
    static Backend pageMinMaxSkipsPartialPage() {
        return new ForwardingBackend("pageMinMax-skips-partial-page", new ScalarBackend()) {
            @Override
            public PrepareOps prepare() {
                return new Prepare(delegate.prepare()) {
                    @Override
                    public void pageMinMax(Tensor keys, int pageSize, Tensor min, Tensor max) {
                        OpArgs.pageMinMax(ALL, keys, pageSize, min, max);
                        long full = keys.rows() / pageSize;
                        delegate.pageMinMax(keys.rowSlice(0, full * pageSize), pageSize, min.rowSlice(0, full),
                                max.rowSlice(0, full));
                    }
                };
            }
        };
    }

    /** pagePool that only pools whole pages: a partial last page is never written. */
    static Backend pagePoolSkipsPartialPage() {
        return new ForwardingBackend("pagePool-skips-partial-page", new ScalarBackend()) {
            @Override
            public PrepareOps prepare() {
                return new Prepare(delegate.prepare()) {
                    @Override
                    public void pagePool(Tensor keys, int pageSize, PoolMode mode, Tensor out) {
                        OpArgs.pagePool(ALL, keys, pageSize, mode, out);
                        long full = keys.rows() / pageSize;
                        delegate.pagePool(keys.rowSlice(0, full * pageSize), pageSize, mode, out.rowSlice(0, full));
                    }
                };
            }
        };
    }

    /** MEAN pooling that divides every page, the partial last one included, by P. */
    static Backend meanPoolDividesByPageSize() {
        return new ForwardingBackend("pagePool-mean-divides-by-P", new ScalarBackend()) {
            @Override
            public PrepareOps prepare() {
                return new Prepare(delegate.prepare()) {
                    @Override
                    public void pagePool(Tensor keys, int pageSize, PoolMode mode, Tensor out) {
                        if (mode != PoolMode.MEAN) {
                            delegate.pagePool(keys, pageSize, mode, out);
                            return;
                        }
                        OpArgs.pagePool(ALL, keys, pageSize, mode, out);
                        for (long p = 0; p * pageSize < keys.rows(); p++) {
                            long end = Math.min((p + 1) * pageSize, keys.rows());
                            for (int c = 0; c < keys.cols(); c++) {
                                double sum = 0;
                                for (long r = p * pageSize; r < end; r++) {
                                    sum += keys.get(r, c);
                                }
                                out.set(p, c, (float) (sum / pageSize));
                            }
                        }
                    }
                };
            }
        };
    }

    /** convert to F16 that truncates toward zero instead of rounding to nearest even. */
    static Backend f16ConversionTruncates() {
        return truncatingConvert("convert-f16-truncates", ElementType.F16);
    }

    /** convert to BF16 that keeps the top 16 bits (truncation) instead of rounding to nearest even. */
    static Backend bf16ConversionTruncates() {
        return truncatingConvert("convert-bf16-truncates", ElementType.BF16);
    }

    private static Backend truncatingConvert(String name, ElementType target) {
        return new ForwardingBackend(name, new ScalarBackend()) {
            @Override
            public PrepareOps prepare() {
                return new Prepare(delegate.prepare()) {
                    @Override
                    public void convert(Tensor x, Tensor y) {
                        if (y.type() != target) {
                            delegate.convert(x, y);
                            return;
                        }
                        OpArgs.convert(ALL, x, y);
                        for (long r = 0; r < x.rows(); r++) {
                            for (int c = 0; c < x.cols(); c++) {
                                float v = x.get(r, c);
                                short bits;
                                if (target == ElementType.BF16) {
                                    bits = (short) (Float.floatToRawIntBits(v) >>> 16);
                                } else {
                                    bits = FloatFormats.floatToF16(v);
                                    if (!Float.isNaN(v) && Math.abs(FloatFormats.f16ToFloat(bits)) > Math.abs(v)) {
                                        bits--; // one step toward zero: sign-magnitude bits
                                    }
                                }
                                y.data().set(ValueLayout.JAVA_SHORT_UNALIGNED, y.offset(r, c), bits);
                            }
                        }
                    }
                };
            }
        };
    }

    // ---- Relevancy ----

    /** softmax that exponentiates the raw scores in f32 (no max subtraction): overflows above 88.7. */
    static Backend softmaxWithoutMaxSubtraction() {
        return new ForwardingBackend("softmax-without-max-subtraction", new ScalarBackend()) {
            @Override
            public RelevancyOps relevancy() {
                return new Relevancy(delegate.relevancy()) {
                    @Override
                    public void softmax(Tensor s, float scale, Tensor p) {
                        OpArgs.softmax(ALL, s, scale, p);
                        float[] e = new float[s.cols()];
                        float sum = 0;
                        for (int i = 0; i < e.length; i++) {
                            e[i] = (float) Math.exp(scale * s.get(0, i));
                            sum += e[i];
                        }
                        for (int i = 0; i < e.length; i++) {
                            p.set(0, i, e[i] / sum);
                        }
                    }
                };
            }
        };
    }

    /** bm25Score that adds a term's contribution once per occurrence in the query. */
    static Backend bm25CountsRepeatedTerms() {
        return new ForwardingBackend("bm25-counts-repeated-terms", new ScalarBackend()) {
            @Override
            public RelevancyOps relevancy() {
                return new Relevancy(delegate.relevancy()) {
                    @Override
                    public void bm25Score(Indices query, Bm25Index index, Bm25Params params, Tensor s) {
                        OpArgs.bm25Score(ALL, query, index, params, s);
                        double[] total = new double[index.numDocs()];
                        try (Arena arena = Arena.ofConfined()) {
                            Tensor one = Tensor.allocate(arena, ElementType.F32, 1, index.numDocs());
                            for (int j = 0; j < query.length(); j++) {
                                delegate.bm25Score(Indices.of(arena, query.get(j)), index, params, one);
                                for (int doc = 0; doc < total.length; doc++) {
                                    total[doc] += one.get(0, doc);
                                }
                            }
                        }
                        for (int doc = 0; doc < total.length; doc++) {
                            s.set(0, doc, (float) total[doc]);
                        }
                    }
                };
            }
        };
    }

    /** Integer dot products accumulated in an f32 register instead of exactly (in long). */
    static Backend int8DotAccumulatesInFloat() {
        return new ForwardingBackend("int-dot-accumulates-in-f32", new ScalarBackend()) {
            @Override
            public RelevancyOps relevancy() {
                return new Relevancy(delegate.relevancy()) {
                    @Override
                    public void dot(Tensor q, Tensor m, Tensor s) {
                        if (!(q.type().isQuantized() && m.type().isQuantized())) {
                            delegate.dot(q, m, s);
                            return;
                        }
                        OpArgs.dot(ALL, q, m, s);
                        for (long j = 0; j < q.rows(); j++) {
                            for (int i = 0; i < m.rows(); i++) {
                                float acc = 0;
                                for (int c = 0; c < q.cols(); c++) {
                                    acc += (float) (q.code(j, c) * m.code(i, c));
                                }
                                s.set(j, i, acc * q.scale(j) * m.scale(i));
                            }
                        }
                    }
                };
            }
        };
    }

    /** project that decodes integer rows to f32 and accumulates in f32 (the contract asks for exact sums). */
    static Backend intProjectAccumulatesInFloat() {
        return new ForwardingBackend("int-project-accumulates-in-f32", new ScalarBackend()) {
            @Override
            public PrepareOps prepare() {
                return new Prepare(delegate.prepare()) {
                    @Override
                    public void project(Tensor x, Tensor w, Tensor y) {
                        if (!(x.type().isQuantized() && w.type().isQuantized())) {
                            delegate.project(x, w, y);
                            return;
                        }
                        OpArgs.project(ALL, x, w, y);
                        for (long j = 0; j < x.rows(); j++) {
                            for (int o = 0; o < w.rows(); o++) {
                                float acc = 0;
                                for (int c = 0; c < x.cols(); c++) {
                                    acc += x.get(j, c) * w.get(o, c);
                                }
                                y.set(j, o, acc);
                            }
                        }
                    }
                };
            }
        };
    }

    // ---- Apply ----

    /** GQA attention that maps query head h to KV head h % Hkv instead of h / (Hq / Hkv). */
    static Backend gqaHeadModulo() {
        return new ForwardingBackend("attention-gqa-h-mod-hkv", new ScalarBackend()) {
            @Override
            public ApplyOps apply() {
                return new Apply(delegate.apply()) {
                    @Override
                    public void attention(Tensor q, Tensor keys, Tensor values, int kvHeads, Indices idx,
                                          float scale, Tensor out) {
                        OpArgs.attention(ALL, q, keys, values, kvHeads, idx, scale, out);
                        int d = q.cols();
                        int selected = idx == null ? (int) keys.rows() : idx.length();
                        for (int h = 0; h < q.rows(); h++) {
                            int kvCol = (h % kvHeads) * d;
                            double[] w = new double[selected];
                            double max = Double.NEGATIVE_INFINITY;
                            for (int j = 0; j < selected; j++) {
                                int row = idx == null ? j : idx.get(j);
                                double dot = 0;
                                for (int c = 0; c < d; c++) {
                                    dot += (double) q.get(h, c) * keys.get(row, kvCol + c);
                                }
                                w[j] = scale * dot;
                                max = Math.max(max, w[j]);
                            }
                            double sum = 0;
                            for (int j = 0; j < selected; j++) {
                                w[j] = Math.exp(w[j] - max);
                                sum += w[j];
                            }
                            for (int c = 0; c < d; c++) {
                                double o = 0;
                                for (int j = 0; j < selected; j++) {
                                    o += w[j] * values.get(idx == null ? j : idx.get(j), kvCol + c);
                                }
                                out.set(h, c, (float) (o / sum));
                            }
                        }
                    }
                };
            }
        };
    }

    /** Attention whose loop bound is off by one: the last selected row is never read. */
    static Backend attentionSkipsLastRow() {
        return new ForwardingBackend("attention-skips-last-row", new ScalarBackend()) {
            @Override
            public ApplyOps apply() {
                return new Apply(delegate.apply()) {
                    @Override
                    public void attention(Tensor q, Tensor keys, Tensor values, int kvHeads, Indices idx,
                                          float scale, Tensor out) {
                        OpArgs.attention(ALL, q, keys, values, kvHeads, idx, scale, out);
                        int[] rows;
                        if (idx == null) {
                            rows = new int[(int) keys.rows()];
                            Arrays.setAll(rows, i -> i);
                        } else {
                            rows = idx.toArray();
                        }
                        if (rows.length == 1) {
                            for (long h = 0; h < out.rows(); h++) {
                                for (int c = 0; c < out.cols(); c++) {
                                    out.set(h, c, 0f); // nothing left to attend to
                                }
                            }
                            return;
                        }
                        try (Arena arena = Arena.ofConfined()) {
                            delegate.attention(q, keys, values, kvHeads,
                                    Indices.of(arena, Arrays.copyOf(rows, rows.length - 1)), scale, out);
                        }
                    }
                };
            }
        };
    }

    /** A fused scoring unit whose row loop stops one key early: the last key can never be chosen. */
    static Backend fusedDotTopKSkipsLastKey() {
        return new ForwardingBackend("fused-dotTopK-skips-last-key", new ScalarBackend()) {
            @Override
            public dev.mempipe.spi.FusedOps fused() {
                Backend self = this;
                return new dev.mempipe.spi.FusedOps() {
                    @Override
                    public Backend backend() {
                        return self;
                    }

                    @Override
                    public int dotTopK(Tensor q, Tensor keys, int k, Indices idx, Tensor val) {
                        if (keys.rows() <= 1) {
                            return dev.mempipe.spi.FusedOps.super.dotTopK(q, keys, k, idx, val);
                        }
                        return dev.mempipe.spi.FusedOps.super.dotTopK(q, keys.rowSlice(0, keys.rows() - 1), k, idx,
                                val);
                    }
                };
            }
        };
    }

    /** A batched topK that selects row 0 and writes it for every row (a stride bug in the row loop). */
    static Backend topKBatchRepeatsFirstRow() {
        return new ForwardingBackend("topK-batch-repeats-row-0", new ScalarBackend()) {
            @Override
            public RetrievalOps retrieval() {
                return new Retrieval(delegate.retrieval()) {
                    @Override
                    public int topK(Tensor s, int k, Indices idx, Tensor val) {
                        OpArgs.topK(ALL, s, k, idx, val);
                        int count = 0;
                        for (long j = 0; j < s.rows(); j++) {
                            Indices rowIdx = Indices.wrap(idx.data().asSlice(4L * j * Math.min(k, s.cols())),
                                    Math.min(k, s.cols()));
                            count = delegate.topK(s.rowSlice(0, 1), k, rowIdx, val == null ? null : val.rowSlice(j, j + 1));
                        }
                        return count;
                    }
                };
            }
        };
    }

    // ---- TrainOps ----

    /** mlpGradient of the squared loss without the 2 of {@code d||y - t||^2 / dy = 2 (y - t)}. */
    static Backend squaredLossGradientWithoutTheTwo() {
        return train("squared-loss-without-2", new ForwardingBackend.Train(new ScalarBackend().train()) {
            @Override
            public void mlpGradient(Tensor x, Tensor t, Tensor w1, Tensor w3, Tensor w2, MlpLoss loss, Tensor g1,
                                    Tensor g3, Tensor g2) {
                delegate.mlpGradient(x, t, w1, w3, w2, loss, g1, g3, g2);
                if (loss == MlpLoss.SQUARED) {
                    for (Tensor g : new Tensor[] {g1, g3, g2}) {
                        for (long r = 0; r < g.rows(); r++) {
                            for (int c = 0; c < g.cols(); c++) {
                                g.set(r, c, g.get(r, c) / 2);
                            }
                        }
                    }
                }
            }
        });
    }

    /** newtonSchulz with an off-by-one loop: one iteration fewer than asked (at least one). */
    static Backend newtonSchulzOneStepShort() {
        return train("newton-schulz-one-step-short", new ForwardingBackend.Train(new ScalarBackend().train()) {
            @Override
            public void newtonSchulz(Tensor g, int steps, Tensor o) {
                delegate.newtonSchulz(g, steps > 1 ? steps - 1 : steps, o);
            }
        });
    }

    /** momentumUpdate that decays the updated weights, {@code W = (1 - alpha) (W + S)}, instead of W alone. */
    static Backend momentumDecaysTheUpdate() {
        return train("momentum-decays-the-update", new ForwardingBackend.Train(new ScalarBackend().train()) {
            @Override
            public void momentumUpdate(Tensor w, Tensor g, Tensor s, float eta, float theta, float alpha) {
                TrainArgs.momentumUpdate(w, g, s, eta, theta, alpha);
                for (long r = 0; r < w.rows(); r++) {
                    for (int c = 0; c < w.cols(); c++) {
                        float m = eta * s.get(r, c) - theta * g.get(r, c);
                        s.set(r, c, m);
                        w.set(r, c, (1 - alpha) * (w.get(r, c) + m));
                    }
                }
            }
        });
    }

    /** mlpForward that clears Y before it checks the weights (a rejected call then has written). */
    static Backend mlpForwardClearsBeforeChecking() {
        return train("mlp-forward-clears-first", new ForwardingBackend.Train(new ScalarBackend().train()) {
            @Override
            public void mlpForward(Tensor x, Tensor w1, Tensor w3, Tensor w2, Tensor y) {
                for (long r = 0; r < y.rows(); r++) {
                    for (int c = 0; c < y.cols(); c++) {
                        y.set(r, c, 0f);
                    }
                }
                delegate.mlpForward(x, w1, w3, w2, y);
            }
        });
    }

    private static Backend train(String name, TrainOps ops) {
        return new ForwardingBackend(name, new ScalarBackend()) {
            @Override
            public TrainOps train() {
                return ops;
            }
        };
    }
}
