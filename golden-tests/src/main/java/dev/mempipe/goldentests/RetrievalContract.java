package dev.mempipe.goldentests;

import dev.mempipe.goldentests.Gen.Profile;
import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.NaNInputException;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;
import java.util.SplittableRandom;

import static dev.mempipe.spi.ElementType.F32;

/**
 * Conformance of Stage 3, Retrieval ({@link dev.mempipe.spi.RetrievalOps}): topK in the contract's total order
 * (score descending, index ascending, {@code -0.0 == +0.0}, NaN rejected with its position), threshold,
 * bitmapToIndices, expandBlocks and gather, all bit-exact against the scalar oracle, plus the bad-input
 * contract. Extend it with one method:
 *
 * <pre>{@code
 * class MyRetrievalConformanceTest extends RetrievalContract {
 *     protected Backend backend() { return new MyBackend(); }
 * }
 * }</pre>
 */
public abstract class RetrievalContract extends BackendContract {

    // ---- topK ----

    @ParameterizedTest(name = "s {0}")
    @EnumSource(ElementType.class)
    void topK_should_match_the_oracle_in_the_total_order(ElementType type) {
        requireType(Op.TOP_K, type);
        property(Op.TOP_K, 8, t -> {
            SplittableRandom r = t.random();
            int n = t.cols(Gen.size(r, size(2049)));
            Tensor s = t.input("s", Gen.tensor(t, type, 1, n, Gen.pick(r, Profile.SCORES, Profile.UNIT)));
            checkTopK(t, s, drawK(t, n));
        });
    }

    @ParameterizedTest(name = "s {0}")
    @EnumSource(value = ElementType.class, names = {"F32", "BF16", "I8"})
    void topK_should_select_each_row_of_a_batch_independently(ElementType type) {
        requireType(Op.TOP_K, type);
        property(Op.TOP_K, 6, t -> {
            // one call for every KV head: row j's result at idx[j*c, (j+1)*c), val row j; nothing past m*c
            SplittableRandom r = t.random();
            int n = t.cols(Gen.size(r, size(513)));
            int m = t.param("m", 2 + r.nextInt(7));
            int k = drawK(t, n);
            int count = Math.min(k, n);
            Tensor s = t.input("s", Gen.tensor(t, type, m, n, Gen.pick(r, Profile.SCORES, Profile.UNIT)));
            int spare = 1 + r.nextInt(8);
            Indices idx = t.outputIndices("idx", m * count + spare);
            Tensor val = t.output("val", F32, m, count + r.nextInt(3));
            int got = subject().retrieval().topK(s, k, idx, val);
            if (got != count) {
                throw new AssertionError("topK returned " + got + " for a batch of " + m + " rows, expected min(k="
                        + k + ", n=" + n + ") = " + count);
            }
            for (int j = 0; j < m; j++) {
                Tensor row = s.rowSlice(j, j + 1);
                Indices refIdx = Indices.allocate(t.arena(), count);
                Tensor refVal = t.reference(F32, 1, count);
                oracle().retrieval().topK(row, k, refIdx, refVal);
                Compare.sameInts("idx row " + j, Arrays.copyOfRange(idx.toArray(), j * count, (j + 1) * count),
                        refIdx.toArray());
                for (int c = 0; c < count; c++) {
                    if (Float.floatToRawIntBits(val.get(j, c)) != Float.floatToRawIntBits(refVal.get(0, c))) {
                        throw new AssertionError("val[" + j + ", " + c + "] = " + Compare.num(val.get(j, c))
                                + ", expected " + Compare.num(refVal.get(0, c)));
                    }
                }
            }
            for (int e = m * count; e < idx.length(); e++) {
                if (idx.get(e) != -1) {
                    throw new AssertionError("topK wrote idx[" + e + "] = " + idx.get(e) + " past the " + m * count
                            + " entries of a " + m + "-row batch (the rest of the buffer must stay untouched)");
                }
            }
        });
    }

