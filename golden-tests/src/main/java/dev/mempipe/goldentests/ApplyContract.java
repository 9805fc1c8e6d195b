package dev.mempipe.goldentests;

import dev.mempipe.goldentests.Gen.Profile;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Tensor;
import dev.mempipe.spi.UnsupportedElementTypeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;
import java.util.SplittableRandom;

import static dev.mempipe.spi.ElementType.F32;

/**
 * Conformance of Stage 4, Apply to Inference ({@link dev.mempipe.spi.ApplyOps}): sparse and dense GQA attention
 * and softRetrieve against the scalar oracle with SPEC.md's attention bound, the metamorphic properties
 * (sparse over every row equals dense, outputs inside the range of the selected values, no overflow on large
 * logits) and the bad-input contract. Extend it with one method:
 *
 * <pre>{@code
 * class MyApplyConformanceTest extends ApplyContract {
 *     protected Backend backend() { return new MyBackend(); }
 * }
 * }</pre>
 */
public abstract class ApplyContract extends BackendContract {
    private static final double U = Tolerances.U32;

    /** One attention case: inputs, GQA shape and selection. */
    private record Case(Tensor q, Tensor keys, Tensor values, int kvHeads, Indices idx, float scale) {
        int heads() {
            return (int) q.rows();
        }

        int d() {
            return q.cols();
        }

        int[] rows() {
            if (idx == null) {
                int[] all = new int[(int) keys.rows()];
                Arrays.setAll(all, i -> i);
                return all;
            }
            return idx.toArray();
        }
    }

    @ParameterizedTest(name = "K,V {0}")
    @EnumSource(ElementType.class)
    void attention_should_match_the_oracle_within_the_error_bound(ElementType type) {
        requireType(Op.ATTENTION, type);
        property(Op.ATTENTION, 6, t -> {
            SplittableRandom r = t.random();
            Case c = randomCase(t, type, Gen.pick(r, 1, 1, 2, 4), Gen.pick(r, 1, 2, 3, 4), r.nextInt(3) == 0);
            checkAgainstOracle(t, c, Gen.floatOutput(r));
        });
    }

    @ParameterizedTest(name = "K,V {0}")
    @EnumSource(ElementType.class)
    void attention_should_map_query_heads_to_kv_heads_in_groups(ElementType type) {
        requireType(Op.ATTENTION, type);
        property(Op.ATTENTION, 3, t -> {
            // Hkv > 1 and Hq/Hkv > 1: head h reads KV head h / (Hq/Hkv), never h % Hkv
            SplittableRandom r = t.random();
            Case c = randomCase(t, type, Gen.pick(r, 2, 4), Gen.pick(r, 2, 3, 4), r.nextBoolean());
            checkAgainstOracle(t, c, F32);
        });
    }

    @ParameterizedTest(name = "K,V {0}")
    @EnumSource(ElementType.class)
    void attention_sparse_over_every_row_should_equal_dense(ElementType type) {
        requireType(Op.ATTENTION, type);
        property(Op.ATTENTION, 4, t -> {
            SplittableRandom r = t.random();
            Case dense = randomCase(t, type, Gen.pick(r, 1, 2), Gen.pick(r, 1, 2), true);
            int length = (int) dense.keys().rows();
            int[] all = new int[length];
            Arrays.setAll(all, i -> i);
            Indices idx = t.input("idx", Gen.indices(t, all));
            Tensor sparseOut = t.output("o (sparse)", F32, dense.heads(), dense.d());
            Tensor denseOut = t.output("o (dense)", F32, dense.heads(), dense.d());
            subject().apply().attention(dense.q(), dense.keys(), dense.values(), dense.kvHeads(), idx,
                    dense.scale(), sparseOut);
            subject().apply().attention(dense.q(), dense.keys(), dense.values(), dense.kvHeads(), null,
                    dense.scale(), denseOut);
            double[][] bound = bound(dense, F32, null);
            // both are within the bound of the exact result, so within twice the bound of each other
            Compare.within("o (sparse over all rows vs dense)", sparseOut, denseOut, Compare.Bound.of(
                    "2 * (4*(L+d)*2^-24*max|V| + 4*logitErr*max|V|)",
                    (h, col, e) -> 2 * bound[(int) h][col], (h, col) -> "L=" + length + ", d=" + dense.d()));
        });
    }

