package dev.mempipe.goldentests;

import dev.mempipe.goldentests.Gen.Profile;
import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.LimitExceededException;
import dev.mempipe.spi.Limits;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.PinnedBm25Index;
import dev.mempipe.spi.PinnedTensor;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static dev.mempipe.spi.ElementType.F32;

/**
 * Conformance of what a device adds to the ops: the {@link dev.mempipe.spi.FusedOps fused ops} equal the
 * composition that defines them; data {@link dev.mempipe.spi.Backend#pin pinned} on the device gives the same
 * answers as host memory, follows {@code refresh} after appends and is freed by {@code close}; declared
 * {@link Limits} are enforced before anything is written. Extend it with one method:
 *
 * <pre>{@code
 * class MyDeviceConformanceTest extends DeviceContract {
 *     protected Backend backend() { return new MyBackend(); }
 * }
 * }</pre>
 *
 * <p>Fused results are compared with the reference scores by SPEC.md's top-k set rule: a fused kernel may
 * round differently from the separate ops, so near-ties may swap, by no more than the rounding the backend's
 * own composition shows against the oracle.
 */
public abstract class DeviceContract extends BackendContract {

    // ---- fused ops = their composition ----

    @Test
    void dotTopK_should_equal_topK_of_dot_for_every_row() {
        requireType(Op.DOT, F32);
        requireType(Op.TOP_K, F32);
        property("dotTopK", 6, t -> {
            SplittableRandom r = t.random();
            int n = t.rows(Gen.size(r, size(700)));
            int d = t.cols(Gen.size(r, size(97)));
            int m = t.param("m", 1 + r.nextInt(4));
            int k = t.param("k", 1 + r.nextInt(Math.min(n + 2, 80)));
            Tensor q = t.input("q", Gen.tensor(t, F32, m, d, Profile.UNIT));
            Tensor keys = t.input("K", Gen.tensor(t, F32, n, d, Profile.UNIT));
            Tensor own = t.reference(F32, m, n);
            Tensor ref = t.reference(F32, m, n);
            subject().relevancy().dot(q, keys, own);
            oracle().relevancy().dot(q, keys, ref);
            checkFusedTopK(t, m, n, k, own, ref, (idx, val) -> subject().fused().dotTopK(q, keys, k, idx, val));
        });
    }