    @ParameterizedTest(name = "s {0}")
    @EnumSource(ElementType.class)
    void topK_should_break_ties_by_ascending_index(ElementType type) {
        requireType(Op.TOP_K, type);
        property(Op.TOP_K, 6, t -> {
            // three distinct values only: almost every choice is between tied scores
            SplittableRandom r = t.random();
            int n = t.cols(Gen.size(r, size(1025)));
            Tensor s = Gen.layout(t, type, 1, n, Trial.SENTINEL);
            if (type.isQuantized()) {
                s.setScale(0, 0.5f);
            }
            for (int i = 0; i < n; i++) {
                s.set(0, i, Gen.pick(r, -1f, 0.5f, 1f));
            }
            t.input("s", s);
            checkTopK(t, s, drawK(t, n));
        });
    }

    @ParameterizedTest(name = "s {0}")
    @EnumSource(value = ElementType.class, names = {"F32", "F16", "BF16"})
    void topK_should_treat_negative_zero_as_equal_to_positive_zero(ElementType type) {
        requireType(Op.TOP_K, type);
        property(Op.TOP_K, 6, t -> {
            // zeros of both signs are the best scores; they tie and must come out by ascending index
            SplittableRandom r = t.random();
            int n = t.cols(Gen.size(r, size(257)), 2);
            Tensor s = Gen.layout(t, type, 1, n, Trial.SENTINEL);
            int zeros = 0;
            for (int i = 0; i < n; i++) {
                int kind = i < 2 ? i : r.nextInt(3); // at least one of each sign
                s.set(0, i, kind == 0 ? -0f : kind == 1 ? 0f : -(float) r.nextDouble(0.1, 1));
                zeros += kind < 2 ? 1 : 0;
            }
            t.input("s", s);
            checkTopK(t, s, t.param("k", r.nextInt(1, zeros + 1)));
        });
    }

    @ParameterizedTest(name = "s {0}")
    @EnumSource(value = ElementType.class, names = {"F32", "F16", "BF16"})
    void topK_should_reject_nan_with_its_position(ElementType type) {
        requireType(Op.TOP_K, type);
        property(Op.TOP_K, 4, t -> {
            SplittableRandom r = t.random();
            int n = t.cols(Gen.size(r, size(1025)));
            Tensor s = Gen.tensor(t, type, 1, n, Profile.FINITE_SCORES);
            int first = r.nextInt(n);
            s.set(0, first, Float.NaN);
            for (int i = first + 1; i < n; i++) {
                if (r.nextInt(16) == 0) {
                    s.set(0, i, Float.NaN);
                }
            }
            t.param("first NaN at", first);
            t.input("s", s);
            int k = drawK(t, n);
            Indices idx = t.outputIndices("idx", Math.min(k, n));
            Tensor val = t.output("val", F32, 1, Math.min(k, n));
            NaNInputException e = BadInput.expect(t, NaNInputException.class, "s", "topK over NaN at position "
                    + first, () -> subject().retrieval().topK(s, k, idx, val));
            if (e.position() != first || !e.argument().equals("s")) {
                throw new AssertionError("NaNInputException names argument '" + e.argument() + "' at position "
                        + e.position() + ", expected 's' at " + first + " (the first NaN)");
            }
        });
    }

    @Test
    void topK_should_reject_k_below_one() {
        requireOp(Op.TOP_K);
        property(Op.TOP_K, 3, t -> {
            SplittableRandom r = t.random();
            Tensor s = t.input("s", Gen.tensor(t, declaredType(r, Op.TOP_K), 1, 9, Profile.UNIT));
            int k = t.param("k", Gen.pick(r, 0, -1, Integer.MIN_VALUE));
            Indices idx = t.outputIndices("idx", 9);
            Tensor val = t.output("val", F32, 1, 9);
            BadInput.expect(t, IllegalArgumentException.class, "k", "topK with k=" + k,
                    () -> subject().retrieval().topK(s, k, idx, val));
        });
    }

    @Test
    void topK_should_reject_an_idx_output_that_is_too_small() {
        requireOp(Op.TOP_K);
        property(Op.TOP_K, 2, t -> {
            SplittableRandom r = t.random();
            Tensor s = t.input("s", Gen.tensor(t, declaredType(r, Op.TOP_K), 1, 17, Profile.UNIT));
            int k = t.param("k", r.nextInt(2, 17));
            Indices idx = t.outputIndices("idx", k - 1);
            BadInput.expect(t, IllegalArgumentException.class, "idx", "topK k=" + k + " into " + (k - 1)
                    + " entries", () -> subject().retrieval().topK(s, k, idx, null));
        });
    }