    @Test
    void attention_should_not_overflow_on_large_logits() {
        requireOp(Op.ATTENTION);
        property(Op.ATTENTION, 4, t -> {
            // integer-valued q and K: logits up to d*64*64 are exact, far beyond exp's f32 range (88.7),
            // so only a running max keeps them finite
            SplittableRandom r = t.random();
            int kvHeads = Gen.pick(r, 1, 2);
            int heads = kvHeads * Gen.pick(r, 1, 2);
            int d = t.cols(Gen.size(r, 33));
            int length = t.rows(Gen.size(r, size(129)));
            Tensor q = t.input("q", Gen.integers(t, declaredType(r, Op.ATTENTION), heads, d, -64, 64));
            Tensor keys = t.input("K", Gen.integers(t, declaredType(r, Op.ATTENTION), length, kvHeads * d, -64, 64));
            Tensor values = t.input("V", Gen.tensor(t, declaredType(r, Op.ATTENTION), length, kvHeads * d,
                    Profile.UNIT));
            float scale = t.param("scale", Gen.pick(r, 1f, 4f));
            t.param("Hkv", kvHeads);
            checkAgainstOracle(t, new Case(q, keys, values, kvHeads, null, scale), F32);
        });
    }

    /** A random GQA case; {@code dense} leaves idx null. */
    private Case randomCase(Trial t, ElementType kvType, int kvHeads, int group, boolean dense) {
        SplittableRandom r = t.random();
        int heads = kvHeads * group;
        int d = t.cols(Gen.size(r, size(129)));
        int length = t.rows(Gen.size(r, size(257)));
        t.param("Hq", heads);
        t.param("Hkv", kvHeads);
        Tensor q = t.input("q", Gen.tensor(t, declaredType(r, Op.ATTENTION), heads, d, Profile.UNIT));
        Tensor keys = t.input("K", Gen.tensor(t, kvType, length, kvHeads * d, Profile.UNIT));
        Tensor values = t.input("V", Gen.tensor(t, kvType, length, kvHeads * d,
                Gen.pick(r, Profile.UNIT, Profile.WIDE)));
        float scale = t.param("scale", Gen.pick(r, (float) (1 / Math.sqrt(d)), 0.125f, 1f, 4f));
        Indices idx = null;
        if (!dense) {
            int[] rows = Gen.distinct(r, length, r.nextInt(1, length + 1));
            if (r.nextBoolean()) {
                Arrays.sort(rows); // the usual order after expandBlocks; unsorted is legal too
            }
            idx = t.input("idx", Gen.indices(t, rows));
        } else {
            t.describe("idx", "null (dense)");
        }
        return new Case(q, keys, values, kvHeads, idx, scale);
    }

    private void checkAgainstOracle(Trial t, Case c, ElementType outType) {
        Tensor out = t.output("o", outType, c.heads(), c.d());
        Tensor ref = t.reference(F32, c.heads(), c.d());
        subject().apply().attention(c.q(), c.keys(), c.values(), c.kvHeads(), c.idx(), c.scale(), out);
        oracle().apply().attention(c.q(), c.keys(), c.values(), c.kvHeads(), c.idx(), c.scale(), ref);
        double[][][] range = new double[2][][];
        double[][] bound = bound(c, outType, range);
        int selected = c.rows().length;
        Compare.within("o", out, ref, Compare.Bound.of(
                "4*(L+d)*2^-24*max|V| + 4*logitErr*max|V| + ulp(" + outType + ")/2 (SPEC.md attention bound"
                        + " plus the logits' own rounding)",
                (h, col, e) -> bound[(int) h][col] + Tolerances.halfUlp(outType, e),
                (h, col) -> "L=" + selected + " selected rows, d=" + c.d() + ", bound before output rounding "
                        + Compare.num(bound[(int) h][col])));
        // a convex combination stays inside the per-coordinate range of the selected value rows
        for (int h = 0; h < c.heads(); h++) {
            for (int col = 0; col < c.d(); col++) {
                double got = out.get(h, col);
                double slack = bound[h][col] + Tolerances.halfUlp(outType, got);
                if (!(got >= range[0][h][col] - slack && got <= range[1][h][col] + slack)) {
                    throw new AssertionError("o[" + h + ", " + col + "] = " + Compare.num(got) + " is outside ["
                            + Compare.num(range[0][h][col]) + ", " + Compare.num(range[1][h][col])
                            + "], the range of the selected V rows (slack " + Compare.num(slack) + ")");
                }
            }
        }
    }