    @Test
    void dotTopK_with_weights_and_a_filter_should_rank_accepted_rows_as_the_oracle() {
        requireOp(Op.DOT_TOP_K);
        requireType(Op.DOT, F32);
        property("dotTopK", 8, t -> {
            SplittableRandom r = t.random();
            int n = t.rows(Gen.size(r, size(700)));
            int d = t.cols(Gen.size(r, size(97)));
            // 1 (the scan), 4 (one tile), and batches with a tail of 1 to 3 queries
            int m = t.param("m", Gen.pick(r, 1, 2, 4, 5, 7, 9, 17));
            int k = t.param("k", 1 + r.nextInt(Math.min(n + 2, 40)));
            ElementType keyType = t.param("M.type", Gen.pickType(r, declared(Op.DOT)));
            Tensor q = t.input("Q", Gen.tensor(t, F32, m, d, Profile.UNIT));
            Tensor keys = t.input("M", Gen.tensor(t, keyType, n, d, Profile.UNIT));
            Tensor w = null;
            if (r.nextBoolean()) {
                w = Gen.layout(t, F32, 1, n, Trial.SENTINEL);
                for (int i = 0; i < n; i++) {
                    // positive mostly (inverse norms), some zeros and negatives: the weight may reorder rows
                    w.set(0, i, Gen.pick(r, 1f, 1f, 1f, 0f, -1f) * (float) r.nextDouble(0.25, 4));
                }
                t.input("w", w);
            }
            Bitmap accept = null;
            if (r.nextBoolean()) {
                accept = Bitmap.allocate(t.arena(), n);
                double density = Gen.pick(r, 0.0, 0.1, 0.5, 0.9);
                for (int i = 0; i < n; i++) {
                    accept.set(i, r.nextDouble() < density);
                }
                t.input("accept", accept);
            }
            Tensor own = t.reference(F32, m, n);
            Tensor ref = t.reference(F32, m, n);
            subject().relevancy().dot(q, keys, own);
            oracle().relevancy().dot(q, keys, ref);
            int[] rows = new int[n];
            int a = 0;
            for (int i = 0; i < n; i++) {
                if (accept == null || accept.get(i)) {
                    rows[a++] = i;
                }
            }
            double[] weights = new double[n];
            for (int i = 0; i < n; i++) {
                weights[i] = w == null ? 1 : w.get(0, i);
            }
            int c = Math.min(k, n);
            int expected = Math.min(k, a);
            Indices idx = t.outputIndices("idx", m * c + 3);
            Tensor val = t.output("val", F32, m, c);
            int got = subject().fused().dotTopK(q, keys, w, accept, k, idx, val);
            if (got != expected) {
                throw new AssertionError("dotTopK returned " + got + ", expected min(k=" + k + ", accepted rows=" + a
                        + ") = " + expected);
            }
            double tau = 0;
            for (int j = 0; j < m; j++) {
                for (int i = 0; i < n; i++) {
                    tau = Math.max(tau, Math.abs(weights[i]) * Math.abs((double) own.get(j, i) - ref.get(j, i)));
                }
            }
            double maxAbs = 0;
            for (int j = 0; j < m; j++) {
                for (int i = 0; i < n; i++) {
                    maxAbs = Math.max(maxAbs, Math.abs(weights[i] * ref.get(j, i)));
                }
            }
            tau = 2 * tau + 8 * Math.ulp((float) maxAbs) + 1e-30;
            for (int j = 0; j < m; j++) {
                double[] reference = new double[a]; // the accepted rows' weighted scores, in row order
                int[] position = new int[n];
                Arrays.fill(position, -1);
                for (int p = 0; p < a; p++) {
                    reference[p] = weights[rows[p]] * ref.get(j, rows[p]);
                    position[rows[p]] = p;
                }
                int[] chosen = new int[expected];
                for (int p = 0; p < expected; p++) {
                    int row = idx.get(j * c + p);
                    if (row < 0 || row >= n || position[row] < 0) {
                        throw new AssertionError("idx[" + (j * c + p) + "] = " + row + " is not an accepted row");
                    }
                    chosen[p] = position[row];
                    double v = val.get(j, p);
                    if (!(Math.abs(v - reference[chosen[p]]) <= tau)) {
                        throw new AssertionError("val[" + j + ", " + p + "] = " + Compare.num(v) + " but row " + row
                                + " scores " + Compare.num(reference[chosen[p]]) + " (tau " + Compare.num(tau) + ")");
                    }
                }
                if (a > 0) {
                    Compare.topKSetRule("idx row " + j + " (as positions among the accepted rows)", chosen, k,
                            reference, tau);
                }
                // the rows of one query are written at idx[j*c, j*c + r): r may be below c when rows are filtered
                for (int p = expected; p < c; p++) {
                    if (idx.get(j * c + p) != -1) { // the kit's 0xFF fill
                        throw new AssertionError("idx[" + (j * c + p) + "] was written past the " + expected
                                + " results of query " + j);
                    }
                }
            }
            t.requireUnwrittenPast("dotTopK", "idx", idx, (long) m * c);
            t.requireUnwrittenColumns("dotTopK", "val", val, expected);
        });
    }

    @Test
    void dotGroupMaxTopK_should_equal_topK_of_groupMax_of_dot() {
        requireType(Op.DOT, F32);
        requireType(Op.GROUP_MAX, F32);
        requireType(Op.TOP_K, F32);
        property("dotGroupMaxTopK", 6, t -> {
            SplittableRandom r = t.random();
            int n = t.rows(Gen.size(r, size(700)));
            int d = t.cols(Gen.size(r, size(97)));
            int g = t.param("g", Gen.size(r, 33));
            int groups = (n + g - 1) / g;
            int k = t.param("k", 1 + r.nextInt(groups + 2));
            Tensor q = t.input("q", Gen.tensor(t, F32, 1, d, Profile.UNIT));
            Tensor keys = t.input("K", Gen.tensor(t, F32, n, d, Profile.UNIT));
            Tensor own = groupMaxOfDot(subject(), t, q, keys, g);
            Tensor ref = groupMaxOfDot(oracle(), t, q, keys, g);
            checkFusedTopK(t, 1, groups, k, own, ref,
                    (idx, val) -> subject().fused().dotGroupMaxTopK(q, keys, g, k, idx, val));
        });
    }