    @Test
    void topK_should_reject_a_closed_input() {
        requireOp(Op.TOP_K);
        property(Op.TOP_K, 2, t -> {
            Tensor s = Gen.closed(declaredType(t.random(), Op.TOP_K), 1, 9);
            Indices idx = t.outputIndices("idx", 3);
            BadInput.expect(t, IllegalStateException.class, "s", "topK over s in a closed arena",
                    () -> subject().retrieval().topK(s, 3, idx, null));
        });
    }

    @Test
    void topK_of_dot_scores_should_follow_the_set_rule() {
        requireType(Op.TOP_K, F32);
        requireType(Op.DOT, F32);
        property("dot+topK", 4, t -> {
            // the Quest/DSA pipeline: scores computed by the backend carry rounding, so near-ties may swap;
            // SPEC.md's set rule says how much
            SplittableRandom r = t.random();
            int n = t.rows(Gen.size(r, size(513)));
            int d = t.cols(Gen.size(r, size(129)));
            int k = drawK(t, n);
            Tensor q = t.input("q", Gen.tensor(t, F32, 1, d, Profile.UNIT));
            Tensor m = t.input("M", Gen.tensor(t, F32, n, d, Profile.UNIT));
            Tensor s = t.output("S", F32, 1, n);
            subject().relevancy().dot(q, m, s);
            Indices idx = t.outputIndices("idx", Math.min(k, n));
            int count = subject().retrieval().topK(s, k, idx, null);
            double[][] sumAbs = Compare.sumAbsProducts(q, m);
            double[] ref = new double[n];
            double tau = 0;
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < d; c++) {
                    ref[i] += (double) q.get(0, c) * m.get(i, c);
                }
                tau = Math.max(tau, Tolerances.dot(d, sumAbs[0][i], F32, ref[i]));
            }
            Compare.topKSetRule("idx", Arrays.copyOf(idx.toArray(), count), k, ref, tau);
        });
    }

    /** k: mostly small, sometimes all of n or more. */
    private static int drawK(Trial t, int n) {
        SplittableRandom r = t.random();
        int k = switch (r.nextInt(4)) {
            case 0 -> r.nextInt(1, n + 3);
            case 1 -> n + r.nextInt(0, 3);
            default -> Math.min(n, Gen.size(r, 64));
        };
        return t.param("k", k);
    }

    /** Runs topK on backend and oracle and checks the total order, then equality with the oracle. */
    private void checkTopK(Trial t, Tensor s, int k) {
        int n = s.cols();
        int count = Math.min(k, n);
        SplittableRandom r = t.random();
        int spare = r.nextInt(0, 4);
        Indices idx = t.outputIndices("idx", count + spare);
        Tensor val = r.nextInt(4) == 0 ? null : t.output("val", F32, 1, count + spare);
        int got = subject().retrieval().topK(s, k, idx, val);
        if (got != count) {
            throw new AssertionError("topK returned " + got + ", expected min(k=" + k + ", n=" + n + ") = " + count);
        }
        int[] gotIdx = Arrays.copyOf(idx.toArray(), count);
        for (int j = 0; j < count; j++) {
            int i = gotIdx[j];
            if (i < 0 || i >= n) {
                throw new AssertionError("idx[" + j + "] = " + i + " is outside [0, " + n + ")");
            }
            if (j > 0) {
                int prev = gotIdx[j - 1];
                float a = s.get(0, prev);
                float b = s.get(0, i);
                if (a < b || (a == b && prev >= i)) {
                    throw new AssertionError("idx is not in the total order (score descending, then index ascending,"
                            + " -0.0 == +0.0) at [" + j + "]: idx[" + (j - 1) + "] = " + prev + " (score "
                            + Compare.num(a) + ") comes before idx[" + j + "] = " + i + " (score " + Compare.num(b) + ")");
                }
            }
            if (val != null && !(val.get(0, j) == s.get(0, i))) {
                throw new AssertionError("val[" + j + "] = " + Compare.num(val.get(0, j)) + " but s[idx[" + j + "] = "
                        + i + "] = " + Compare.num(s.get(0, i)));
            }
        }
        Indices refIdx = Indices.allocate(t.arena(), count);
        oracle().retrieval().topK(s, k, refIdx, null);
        Compare.sameInts("idx", gotIdx, refIdx.toArray());
    }

    // ---- threshold and bitmaps ----

    @ParameterizedTest(name = "s {0}")
    @EnumSource(ElementType.class)
    void threshold_should_match_the_oracle_with_a_strict_comparison(ElementType type) {
        requireType(Op.THRESHOLD, type);
        property(Op.THRESHOLD, 6, t -> {
            SplittableRandom r = t.random();
            int n = t.cols(Gen.size(r, size(2049)));
            // a row batch: rows start at bit j*n, rarely on a word boundary
            int m = t.param("m", r.nextInt(3) == 0 ? 1 + r.nextInt(5) : 1);
            Tensor s = t.input("s", Gen.tensor(t, type, m, n, Profile.SCORES));
            // often exactly one of the scores, so that the strict comparison matters
            float threshold = t.param("T", switch (r.nextInt(4)) {
                case 0, 1 -> s.get(r.nextInt(m), r.nextInt(n));
                case 2 -> Gen.pick(r, 0f, -0f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY);
                default -> (float) r.nextDouble(-1, 1);
            });
            Bitmap bits = t.outputBitmap("bitmap", (long) m * n);
            Bitmap ref = Bitmap.allocate(t.arena(), (long) m * n);
            subject().retrieval().threshold(s, threshold, bits);
            oracle().retrieval().threshold(s, threshold, ref);
            Compare.sameBits("bitmap", bits, ref);
        });
    }

    @ParameterizedTest(name = "s {0}")
    @EnumSource(value = ElementType.class, names = {"F32", "F16", "BF16"})
    void threshold_should_reject_nan_with_its_position(ElementType type) {
        requireType(Op.THRESHOLD, type);
        property(Op.THRESHOLD, 3, t -> {
            SplittableRandom r = t.random();
            int n = t.cols(Gen.size(r, size(1025)));
            Tensor s = Gen.tensor(t, type, 1, n, Profile.FINITE_SCORES);
            int first = t.param("first NaN at", r.nextInt(n));
            s.set(0, first, Float.NaN);
            t.input("s", s);
            Bitmap bits = t.outputBitmap("bitmap", n);
            NaNInputException e = BadInput.expect(t, NaNInputException.class, "s", "threshold over NaN at position "
                    + first, () -> subject().retrieval().threshold(s, 0f, bits));
            if (e.position() != first) {
                throw new AssertionError("NaNInputException names position " + e.position() + ", expected " + first);
            }
        });
    }

    @Test
    void bitmapToIndices_should_list_the_set_bits_in_ascending_order() {
        requireOp(Op.BITMAP_TO_INDICES);
        property(Op.BITMAP_TO_INDICES, 8, t -> {
            SplittableRandom r = t.random();
            int n = t.cols(Gen.size(r, size(4097)));
            double density = Gen.pick(r, 0.0, 0.01, 0.5, 0.99, 1.0);
            Bitmap bits = Bitmap.allocate(t.arena(), n);
            for (int i = 0; i < n; i++) {
                bits.set(i, r.nextDouble() < density);
            }
            t.input("bitmap", bits);
            int card = (int) bits.cardinality();
            Indices out = t.outputIndices("indices", card + r.nextInt(0, 3));
            int got = subject().retrieval().bitmapToIndices(bits, out);
            Indices ref = Indices.allocate(t.arena(), card);
            int expected = oracle().retrieval().bitmapToIndices(bits, ref);
            if (got != expected) {
                throw new AssertionError("bitmapToIndices returned " + got + ", expected " + expected + " set bits");
            }
            Compare.sameInts("indices", Arrays.copyOf(out.toArray(), got), ref.toArray());
        });
    }

    @Test
    void bitmapToIndices_should_reject_an_output_that_is_too_small() {
        requireOp(Op.BITMAP_TO_INDICES);
        property(Op.BITMAP_TO_INDICES, 2, t -> {
            SplittableRandom r = t.random();
            Bitmap bits = Bitmap.allocate(t.arena(), 100);
            for (int i = 0; i < 100; i += r.nextInt(1, 5)) {
                bits.set(i, true);
            }
            t.input("bitmap", bits);
            int card = (int) bits.cardinality();
            Indices out = t.outputIndices("indices", card - 1);
            BadInput.expect(t, IllegalArgumentException.class, "indices", card + " set bits into " + (card - 1)
                    + " entries", () -> subject().retrieval().bitmapToIndices(bits, out));
        });
    }

    // ---- expandBlocks ----

    @Test
    void expandBlocks_should_match_the_oracle() {
        requireOp(Op.EXPAND_BLOCKS);
        property(Op.EXPAND_BLOCKS, 12, t -> {
            SplittableRandom r = t.random();
            int length = t.param("L", t.rows(Gen.size(r, size(4097))));
            int blockSize = t.param("P", Gen.size(r, 129));
            int numBlocks = (length + blockSize - 1) / blockSize;
            int[] blocks = new int[t.rows(r.nextInt(0, 2 * numBlocks + 1), 0)];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = r.nextInt(numBlocks); // any order, duplicates allowed
            }
            int sink = t.param("sink", r.nextInt(3) == 0 ? 0 : r.nextInt(0, length + 3));
            int window = t.param("window", r.nextInt(3) == 0 ? 0 : r.nextInt(0, length + 3));
            Indices blockList = t.input("blocks", Gen.indices(t, blocks));
            Indices ref = Indices.allocate(t.arena(), length);
            int expected = oracle().retrieval().expandBlocks(blockList, blockSize, length, sink, window, ref);
            Indices out = t.outputIndices("tokens", expected + r.nextInt(0, 3));
            int got = subject().retrieval().expandBlocks(blockList, blockSize, length, sink, window, out);
            if (got != expected) {
                throw new AssertionError("expandBlocks returned " + got + " tokens, expected " + expected);
            }
            Compare.sameInts("tokens", Arrays.copyOf(out.toArray(), got), Arrays.copyOf(ref.toArray(), expected));
        });
    }

    @Test
    void expandBlocks_should_reject_an_output_that_is_too_small_and_write_nothing() {
        requireOp(Op.EXPAND_BLOCKS);
        property(Op.EXPAND_BLOCKS, 3, t -> {
            SplittableRandom r = t.random();
            int length = t.param("L", r.nextInt(20, 300));
            int blockSize = t.param("P", r.nextInt(1, 17));
            int numBlocks = (length + blockSize - 1) / blockSize;
            Indices blocks = t.input("blocks", Gen.indices(t, r.nextInt(numBlocks), r.nextInt(numBlocks)));
            int sink = t.param("sink", r.nextInt(1, 5));
            int window = t.param("window", r.nextInt(1, 5));
            Indices ref = Indices.allocate(t.arena(), length);
            int needed = oracle().retrieval().expandBlocks(blocks, blockSize, length, sink, window, ref);
            Indices out = t.outputIndices("tokens", needed - 1);
            BadInput.expect(t, IllegalArgumentException.class, "tokens", needed + " tokens into " + (needed - 1)
                    + " entries", () -> subject().retrieval().expandBlocks(blocks, blockSize, length, sink, window, out));
        });
    }

    @Test
    void expandBlocks_should_reject_a_block_size_below_one() {
        requireOp(Op.EXPAND_BLOCKS);
        property(Op.EXPAND_BLOCKS, 2, t -> {
            int blockSize = t.param("P", Gen.pick(t.random(), 0, -4));
            Indices blocks = t.input("blocks", Gen.indices(t, 0));
            Indices out = t.outputIndices("tokens", 64);
            BadInput.expect(t, IllegalArgumentException.class, "P", "expandBlocks with P=" + blockSize,
                    () -> subject().retrieval().expandBlocks(blocks, blockSize, 64, 0, 0, out));
        });
    }

    @Test
    void expandBlocks_should_reject_a_block_outside_the_sequence() {
        requireOp(Op.EXPAND_BLOCKS);
        property(Op.EXPAND_BLOCKS, 2, t -> {
            SplittableRandom r = t.random();
            int bad = t.param("bad block", Gen.pick(r, 4, 5, -1));
            Indices blocks = t.input("blocks", Gen.indices(t, 0, bad, 1));
            Indices out = t.outputIndices("tokens", 64);
            BadInput.expect(t, IllegalArgumentException.class, "blocks", "expandBlocks of block " + bad
                    + " with L=64, P=16", () -> subject().retrieval().expandBlocks(blocks, 16, 64, 0, 0, out));
        });
    }

    // ---- gather ----

    @ParameterizedTest(name = "X {0}")
    @EnumSource(ElementType.class)
    void gather_should_copy_rows_bit_exactly(ElementType type) {
        requireType(Op.GATHER, type);
        property(Op.GATHER, 6, t -> {
            // raw bit patterns: NaN payloads and -0.0 must survive the copy
            SplittableRandom r = t.random();
            int n = t.rows(Gen.size(r, size(129)));
            int d = t.cols(Gen.size(r, size(129)));
            int k = t.rows(Gen.size(r, size(65)));
            int[] rows = new int[k];
            for (int j = 0; j < k; j++) {
                rows[j] = r.nextInt(n);
            }
            Tensor x = t.input("X", Gen.tensor(t, type, n, d, Profile.RAW_BITS));
            Indices idx = t.input("idx", Gen.indices(t, rows));
            Tensor y = t.output("Y", type, k, d);
            Tensor ref = t.reference(type, k, d);
            subject().retrieval().gather(x, idx, y);
            oracle().retrieval().gather(x, idx, ref);
            Compare.sameBits("Y", y, ref);
        });
    }

    @ParameterizedTest(name = "X {0}")
    @EnumSource(ElementType.class)
    void gather_should_reject_an_out_of_range_index(ElementType type) {
        requireType(Op.GATHER, type);
        property(Op.GATHER, 3, t -> {
            SplittableRandom r = t.random();
            int n = t.rows(Gen.size(r, size(65)));
            int d = t.cols(Gen.size(r, 17));
            int k = r.nextInt(1, 9);
            int[] rows = new int[k];
            for (int j = 0; j < k; j++) {
                rows[j] = r.nextInt(n);
            }
            int at = t.param("bad position", r.nextInt(k));
            rows[at] = t.param("bad index", Gen.pick(r, n, n + 1, 2 * n, -1, -n, Integer.MIN_VALUE));
            Tensor x = t.input("X", Gen.tensor(t, type, n, d, Profile.UNIT));
            Indices idx = t.input("idx", Gen.indices(t, rows));
            Tensor y = t.output("Y", type, k, d);
            BadInput.expect(t, IllegalArgumentException.class, "idx", "gather of row " + rows[at] + " from "
                    + n + " rows", () -> subject().retrieval().gather(x, idx, y));
        });
    }

    @Test
    void gather_should_reject_an_output_of_another_element_type() {
        requireOp(Op.GATHER);
        property(Op.GATHER, 2, t -> {
            SplittableRandom r = t.random();
            ElementType type = declaredType(r, Op.GATHER);
            ElementType other = type == F32 ? ElementType.F16 : F32;
            Tensor x = t.input("X", Gen.tensor(t, type, 5, 8, Profile.UNIT));
            Indices idx = t.input("idx", Gen.indices(t, 4, 0));
            Tensor y = t.output("Y", other, 2, 8);
            BadInput.expect(t, IllegalArgumentException.class, "Y", "gather of " + type + " rows into " + other,
                    () -> subject().retrieval().gather(x, idx, y));
        });
    }

    @Test
    void gather_should_reject_a_closed_input() {
        requireOp(Op.GATHER);
        property(Op.GATHER, 2, t -> {
            ElementType type = declaredType(t.random(), Op.GATHER);
            Tensor x = Gen.closed(type, 5, 8);
            Indices idx = t.input("idx", Gen.indices(t, 1, 2));
            Tensor y = t.output("Y", type, 2, 8);
            BadInput.expect(t, IllegalStateException.class, "X", "gather from X in a closed arena",
                    () -> subject().retrieval().gather(x, idx, y));
        });
    }
}