    /**
     * Per output coordinate: SPEC.md's {@code c*(L + d)*2^-24*max|V|} (c = 4, {@link Tolerances#attention}
     * without the output rounding) plus the effect of the logits' rounding: each logit
     * {@code scale*<q_h, K_i>} carries up to {@code |scale|*(2d+2)*2^-24*sum|q*k|}, which moves the weights by a
     * relative {@code 2*logitErr} and the output by at most {@code 4*logitErr*max|V|}.
     *
     * @param range when not null, receives {min, max} per coordinate over the selected V rows
     */
    private static double[][] bound(Case c, ElementType out, double[][][] range) {
        int[] rows = c.rows();
        int d = c.d();
        int group = c.heads() / c.kvHeads();
        double[][] bound = new double[c.heads()][d];
        if (range != null) {
            range[0] = new double[c.heads()][d];
            range[1] = new double[c.heads()][d];
        }
        for (int h = 0; h < c.heads(); h++) {
            int base = (h / group) * d;
            double maxAbsV = 0;
            double logitErr = 0;
            double[] lo = new double[d];
            double[] hi = new double[d];
            Arrays.fill(lo, Double.POSITIVE_INFINITY);
            Arrays.fill(hi, Double.NEGATIVE_INFINITY);
            for (int i : rows) {
                double sumAbs = 0;
                for (int col = 0; col < d; col++) {
                    sumAbs += Math.abs((double) c.q().get(h, col) * c.keys().get(i, base + col));
                    double v = c.values().get(i, base + col);
                    maxAbsV = Math.max(maxAbsV, Math.abs(v));
                    lo[col] = Math.min(lo[col], v);
                    hi[col] = Math.max(hi[col], v);
                }
                logitErr = Math.max(logitErr, Math.abs(c.scale()) * (2.0 * d + 2) * U * sumAbs);
            }
            double b = Tolerances.attention(rows.length, d, maxAbsV, F32, 0) + 4 * Math.expm1(logitErr) * maxAbsV;
            Arrays.fill(bound[h], b);
            if (range != null) {
                range[0][h] = lo;
                range[1][h] = hi;
            }
        }
        return bound;
    }

    // ---- softRetrieve ----

    @ParameterizedTest(name = "V {0}")
    @EnumSource(ElementType.class)
    void softRetrieve_should_match_the_oracle_within_the_error_bound(ElementType type) {
        requireType(Op.SOFT_RETRIEVE, type);
        property(Op.SOFT_RETRIEVE, 6, t -> {
            SplittableRandom r = t.random();
            ElementType aType = declaredType(r, Op.SOFT_RETRIEVE);
            ElementType outType = Gen.floatOutput(r);
            int n = t.rows(Gen.size(r, size(257)));
            int d = t.cols(Gen.size(r, size(129)));
            Tensor a = t.input("a", Gen.tensor(t, aType, 1, n, Profile.UNIT));
            Tensor v = t.input("V", Gen.tensor(t, type, n, d, Gen.pick(r, Profile.UNIT, Profile.WIDE)));
            Tensor out = t.output("o", outType, 1, d);
            Tensor ref = t.reference(F32, 1, d);
            subject().apply().softRetrieve(a, v, out);
            oracle().apply().softRetrieve(a, v, ref);
            double[][] sumAbs = new double[1][d];
            for (int i = 0; i < n; i++) {
                double ai = a.get(0, i);
                for (int col = 0; col < d; col++) {
                    sumAbs[0][col] += Math.abs(ai * v.get(i, col));
                }
            }
            Compare.within("o", out, ref, Compare.dotBound(outType, n, sumAbs));
        });
    }

    // ---- bad input ----

    @Test
    void attention_should_reject_kv_heads_that_do_not_divide_query_heads() {
        requireOp(Op.ATTENTION);
        property(Op.ATTENTION, 2, t -> {
            ElementType type = declaredType(t.random(), Op.ATTENTION);
            Tensor q = t.input("q", Gen.tensor(t, type, 3, 8, Profile.UNIT));
            Tensor keys = t.input("K", Gen.tensor(t, type, 5, 16, Profile.UNIT));
            Tensor values = t.input("V", Gen.tensor(t, type, 5, 16, Profile.UNIT));
            Tensor out = t.output("o", F32, 3, 8);
            BadInput.expect(t, IllegalArgumentException.class, "Hkv", "attention with Hq=3, Hkv=2",
                    () -> subject().apply().attention(q, keys, values, 2, null, 0.35f, out));
        });
    }

    @Test
    void attention_should_reject_an_out_of_range_index() {
        requireOp(Op.ATTENTION);
        property(Op.ATTENTION, 2, t -> {
            SplittableRandom r = t.random();
            ElementType type = declaredType(r, Op.ATTENTION);
            Tensor q = t.input("q", Gen.tensor(t, type, 2, 8, Profile.UNIT));
            Tensor keys = t.input("K", Gen.tensor(t, type, 5, 8, Profile.UNIT));
            Tensor values = t.input("V", Gen.tensor(t, type, 5, 8, Profile.UNIT));
            int bad = t.param("bad index", Gen.pick(r, 5, 6, -1));
            Indices idx = t.input("idx", Gen.indices(t, 0, 4, bad));
            Tensor out = t.output("o", F32, 2, 8);
            BadInput.expect(t, IllegalArgumentException.class, "idx", "attention over row " + bad + " of 5",
                    () -> subject().apply().attention(q, keys, values, 1, idx, 0.35f, out));
        });
    }