    @Test
    void dotThreshold_should_equal_threshold_of_dot() {
        requireType(Op.DOT, F32);
        requireType(Op.THRESHOLD, F32);
        property("dotThreshold", 6, t -> {
            SplittableRandom r = t.random();
            int n = t.rows(Gen.size(r, size(700)));
            int d = t.cols(Gen.size(r, size(97)));
            int m = t.param("m", 1 + r.nextInt(3));
            Tensor q = t.input("q", Gen.tensor(t, F32, m, d, Profile.UNIT));
            Tensor keys = t.input("K", Gen.tensor(t, F32, n, d, Profile.UNIT));
            Tensor own = t.reference(F32, m, n);
            Tensor ref = t.reference(F32, m, n);
            subject().relevancy().dot(q, keys, own);
            oracle().relevancy().dot(q, keys, ref);
            float threshold = t.param("T", (float) r.nextDouble(-0.5, 0.5));
            Bitmap bits = t.outputBitmap("bitmap", (long) m * n);
            subject().fused().dotThreshold(q, keys, threshold, bits);
            double tau = tau(own, ref);
            for (int j = 0; j < m; j++) {
                for (int i = 0; i < n; i++) {
                    double s = ref.get(j, i);
                    boolean expected = s > threshold;
                    if (Math.abs(s - threshold) > tau && bits.get((long) j * n + i) != expected) {
                        throw new AssertionError("bit " + ((long) j * n + i) + " (row " + j + ", key " + i + ") is "
                                + bits.get((long) j * n + i) + " but the reference score " + Compare.num(s)
                                + (expected ? " > " : " <= ") + "T = " + Compare.num(threshold) + " (tau "
                                + Compare.num(tau) + ")");
                    }
                }
            }
        });
    }

    @Test
    void questBoundTopK_should_equal_topK_of_questBound_for_every_row() {
        requireType(Op.QUEST_BOUND, F32);
        requireType(Op.TOP_K, F32);
        property("questBoundTopK", 6, t -> {
            SplittableRandom r = t.random();
            int pages = t.rows(Gen.size(r, size(300)));
            int d = t.cols(Gen.size(r, size(97)));
            int m = t.param("m", 1 + r.nextInt(4));
            int k = t.param("k", 1 + r.nextInt(pages + 2));
            Tensor q = t.input("q", Gen.tensor(t, F32, m, d, Profile.UNIT));
            Tensor min = t.input("min", Gen.tensor(t, F32, pages, m * d, Profile.UNIT)); // one band per KV head
            Tensor max = t.input("max", Gen.tensor(t, F32, pages, m * d, Profile.UNIT));
            Tensor own = t.reference(F32, m, pages);
            Tensor ref = t.reference(F32, m, pages);
            subject().relevancy().questBound(q, min, max, own);
            oracle().relevancy().questBound(q, min, max, ref);
            checkFusedTopK(t, m, pages, k, own, ref,
                    (idx, val) -> subject().fused().questBoundTopK(q, min, max, k, idx, val));
        });
    }

    @Test
    void indexerTopK_should_equal_topK_of_indexerScore() {
        requireType(Op.INDEXER_SCORE, F32);
        requireType(Op.TOP_K, F32);
        property("indexerTopK", 6, t -> {
            SplittableRandom r = t.random();
            int n = t.rows(Gen.size(r, size(700)));
            int d = t.cols(Gen.size(r, size(65)));
            int heads = t.param("H", 1 + r.nextInt(8));
            int k = t.param("k", 1 + r.nextInt(Math.min(n + 2, 80)));
            Tensor q = t.input("q", Gen.tensor(t, F32, heads, d, Profile.UNIT));
            Tensor w = t.input("w", Gen.tensor(t, F32, 1, heads, Profile.UNIT));
            Tensor keys = t.input("K", Gen.tensor(t, F32, n, d, Profile.UNIT));
            Tensor own = t.reference(F32, 1, n);
            Tensor ref = t.reference(F32, 1, n);
            subject().relevancy().indexerScore(q, w, keys, null, own);
            oracle().relevancy().indexerScore(q, w, keys, null, ref);
            checkFusedTopK(t, 1, n, k, own, ref,
                    (idx, val) -> subject().fused().indexerTopK(q, w, keys, null, k, idx, val));
        });
    }

