package dev.mempipe.spi;

import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The argument checks of every op, shared by all backends so that bad input fails the same way everywhere:
 * same exception type, a message naming the op, the argument, its value and the limit, and nothing written.
 * A call past one of the backend's declared {@link Limits} throws {@link LimitExceededException} (an
 * {@link IllegalArgumentException}), which the engine answers by running the step on the CPU.
 * A backend calls {@code OpArgs.<op>(caps, ...)} (or, for an op without rules beyond its shapes,
 * {@link #check(Capabilities, Op, Object...)}) first thing in each op; the element types allowed for inputs
 * are the ones its {@link Capabilities} declare. Names, roles and shapes come from the op's
 * {@link OpDescriptor}.
 */
public final class OpArgs {

    private OpArgs() {
    }

    // ---- Stage 1: Prepare Memory ----

    public static void pageMinMax(Capabilities caps, Tensor keys, int pageSize, Tensor min, Tensor max) {
        check(caps, Op.PAGE_MIN_MAX, keys, pageSize, min, max);
    }

    public static void pageMinMaxAppend(Capabilities caps, Tensor keys, long fromRow, int pageSize, Tensor min,
                                        Tensor max) {
        pageMinMax(caps, keys, pageSize, min, max);
        if (fromRow < 0 || fromRow > keys.rows()) {
            throw new IllegalArgumentException(Op.PAGE_MIN_MAX + ": fromRow must be in [0, " + keys.rows()
                    + "], got " + fromRow);
        }
    }

    public static void pagePool(Capabilities caps, Tensor keys, int pageSize, PoolMode mode, Tensor out) {
        check(caps, Op.PAGE_POOL, keys, pageSize, mode, out);
    }

    public static void project(Capabilities caps, Tensor x, Tensor w, Tensor y) {
        check(caps, Op.PROJECT, x, w, y);
    }

    public static void quantize(Capabilities caps, Tensor x, Tensor q) {
        check(caps, Op.QUANTIZE, x, q);
    }

    public static void dequantize(Capabilities caps, Tensor q, Tensor y) {
        check(caps, Op.DEQUANTIZE, q, y);
    }

    public static void convert(Capabilities caps, Tensor x, Tensor y) {
        check(caps, Op.CONVERT, x, y);
    }

    public static void l2Normalize(Capabilities caps, Tensor x, Tensor y) {
        check(caps, Op.L2_NORMALIZE, x, y);
    }

    public static void rope(Capabilities caps, Tensor x, Indices positions, float theta, Tensor y) {
        Op op = Op.ROPE;
        check(caps, op, x, positions, theta, y);
        if (x.cols() % 2 != 0) {
            throw new IllegalArgumentException(op + ": argument 'X' must have an even row width d, got d="
                    + x.cols());
        }
        for (int i = 0; i < positions.length(); i++) {
            if (positions.get(i) < 0) {
                throw new IllegalArgumentException(op + ": argument 'positions' holds " + positions.get(i)
                        + " at position " + i + "; positions must be >= 0");
            }
        }
        if (!(theta > 0) || Float.isInfinite(theta)) {
            throw new IllegalArgumentException(op + ": theta must be finite and > 0, got " + theta);
        }
    }

    public static void bm25Index(Capabilities caps, Indices offsets, Indices tokens) {
        Op op = Op.BM25_INDEX;
        supported(caps, op);
        indices(op, "offsets", offsets);
        indices(op, "tokens", tokens);
        if (offsets.length() < 1) {
            throw new IllegalArgumentException(op + ": argument 'offsets' must hold N+1 >= 1 entries, got 0");
        }
        if (offsets.get(0) != 0) {
            throw new IllegalArgumentException(op + ": argument 'offsets' must start at 0, got " + offsets.get(0));
        }
        for (int i = 1; i < offsets.length(); i++) {
            if (offsets.get(i) < offsets.get(i - 1)) {
                throw new IllegalArgumentException(op + ": argument 'offsets' decreases at position " + i + " ("
                        + offsets.get(i - 1) + " then " + offsets.get(i) + ")");
            }
        }
        int end = offsets.get(offsets.length() - 1);
        if (end > tokens.length()) {
            throw new IllegalArgumentException(op + ": argument 'offsets' ends at " + end + " but 'tokens' holds "
                    + tokens.length());
        }
        for (int i = 0; i < end; i++) {
            if (tokens.get(i) < 0) {
                throw new IllegalArgumentException(op + ": argument 'tokens' holds " + tokens.get(i)
                        + " at position " + i + "; term ids must be >= 0");
            }
        }
    }

    // ---- Stage 2: Compute Relevancy ----

    public static void dot(Capabilities caps, Tensor q, Tensor m, Tensor s) {
        check(caps, Op.DOT, q, m, s);
    }

    public static void cosine(Capabilities caps, Tensor q, Tensor m, Tensor s) {
        check(caps, Op.COSINE, q, m, s);
    }




    /** Codes a row of {@code bytes} holds at {@code bits} per code (two a byte at 4 bits). */
    public static long codesPerRow(int bits, long bytes) {
        return bits == 4 ? 2 * bytes : bytes;
    }

    /**
     * {@link RelevancyOps#codeDotRows}: the descriptor's checks, then {@code bits} 4 or 8, and the exactness bound: the
     * largest possible sum {@code (2^bits - 1)^2 * codes per row} must fit a 32-bit int.
     */
    public static void codeDotRows(Capabilities caps, Tensor queryCodes, Tensor codes, int bits, Indices rowIds,
                                   Tensor s) {
        Op op = Op.CODE_DOT_ROWS;
        check(caps, op, queryCodes, codes, bits, rowIds, s);
        if (bits != 4 && bits != 8) {
            throw new IllegalArgumentException(op + ": bits must be 4 or 8, got " + bits);
        }
        long max = (long) ((1 << bits) - 1) * ((1 << bits) - 1);
        long largest = max * codesPerRow(bits, codes.cols());
        if (largest > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": argument 'codes' has rows of " + codes.cols() + " bytes ("
                    + codesPerRow(bits, codes.cols()) + " codes of " + bits + " bits), whose largest possible sum "
                    + max + " * " + codesPerRow(bits, codes.cols()) + " = " + largest + " is beyond the exactness bound"
                    + " 2^31 - 1 (at most " + maxCodeBytes(bits) + " bytes a row at " + bits + " bits)");
        }
    }

    /** The widest row of codes, in bytes, whose largest possible {@code codeDotRows} sum fits a 32-bit int. */
    public static int maxCodeBytes(int bits) {
        long max = (long) ((1 << bits) - 1) * ((1 << bits) - 1);
        return (int) (Integer.MAX_VALUE / max / (bits == 4 ? 2 : 1));
    }

    public static void questBound(Capabilities caps, Tensor q, Tensor min, Tensor max, Tensor s) {
        check(caps, Op.QUEST_BOUND, q, min, max, s);
    }

    public static void groupMax(Capabilities caps, Tensor s, int groupSize, Tensor y) {
        check(caps, Op.GROUP_MAX, s, groupSize, y);
    }

    public static void indexerScore(Capabilities caps, Tensor q, Tensor w, Tensor keys, Tensor kScale, Tensor s) {
        check(caps, Op.INDEXER_SCORE, q, w, keys, kScale, s);
    }

    public static void softmax(Capabilities caps, Tensor s, float scale, Tensor p) {
        Op op = Op.SOFTMAX;
        check(caps, op, s, scale, p);
        if (s.cols() == 0) {
            throw new IllegalArgumentException(op + ": argument 's' must hold at least one score, got [1, 0]");
        }
        if (!Float.isFinite(scale)) {
            throw new IllegalArgumentException(op + ": scale must be finite, got " + scale);
        }
    }

    public static void bm25Score(Capabilities caps, Indices query, Bm25Index index, Bm25Params params, Tensor s) {
        Op op = Op.BM25_SCORE;
        supported(caps, op);
        indices(op, "query", query);
        notNull(op, "index", index);
        notNull(op, "params", params);
        Limits limits = caps.limits(op);
        for (int i = 0; i < query.length(); i++) {
            if (query.get(i) > limits.maxTermId()) {
                throw new LimitExceededException(op, "maxTermId", query.get(i), limits.maxTermId(), op
                        + ": argument 'query' holds term id " + query.get(i) + " at position " + i
                        + ", beyond this backend's limit maxTermId = " + limits.maxTermId());
            }
        }
        long distinct = java.util.stream.IntStream.range(0, query.length()).map(query::get).distinct().count();
        if (distinct > limits.maxQueryTerms()) {
            throw new LimitExceededException(op, "maxQueryTerms", distinct, limits.maxQueryTerms(), op
                    + ": argument 'query' holds " + distinct + " distinct term ids,"
                    + " beyond this backend's limit maxQueryTerms = " + limits.maxQueryTerms());
        }
        if (index.vocabularySize() - 1L > limits.maxTermId()) {
            throw new LimitExceededException(op, "maxTermId", index.vocabularySize() - 1L, limits.maxTermId(), op
                    + ": argument 'index' has term ids up to " + (index.vocabularySize() - 1)
                    + ", beyond this backend's limit maxTermId = " + limits.maxTermId());
        }
        if (index.numDocs() > limits.maxRows()) {
            throw new LimitExceededException(op, "maxRows", index.numDocs(), limits.maxRows(), op
                    + ": argument 'index' holds " + index.numDocs() + " documents, beyond this backend's limit maxRows = "
                    + limits.maxRows());
        }
        output(caps, op, "s", s, 1, index.numDocs());
    }

    // ---- Stage 3: Retrieval ----

    public static void topK(Capabilities caps, Tensor s, int k, Indices idx, Tensor val) {
        Op op = Op.TOP_K;
        input(caps, op, "s", s);
        if (k <= 0) {
            throw new IllegalArgumentException(op + ": k must be >= 1, got " + k);
        }
        int maxK = caps.limits(op).maxK();
        if (k > maxK) {
            throw new LimitExceededException(op, "maxK", k, maxK, op + ": k = " + k
                    + " exceeds this backend's limit maxK = " + maxK);
        }
        int count = Math.min(k, s.cols());
        indices(op, "idx", idx);
        long needed = s.rows() * count;
        if (idx.length() < needed) {
            throw new IllegalArgumentException(op + ": argument 'idx' holds " + idx.length() + " entries but "
                    + (s.rows() == 1 ? "" : s.rows() + " rows x ") + "min(k=" + k + ", n=" + s.cols() + ") = "
                    + needed + " are needed");
        }
        if (val != null) {
            alive(op, "val", val);
            if (val.type() != ElementType.F32 || val.rows() != s.rows() || val.cols() < count) {
                throw new IllegalArgumentException(op + ": argument 'val' must be an F32 [" + s.rows() + ", >= "
                        + count + "] tensor, got " + val.shapeString());
            }
        }
    }

    /**
     * {@link #check} plus what shapes cannot say: {@code w} is F32, {@code accept} has n bits, {@code idx} holds
     * {@code m * min(k, n)} entries, {@code val} is F32 {@code [m, >= min(k, n)]} (as {@link #topK}'s), k is within
     * the backend's top-k limit.
     */
    public static void dotTopK(Capabilities caps, Tensor q, Tensor keys, Tensor w, Bitmap accept, int k, Indices idx,
                               Tensor val) {
        Op op = Op.DOT_TOP_K;
        check(caps, op, q, keys, w, accept, k, idx, null); // val may be wider than min(k, n), as topK's
        if (w != null && w.type() != ElementType.F32) {
            throw new UnsupportedElementTypeException(op, "w", w.type(), EnumSet.of(ElementType.F32));
        }
        if (accept != null && accept.length() != keys.rows()) {
            throw new IllegalArgumentException(op + ": argument 'accept' has " + accept.length() + " bits but M has "
                    + keys.rows() + " rows");
        }
        if (caps.supports(op) && k > caps.limits(op).maxK()) {
            int maxK = caps.limits(op).maxK();
            throw new LimitExceededException(op, "maxK", k, maxK, op + ": k = " + k
                    + " exceeds this backend's limit maxK = " + maxK);
        }
        long needed = q.rows() * Math.min(k, keys.rows());
        if (idx.length() < needed) {
            throw new IllegalArgumentException(op + ": argument 'idx' holds " + idx.length() + " entries but m="
                    + q.rows() + " x min(k=" + k + ", n=" + keys.rows() + ") = " + needed + " are needed");
        }
        int count = (int) Math.min(k, keys.rows());
        if (val != null) {
            alive(op, "val", val);
            if (val.type() != ElementType.F32 || val.rows() != q.rows() || val.cols() < count) {
                throw new IllegalArgumentException(op + ": argument 'val' must be an F32 [" + q.rows() + ", >= "
                        + count + "] tensor, got " + val.shapeString());
            }
        }
    }

    public static void threshold(Capabilities caps, Tensor s, float t, Bitmap out) {
        Op op = Op.THRESHOLD;
        input(caps, op, "s", s);
        if (Float.isNaN(t)) {
            throw new IllegalArgumentException(op + ": threshold T must not be NaN");
        }
        notNull(op, "bitmap", out);
        if (!out.isAlive()) {
            throw new IllegalStateException(op + ": argument 'bitmap' refers to memory whose arena is closed");
        }
        if (out.length() != s.size()) {
            throw new IllegalArgumentException(op + ": argument 'bitmap' has " + out.length() + " bits but s has "
                    + s.size() + " scores" + (s.rows() == 1 ? "" : " (" + s.rows() + " rows of " + s.cols() + ")"));
        }
    }

    public static void bitmapToIndices(Capabilities caps, Bitmap bits, Indices out) {
        Op op = Op.BITMAP_TO_INDICES;
        supported(caps, op);
        notNull(op, "bitmap", bits);
        if (!bits.isAlive()) {
            throw new IllegalStateException(op + ": argument 'bitmap' refers to memory whose arena is closed");
        }
        indices(op, "indices", out);
        long needed = bits.cardinality();
        if (out.length() < needed) {
            throw new IllegalArgumentException(op + ": argument 'indices' holds " + out.length() + " entries but "
                    + needed + " bits are set");
        }
    }

    /**
     * Checks expandBlocks' arguments and returns the exact output length, so that a too-small output is
     * rejected before anything is written.
     */
    public static int expandBlocks(Capabilities caps, Indices blocks, int blockSize, long length, int sink,
                                   int window, Indices out) {
        Op op = Op.EXPAND_BLOCKS;
        supported(caps, op);
        indices(op, "blocks", blocks);
        positive(op, "P", blockSize);
        if (length < 0 || length > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": L must be in [0, " + Integer.MAX_VALUE + "], got " + length);
        }
        if (sink < 0) {
            throw new IllegalArgumentException(op + ": sink must be >= 0, got " + sink);
        }
        if (window < 0) {
            throw new IllegalArgumentException(op + ": window must be >= 0, got " + window);
        }
        long numBlocks = ceilDiv(length, blockSize);
        for (int i = 0; i < blocks.length(); i++) {
            int b = blocks.get(i);
            if (b < 0 || b >= numBlocks) {
                throw new IllegalArgumentException(op + ": argument 'blocks' holds " + b + " at position " + i
                        + "; blocks must be in [0, " + numBlocks + ") for L=" + length + ", P=" + blockSize);
            }
        }
        indices(op, "tokens", out);
        int count = expandedLength(blocks, blockSize, (int) length, sink, window);
        if (out.length() < count) {
            throw new IllegalArgumentException(op + ": argument 'tokens' holds " + out.length() + " entries but the "
                    + "expansion has " + count + " tokens");
        }
        return count;
    }

    /** The exact number of distinct tokens {@code expandBlocks} produces (sorts a copy of the block list). */
    private static int expandedLength(Indices blocks, int blockSize, int length, int sink, int window) {
        int[] sorted = blocks.toArray();
        java.util.Arrays.sort(sorted);
        long sinkEnd = Math.min(sink, length);
        long windowStart = Math.max(0, (long) length - window);
        long count = sinkEnd;
        long covered = sinkEnd; // tokens [0, covered) are accounted for; blocks arrive sorted by start
        for (int b : sorted) {
            long start = Math.max((long) b * blockSize, covered);
            long end = Math.min((long) (b + 1) * blockSize, Math.max(windowStart, covered));
            // tokens at or past windowStart are counted with the window below
            end = Math.min(end, length);
            if (end > start) {
                count += end - start;
                covered = end;
            }
        }
        count += length - Math.max(windowStart, Math.min(covered, length));
        return (int) count;
    }

    public static void gather(Capabilities caps, Tensor x, Indices idx, Tensor y) {
        Op op = Op.GATHER;
        if (x != null && y != null && y.type() != x.type()) {
            throw new IllegalArgumentException(op + ": argument 'Y' must have X's element type " + x.type()
                    + ", got " + y.type());
        }
        check(caps, op, x, idx, y);
    }

    // ---- Stage 4: Apply to Inference ----

    public static void attention(Capabilities caps, Tensor q, Tensor keys, Tensor values, int kvHeads, Indices idx,
                                 float scale, Tensor out) {
        Op op = Op.ATTENTION;
        input(caps, op, "q", q);
        input(caps, op, "K", keys);
        input(caps, op, "V", values);
        positive(op, "Hkv", kvHeads);
        long hq = q.rows();
        if (hq < 1 || hq % kvHeads != 0) {
            throw new IllegalArgumentException(op + ": query heads Hq=" + hq + " must be >= 1 and a multiple of Hkv="
                    + kvHeads);
        }
        long width = (long) kvHeads * q.cols();
        if (keys.cols() != width) {
            throw new IllegalArgumentException(op + ": argument 'K' must have Hkv*d = " + kvHeads + "*" + q.cols()
                    + " = " + width + " columns, got " + keys.shapeString());
        }
        shape(op, "V", values, keys.rows(), keys.cols());
        if (!Float.isFinite(scale)) {
            throw new IllegalArgumentException(op + ": scale must be finite, got " + scale);
        }
        if (idx == null) {
            if (keys.rows() < 1) {
                throw new IllegalArgumentException(op + ": dense attention needs L >= 1 rows, got 0");
            }
        } else {
            indices(op, "idx", idx);
            if (idx.length() < 1) {
                throw new IllegalArgumentException(op + ": argument 'idx' must select at least one row, got 0");
            }
            for (int i = 0; i < idx.length(); i++) {
                int r = idx.get(i);
                if (r < 0 || r >= keys.rows()) {
                    throw new IllegalArgumentException(op + ": argument 'idx' holds " + r + " at position " + i
                            + ", outside [0, " + keys.rows() + ")");
                }
            }
        }
        output(caps, op, "o", out, hq, q.cols());
    }

    public static void softRetrieve(Capabilities caps, Tensor a, Tensor v, Tensor out) {
        check(caps, Op.SOFT_RETRIEVE, a, v, out);
    }

    // ---- the checks every descriptor implies ----

    /**
     * Checks the arguments of {@code op}, given in its Java method's order ({@link OpDescriptor#callArgs()}),
     * against its descriptor: tensors non-null, alive, of declared element types and within the backend's
     * limits; sizes named alike agree ({@code d} of Q and M); index lists of row numbers hold rows that exist;
     * integer parameters at least their minimum; outputs of the exact shape and an element type the op writes
     * and the backend declares. Ops with rules beyond these add them in their own method here.
     */
    public static void check(Capabilities caps, Op op, Object... values) {
        List<OpDescriptor.Arg> args = op.descriptor().callArgs();
        if (values.length != args.size()) {
            throw new IllegalArgumentException(op + " takes " + args.size() + " arguments "
                    + args.stream().map(OpDescriptor.Arg::name).toList() + ", got " + values.length);
        }
        supported(caps, op);
        Map<String, Long> sizes = new HashMap<>();
        Map<String, String> boundBy = new HashMap<>();
        // parameters first: they are sizes that shapes read (P in ceil(L/P))
        for (int i = 0; i < values.length; i++) {
            OpDescriptor.Arg a = args.get(i);
            if (a.role() != OpDescriptor.Role.PARAM) {
                continue;
            }
            if (a.kind() == OpDescriptor.ParamKind.INT) {
                long v = ((Number) values[i]).longValue();
                if (v < a.min()) {
                    throw new IllegalArgumentException(op + ": " + a.name() + " must be >= " + a.min() + ", got " + v);
                }
                sizes.put(a.name(), v);
            } else if (a.kind() == OpDescriptor.ParamKind.CHOICE) {
                notNull(op, a.name(), values[i]);
            }
        }
        for (int i = 0; i < values.length; i++) {
            OpDescriptor.Arg a = args.get(i);
            Object v = values[i];
            if (!a.role().isInput() || (v == null && a.optional())) {
                continue;
            }
            switch (a.role()) {
                case TENSOR -> {
                    Tensor t = (Tensor) v;
                    input(caps, op, a.name(), t);
                    if (a.types() != null && !a.types().contains(t.type())) {
                        throw new UnsupportedElementTypeException(op, a.name(), t.type(), a.types());
                    }
                    bindRows(op, a, t.rows(), t, sizes, boundBy);
                    bindCols(op, a, t, sizes, boundBy);
                }
                case INDICES -> {
                    Indices idx = (Indices) v;
                    indices(op, a.name(), idx);
                    bindRows(op, a, idx.length(), null, sizes, boundBy);
                }
                default -> {
                    notNull(op, a.name(), v);
                    if (!((Bitmap) v).isAlive()) {
                        throw new IllegalStateException(op + ": argument '" + a.name()
                                + "' refers to memory whose arena is closed");
                    }
                }
            }
        }
        for (int i = 0; i < values.length; i++) {
            OpDescriptor.Arg a = args.get(i);
            if (a.role() == OpDescriptor.Role.INDICES && a.rowsOf() != null && values[i] != null) {
                rowNumbers(op, a.name(), (Indices) values[i], op.descriptor().arg(a.rowsOf()).rows().eval(sizes));
            }
        }
        for (int i = 0; i < values.length; i++) {
            OpDescriptor.Arg a = args.get(i);
            if (a.role() != OpDescriptor.Role.OUTPUT || (values[i] == null && a.optional())) {
                continue;
            }
            long rows = a.rows().eval(sizes);
            long cols = a.dims().get(1).eval(sizes);
            if (a.threeD()) {
                cols = Math.multiplyExact(cols, a.dims().get(2).eval(sizes));
            }
            if (cols > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(op + ": argument '" + a.name() + "' would need rows of "
                        + a.dims().get(1) + " = " + cols + " elements, beyond the row width limit " + Integer.MAX_VALUE);
            }
            output(caps, op, a.name(), (Tensor) values[i], rows, (int) cols);
        }
    }

    /** A size read from an argument: binds its symbol, or checks it against the binding an earlier one made. */
    private static void bindRows(Op op, OpDescriptor.Arg a, long actual, Tensor t, Map<String, Long> sizes,
                                 Map<String, String> boundBy) {
        Dim dim = a.rows();
        if (t != null && dim.isLiteral(1)) {
            if (actual != 1) {
                throw new IllegalArgumentException(op + ": argument '" + a.name() + "' must be a vector [1, n], got "
                        + t.shapeString());
            }
            return;
        }
        bind(op, a.name(), dim, actual, t, sizes, boundBy);
    }

    private static void bindCols(Op op, OpDescriptor.Arg a, Tensor t, Map<String, Long> sizes,
                                 Map<String, String> boundBy) {
        if (!a.threeD()) {
            bind(op, a.name(), a.dims().get(1), t.cols(), t, sizes, boundBy);
            return;
        }
        // [L, Hkv, d] stored as [L, Hkv*d]: both known, or one of them from the other
        Dim heads = a.dims().get(1);
        Dim d = a.dims().get(2);
        if (d.computable(sizes) && !heads.computable(sizes) && heads.symbol() != null && d.eval(sizes) > 0
                && t.cols() % d.eval(sizes) == 0) {
            bind(op, a.name(), heads, t.cols() / d.eval(sizes), t, sizes, boundBy);
        } else if (heads.computable(sizes) && !d.computable(sizes) && d.symbol() != null && heads.eval(sizes) > 0
                && t.cols() % heads.eval(sizes) == 0) {
            bind(op, a.name(), d, t.cols() / heads.eval(sizes), t, sizes, boundBy);
        }
        if (heads.computable(sizes) && d.computable(sizes)
                && Math.multiplyExact(heads.eval(sizes), d.eval(sizes)) != t.cols()) {
            throw new IllegalArgumentException(op + ": argument '" + a.name() + "' must have " + heads + "*" + d
                    + " = " + heads.eval(sizes) + "*" + d.eval(sizes) + " = " + heads.eval(sizes) * d.eval(sizes)
                    + " columns, got " + t.shapeString());
        }
    }

    private static void bind(Op op, String name, Dim dim, long actual, Tensor t, Map<String, Long> sizes,
                             Map<String, String> boundBy) {
        String symbol = dim.symbol();
        if (symbol != null && !sizes.containsKey(symbol)) {
            sizes.put(symbol, actual);
            boundBy.put(symbol, name);
            return;
        }
        if (!dim.computable(sizes)) {
            Map.Entry<String, Long> solved = dim.solve(actual);
            if (solved != null) {
                sizes.put(solved.getKey(), solved.getValue());
                boundBy.put(solved.getKey(), name);
            }
            return;
        }
        long expected = dim.eval(sizes);
        if (expected == actual) {
            return;
        }
        String what = t == null ? actual + " entries" : "shape " + t.shapeString();
        if (symbol != null && boundBy.containsKey(symbol)) {
            throw new IllegalArgumentException(op + ": dimension mismatch: '" + boundBy.get(symbol) + "' has "
                    + symbol + "=" + expected + " but '" + name + "' has " + symbol + "=" + actual);
        }
        throw new IllegalArgumentException(op + ": argument '" + name + "' must have " + dim + " = " + expected
                + (t == null ? " entries" : " in its shape") + ", got " + what);
    }

    /** Every entry of {@code idx} a row number in {@code [0, rows)}; fails naming the first position that is not. */
    private static void rowNumbers(Op op, String name, Indices idx, long rows) {
        for (int i = 0; i < idx.length(); i++) {
            int r = idx.get(i);
            if (r < 0 || r >= rows) {
                throw new IllegalArgumentException(op + ": argument '" + name + "' holds " + r + " at position " + i
                        + ", outside [0, " + rows + ")");
            }
        }
    }

    // ---- building blocks ----

    /** Fails with {@link UnsupportedOperationException} when the backend does not declare {@code op}. */
    public static void supported(Capabilities caps, Op op) {
        if (!caps.supports(op)) {
            throw new UnsupportedOperationException(op + " is not supported by this backend (capabilities: "
                    + caps.ops() + ")");
        }
    }

    /** A tensor input: non-null, alive, of a type the capabilities declare for the op. */
    public static void input(Capabilities caps, Op op, String name, Tensor t) {
        supported(caps, op);
        notNull(op, name, t);
        alive(op, name, t);
        if (!caps.supports(op, t.type())) {
            throw new UnsupportedElementTypeException(op, name, t.type(), caps.types(op));
        }
        within(caps, op, name, t);
    }

    /** Fails naming the limit when {@code t} is wider or longer than the backend declares for {@code op}. */
    public static void within(Capabilities caps, Op op, String name, Tensor t) {
        Limits limits = caps.limits(op);
        if (t.cols() > limits.maxCols()) {
            throw new LimitExceededException(op, "maxCols", t.cols(), limits.maxCols(), op + ": argument '" + name
                    + "' has rows of " + t.cols() + " elements, beyond this backend's limit maxCols = "
                    + limits.maxCols());
        }
        if (t.rows() > limits.maxRows()) {
            throw new LimitExceededException(op, "maxRows", t.rows(), limits.maxRows(), op + ": argument '" + name
                    + "' has " + t.rows() + " rows, beyond this backend's limit maxRows = " + limits.maxRows());
        }
    }

    /**
     * An output tensor of exactly {@code [rows, cols]}, of a type the op writes ({@link OpDescriptor#outputTypes()})
     * and the backend declares.
     */
    public static void output(Capabilities caps, Op op, String name, Tensor t, long rows, int cols) {
        notNull(op, name, t);
        alive(op, name, t);
        Set<ElementType> writes = op.descriptor().outputTypes();
        if (!writes.contains(t.type())) {
            throw new UnsupportedElementTypeException(op, name, t.type(), writes);
        }
        declaredOutput(caps, op, name, t);
        shape(op, name, t, rows, cols);
        within(caps, op, name, t);
    }

    private static void declaredOutput(Capabilities caps, Op op, String name, Tensor t) {
        if (caps.supports(op) && !caps.writes(op, t.type())) {
            throw new UnsupportedElementTypeException(op, name, t.type(), caps.outputTypes(op));
        }
    }

    public static void shape(Op op, String name, Tensor t, long rows, int cols) {
        if (t.rows() != rows || t.cols() != cols) {
            throw new IllegalArgumentException(op + ": argument '" + name + "' must have shape [" + rows + ", "
                    + cols + "] but has " + t.shapeString());
        }
    }

    public static void alive(Op op, String name, Tensor t) {
        if (!t.isAlive()) {
            throw new IllegalStateException(op + ": argument '" + name
                    + "' refers to memory whose arena is closed");
        }
    }

    private static void indices(Op op, String name, Indices i) {
        notNull(op, name, i);
        if (!i.isAlive()) {
            throw new IllegalStateException(op + ": argument '" + name + "' refers to memory whose arena is closed");
        }
    }

    private static void positive(Op op, String name, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(op + ": " + name + " must be >= 1, got " + value);
        }
    }

    private static void notNull(Op op, String name, Object o) {
        if (o == null) {
            throw new IllegalArgumentException(op + ": argument '" + name + "' must not be null");
        }
    }


    /** {@code ceil(a / b)} for non-negative a and positive b. */
    public static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