    @Test
    void attention_should_reject_an_empty_selection() {
        requireOp(Op.ATTENTION);
        property(Op.ATTENTION, 1, t -> {
            ElementType type = declaredType(t.random(), Op.ATTENTION);
            Tensor q = t.input("q", Gen.tensor(t, type, 2, 8, Profile.UNIT));
            Tensor keys = t.input("K", Gen.tensor(t, type, 5, 8, Profile.UNIT));
            Tensor values = t.input("V", Gen.tensor(t, type, 5, 8, Profile.UNIT));
            Indices idx = t.input("idx", Gen.indices(t));
            Tensor out = t.output("o", F32, 2, 8);
            BadInput.expect(t, IllegalArgumentException.class, "idx", "attention over no rows",
                    () -> subject().apply().attention(q, keys, values, 1, idx, 0.35f, out));
        });
    }

    @Test
    void attention_should_reject_keys_of_the_wrong_width() {
        requireOp(Op.ATTENTION);
        property(Op.ATTENTION, 2, t -> {
            ElementType type = declaredType(t.random(), Op.ATTENTION);
            Tensor q = t.input("q", Gen.tensor(t, type, 4, 8, Profile.UNIT));
            Tensor keys = t.input("K", Gen.tensor(t, type, 5, 12, Profile.UNIT));
            Tensor values = t.input("V", Gen.tensor(t, type, 5, 12, Profile.UNIT));
            Tensor out = t.output("o", F32, 4, 8);
            BadInput.expect(t, IllegalArgumentException.class, "K", "attention with d=8, Hkv=2 and K of width 12",
                    () -> subject().apply().attention(q, keys, values, 2, null, 0.35f, out));
        });
    }

    @Test
    void attention_should_reject_a_closed_value_tensor() {
        requireOp(Op.ATTENTION);
        property(Op.ATTENTION, 2, t -> {
            ElementType type = declaredType(t.random(), Op.ATTENTION);
            Tensor q = t.input("q", Gen.tensor(t, type, 2, 8, Profile.UNIT));
            Tensor keys = t.input("K", Gen.tensor(t, type, 5, 8, Profile.UNIT));
            Tensor values = Gen.closed(type, 5, 8);
            Tensor out = t.output("o", F32, 2, 8);
            BadInput.expect(t, IllegalStateException.class, "V", "attention with V in a closed arena",
                    () -> subject().apply().attention(q, keys, values, 1, null, 0.35f, out));
        });
    }

    @Test
    void attention_should_reject_an_integer_output() {
        requireOp(Op.ATTENTION);
        property(Op.ATTENTION, 2, t -> {
            SplittableRandom r = t.random();
            ElementType type = declaredType(r, Op.ATTENTION);
            Tensor q = t.input("q", Gen.tensor(t, type, 2, 8, Profile.UNIT));
            Tensor keys = t.input("K", Gen.tensor(t, type, 5, 8, Profile.UNIT));
            Tensor values = t.input("V", Gen.tensor(t, type, 5, 8, Profile.UNIT));
            Tensor out = t.output("o", Gen.pick(r, ElementType.I8, ElementType.I16), 2, 8);
            BadInput.expect(t, UnsupportedElementTypeException.class, "o", "attention into an " + out.type()
                    + " output", () -> subject().apply().attention(q, keys, values, 1, null, 0.35f, out));
        });
    }

    @Test
    void softRetrieve_should_reject_a_weight_count_mismatch() {
        requireOp(Op.SOFT_RETRIEVE);
        property(Op.SOFT_RETRIEVE, 2, t -> {
            ElementType type = declaredType(t.random(), Op.SOFT_RETRIEVE);
            Tensor a = t.input("a", Gen.tensor(t, type, 1, 6, Profile.UNIT));
            Tensor v = t.input("V", Gen.tensor(t, type, 7, 8, Profile.UNIT));
            Tensor out = t.output("o", F32, 1, 8);
            BadInput.expect(t, IllegalArgumentException.class, "a", "softRetrieve of 6 weights over 7 rows",
                    () -> subject().apply().softRetrieve(a, v, out));
        });
    }
}