    @Test
    void bm25TopK_should_equal_topK_of_bm25Score() {
        requireOp(Op.BM25_SCORE);
        requireType(Op.TOP_K, F32);
        property("bm25TopK", 6, t -> {
            SplittableRandom r = t.random();
            Bm25Index index = randomIndex(t);
            int docs = index.numDocs();
            int[] terms = new int[1 + r.nextInt(6)];
            for (int i = 0; i < terms.length; i++) {
                terms[i] = r.nextInt(Math.max(1, index.vocabularySize()));
            }
            Indices query = t.input("query", Gen.indices(t, terms));
            int k = t.param("k", 1 + r.nextInt(docs + 2));
            Tensor own = t.reference(F32, 1, docs);
            Tensor ref = t.reference(F32, 1, docs);
            subject().relevancy().bm25Score(query, index, Bm25Params.DEFAULT, own);
            oracle().relevancy().bm25Score(query, index, Bm25Params.DEFAULT, ref);
            checkFusedTopK(t, 1, docs, k, own, ref,
                    (idx, val) -> subject().fused().bm25TopK(query, index, Bm25Params.DEFAULT, k, idx, val));
        });
    }

    // ---- residency ----

    @Test
    void a_pinned_tensor_should_give_the_answers_of_host_memory() {
        requireType(Op.DOT, F32);
        property("pin+dot", 4, t -> {
            SplittableRandom r = t.random();
            int n = t.rows(Gen.size(r, size(300)));
            int heads = t.param("Hkv", 1 + r.nextInt(3));
            int d = t.cols(Gen.size(r, size(65)));
            Tensor keys = t.input("K", Gen.tensor(t, F32, n, heads * d, Profile.UNIT));
            Tensor q = t.input("q", Gen.tensor(t, F32, 1, d, Profile.UNIT));
            try (PinnedTensor pin = subject().pin(keys)) {
                int head = r.nextInt(heads);
                long from = r.nextInt(n);
                long to = from + 1 + r.nextInt((int) (n - from));
                // a view of part of the pinned tensor: the device must find the right part of its copy
                Tensor viaPin = pin.tensor().rowSlice(from, to).columns(head * d, d);
                Tensor host = keys.rowSlice(from, to).columns(head * d, d);
                Tensor got = t.output("S", F32, 1, (int) (to - from));
                Tensor expected = t.reference(F32, 1, (int) (to - from));
                subject().relevancy().dot(q, viaPin, got);
                subject().relevancy().dot(q, host, expected);
                Compare.sameBits("S (pinned view rows [" + from + ", " + to + "), head " + head + ")", got, expected);
            }
        });
    }

    @Test
    void a_pinned_tensor_should_follow_refresh_after_rows_are_appended() {
        requireType(Op.DOT, F32);
        property("pin+refresh+dot", 4, t -> {
            // a memory's life: pin an empty capacity, append rows on the host, refresh, read; repeat
            SplittableRandom r = t.random();
            int capacity = t.rows(Gen.size(r, size(300)), 4);
            int d = t.cols(Gen.size(r, size(65)));
            Tensor memory = Tensor.allocate(t.arena(), F32, capacity, d);
            Tensor q = t.input("q", Gen.tensor(t, F32, 1, d, Profile.UNIT));
            try (PinnedTensor pin = subject().pin(memory)) {
                long length = 0;
                int appends = 0;
                while (length < capacity && appends++ < 4) {
                    long add = 1 + r.nextInt((int) Math.min(capacity - length, 1 + capacity / 2));
                    Tensor rows = Gen.tensor(t, F32, add, d, Profile.UNIT);
                    for (long i = 0; i < add; i++) {
                        for (int c = 0; c < d; c++) {
                            memory.set(length + i, c, rows.get(i, c));
                        }
                    }
                    pin.refresh(length);
                    length += add;
                    Tensor got = t.output("S", F32, 1, (int) length);
                    Tensor expected = t.reference(F32, 1, (int) length);
                    subject().relevancy().dot(q, pin.tensor().rowSlice(0, length), got);
                    oracle().relevancy().dot(q, memory.rowSlice(0, length), expected);
                    Compare.within("S after append " + appends + " (rows [0, " + length + "))", got, expected,
                            Compare.dotBound(F32, d, Compare.sumAbsProducts(q, memory.rowSlice(0, length))));
                }
            }
        });
    }

    @Test
    void a_closed_pin_should_leave_host_memory_usable_and_reject_refresh() {
        requireType(Op.DOT, F32);
        property("pin+close", 2, t -> {
            SplittableRandom r = t.random();
            int n = t.rows(Gen.size(r, size(100)));
            int d = t.cols(Gen.size(r, size(33)));
            Tensor keys = t.input("K", Gen.tensor(t, F32, n, d, Profile.UNIT));
            Tensor q = t.input("q", Gen.tensor(t, F32, 1, d, Profile.UNIT));
            PinnedTensor pin = subject().pin(keys);
            badRefresh(pin, -1);
            badRefresh(pin, n + 1);
            pin.close();
            pin.close(); // idempotent
            if (pin.isOpen()) {
                throw new AssertionError("isOpen() is true after close()");
            }
            Tensor got = t.output("S", F32, 1, n);
            Tensor expected = t.reference(F32, 1, n);
            subject().relevancy().dot(q, pin.tensor(), got);
            subject().relevancy().dot(q, keys, expected);
            Compare.sameBits("S through a closed pin", got, expected);
            try {
                pin.refresh(0);
                throw new AssertionError("refresh after close() must fail with IllegalStateException");
            } catch (IllegalStateException expectedFailure) {
                // the contract
            }
        });
    }

    @Test
    void a_pinned_bm25_index_should_give_the_scores_of_the_heap_index() {
        requireOp(Op.BM25_SCORE);
        property("pin+bm25Score", 4, t -> {
            Bm25Index index = randomIndex(t);
            Indices query = t.input("query", Gen.indices(t, 0, 1, 2));
            try (PinnedBm25Index pin = subject().pin(index)) {
                Tensor got = t.output("s", F32, 1, index.numDocs());
                Tensor expected = t.reference(F32, 1, index.numDocs());
                subject().relevancy().bm25Score(query, pin.index(), Bm25Params.DEFAULT, got);
                subject().relevancy().bm25Score(query, index, Bm25Params.DEFAULT, expected);
                Compare.sameBits("s (pinned index)", got, expected);
            }
        });
    }

    // ---- declared limits ----

    /**
     * A call past a declared limit must fail as {@link LimitExceededException} (what {@code OpArgs} throws), naming the
     * limit: the engine reruns exactly that exception on the CPU, so a plain {@code IllegalArgumentException} would
     * fail the user's call where the CPU could have answered it.
     */
    private static void limitNamed(IllegalArgumentException e, int limit) {
        if (!(e instanceof LimitExceededException)) {
            throw new AssertionError("a call past a declared limit must throw " + LimitExceededException.class.getName()
                    + " (so that the engine reruns it on the CPU), got " + e, e);
        }
        if (!e.getMessage().contains(Integer.toString(limit))) {
            throw new AssertionError("the message must name the limit " + limit + ": " + e.getMessage());
        }
    }

    @Test
    void topK_beyond_the_declared_maxK_should_fail_naming_the_limit_before_writing() {
        requireType(Op.TOP_K, F32);
        int maxK = subject().capabilities().limits(Op.TOP_K).maxK();
        org.junit.jupiter.api.Assumptions.assumeTrue(maxK < 1 << 20, () -> "skipped: backend '" + subject().name()
                + "' declares no practical maxK for topK (" + maxK + ")");
        property(Op.TOP_K, 2, t -> {
            int n = maxK + 2;
            Tensor s = t.input("s", Gen.tensor(t, F32, 1, n, Profile.SCORES));
            Indices idx = t.outputIndices("idx", n);
            try {
                subject().retrieval().topK(s, maxK + 1, idx, null);
                throw new AssertionError("topK with k = " + (maxK + 1) + " > maxK = " + maxK + " must be rejected");
            } catch (IllegalArgumentException e) {
                limitNamed(e, maxK);
            }
        });
    }

    @Test
    void bm25Score_beyond_the_declared_maxQueryTerms_should_fail_naming_the_limit_before_writing() {
        requireOp(Op.BM25_SCORE);
        int maxTerms = subject().capabilities().limits(Op.BM25_SCORE).maxQueryTerms();
        org.junit.jupiter.api.Assumptions.assumeTrue(maxTerms < 1 << 16, () -> "skipped: backend '"
                + subject().name() + "' declares no practical maxQueryTerms for bm25Score (" + maxTerms + ")");
        property(Op.BM25_SCORE, 1, t -> {
            // one document holding every term: each query term is indexed, so a device cannot drop any
            int vocabulary = maxTerms + 1;
            int[] tokens = new int[vocabulary];
            for (int i = 0; i < vocabulary; i++) {
                tokens[i] = i;
            }
            Bm25Index index = oracle().prepare().bm25Index(Gen.indices(t, 0, vocabulary), Gen.indices(t, tokens));
            Tensor s = t.output("s", F32, 1, 1);
            Tensor before = t.reference(F32, 1, 1);
            before.set(0, 0, s.get(0, 0));
            subject().relevancy().bm25Score(Gen.indices(t, Arrays.copyOf(tokens, maxTerms)), index,
                    Bm25Params.DEFAULT, s); // at the limit: runs
            s.set(0, 0, before.get(0, 0));
            try {
                subject().relevancy().bm25Score(Gen.indices(t, tokens), index, Bm25Params.DEFAULT, s);
                throw new AssertionError("a query of " + vocabulary + " distinct terms > maxQueryTerms = " + maxTerms
                        + " must be rejected");
            } catch (IllegalArgumentException e) {
                limitNamed(e, maxTerms);
            }
            Compare.sameBits("s after the rejected call", s, before);
        });
    }

    // ---- helpers ----

    /** Runs a fused top-k and checks each row against the reference by the set rule. */
    private static void checkFusedTopK(Trial t, int m, int n, int k, Tensor own, Tensor ref, FusedCall call) {
        int count = Math.min(k, n);
        Indices idx = t.outputIndices("idx", m * count + 3);
        Tensor val = t.output("val", F32, m, count + 1 + t.random().nextInt(3));
        int got = call.run(idx, val);
        if (got != count) {
            throw new AssertionError("the fused op returned " + got + ", expected min(k=" + k + ", n=" + n + ") = "
                    + count);
        }
        double tau = tau(own, ref);
        for (int j = 0; j < m; j++) {
            double[] reference = new double[n];
            for (int i = 0; i < n; i++) {
                reference[i] = ref.get(j, i);
            }
            int[] rowIdx = Arrays.copyOfRange(idx.toArray(), j * count, (j + 1) * count);
            Compare.topKSetRule("idx row " + j, rowIdx, k, reference, tau);
            for (int c = 0; c < count; c++) {
                double v = val.get(j, c);
                if (!(Math.abs(v - reference[rowIdx[c]]) <= tau)) {
                    throw new AssertionError("val[" + j + ", " + c + "] = " + Compare.num(v) + " but the reference score"
                            + " of idx " + rowIdx[c] + " is " + Compare.num(reference[rowIdx[c]]) + " (tau "
                            + Compare.num(tau) + ")");
                }
            }
        }
        t.requireUnwrittenPast("the fused op", "idx", idx, (long) m * count);
        t.requireUnwrittenColumns("the fused op", "val", val, count);
    }

    /**
     * How far scores may move between the backend's composition and the reference: twice the largest difference
     * its own ops show, and at least a few ulps of the largest score.
     */
    private static double tau(Tensor own, Tensor ref) {
        double maxDiff = 0;
        double maxAbs = 0;
        for (long j = 0; j < ref.rows(); j++) {
            for (int i = 0; i < ref.cols(); i++) {
                maxDiff = Math.max(maxDiff, Math.abs((double) own.get(j, i) - ref.get(j, i)));
                maxAbs = Math.max(maxAbs, Math.abs(ref.get(j, i)));
            }
        }
        return 2 * maxDiff + 8 * Math.ulp((float) maxAbs) + 1e-30;
    }

    private Tensor groupMaxOfDot(dev.mempipe.spi.Backend b, Trial t, Tensor q, Tensor keys, int g) {
        Tensor s = t.reference(F32, 1, (int) keys.rows());
        b.relevancy().dot(q, keys, s);
        Tensor y = t.reference(F32, 1, (int) ((keys.rows() + g - 1) / g));
        b.relevancy().groupMax(s, g, y);
        return y;
    }

    private static void badRefresh(PinnedTensor pin, long fromRow) {
        try {
            pin.refresh(fromRow);
        } catch (IllegalArgumentException expected) {
            if (!expected.getMessage().contains(Long.toString(fromRow))) {
                throw new AssertionError("refresh(" + fromRow + ") must name the value: " + expected.getMessage());
            }
            return;
        }
        throw new AssertionError("refresh(" + fromRow + ") outside [0, " + pin.tensor().rows() + "] must fail");
    }

    private Bm25Index randomIndex(Trial t) {
        SplittableRandom r = t.random();
        int docs = t.rows(Gen.size(r, size(65)));
        int vocabulary = r.nextInt(3, 40);
        int[] offsets = new int[docs + 1];
        int[] tokens = new int[docs * 40];
        int at = 0;
        for (int d = 0; d < docs; d++) {
            int len = r.nextInt(1, 40);
            for (int i = 0; i < len; i++) {
                tokens[at++] = r.nextInt(vocabulary);
            }
            offsets[d + 1] = at;
        }
        t.param("N", docs);
        return oracle().prepare().bm25Index(Gen.indices(t, offsets), Gen.indices(t, Arrays.copyOf(tokens, at)));
    }

    @FunctionalInterface
    private interface FusedCall {
        int run(Indices idx, Tensor val);
    }
}
