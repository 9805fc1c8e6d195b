package dev.mempipe.spi;

import java.util.EnumSet;
import java.util.Set;

/**
 * The argument checks of every op, shared by all backends so that bad input fails the same way everywhere:
 * same exception type, a message naming the op, the argument, its value and the limit, and nothing written.
 * A backend calls {@code OpArgs.<op>(caps, ...)} first thing in each op; the element types allowed for
 * inputs are the ones its {@link Capabilities} declare.
 */
public final class OpArgs {
    private static final Set<ElementType> FLOAT_OUTPUTS = EnumSet.of(ElementType.F32, ElementType.F16,
            ElementType.BF16);
    private static final Set<ElementType> INTEGER_TYPES = EnumSet.of(ElementType.I8, ElementType.I16);

    private OpArgs() {
    }

    // ---- Stage 1: Prepare Memory ----

    public static void pageMinMax(Capabilities caps, Tensor keys, int pageSize, Tensor min, Tensor max) {
        Op op = Op.PAGE_MIN_MAX;
        input(caps, op, "K", keys);
        positive(op, "P", pageSize);
        long pages = ceilDiv(keys.rows(), pageSize);
        output(caps, op, "min", min, pages, keys.cols());
        output(caps, op, "max", max, pages, keys.cols());
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
        Op op = Op.PAGE_POOL;
        input(caps, op, "K", keys);
        positive(op, "P", pageSize);
        notNull(op, "mode", mode);
        output(caps, op, "Y", out, ceilDiv(keys.rows(), pageSize), keys.cols());
    }

    public static void project(Capabilities caps, Tensor x, Tensor w, Tensor y) {
        Op op = Op.PROJECT;
        input(caps, op, "X", x);
        input(caps, op, "W", w);
        sameCols(op, "X", x, "W", w);
        output(caps, op, "Y", y, x.rows(), toIntCols(op, "W rows", w.rows()));
    }

    public static void quantize(Capabilities caps, Tensor x, Tensor q) {
        Op op = Op.QUANTIZE;
        input(caps, op, "X", x);
        notNull(op, "X'", q);
        if (!q.type().isQuantized()) {
            throw new UnsupportedElementTypeException(op, "X'", q.type(), INTEGER_TYPES);
        }
        declaredOutput(caps, op, "X'", q);
        shape(op, "X'", q, x.rows(), x.cols());
        alive(op, "X'", q);
    }

    public static void dequantize(Capabilities caps, Tensor q, Tensor y) {
        Op op = Op.DEQUANTIZE;
        input(caps, op, "X", q);
        if (!q.type().isQuantized()) {
            throw new UnsupportedElementTypeException(op, "X", q.type(), INTEGER_TYPES);
        }
        output(caps, op, "X'", y, q.rows(), q.cols());
    }

    public static void convert(Capabilities caps, Tensor x, Tensor y) {
        Op op = Op.CONVERT;
        input(caps, op, "X", x);
        notNull(op, "X'", y);
        declaredOutput(caps, op, "X'", y);
        shape(op, "X'", y, x.rows(), x.cols());
        alive(op, "X'", y);
    }

    public static void l2Normalize(Capabilities caps, Tensor x, Tensor y) {
        Op op = Op.L2_NORMALIZE;
        input(caps, op, "X", x);
        output(caps, op, "Y", y, x.rows(), x.cols());
    }

    public static void rope(Capabilities caps, Tensor x, Indices positions, float theta, Tensor y) {
        Op op = Op.ROPE;
        input(caps, op, "X", x);
        if (x.cols() % 2 != 0) {
            throw new IllegalArgumentException(op + ": argument 'X' must have an even row width d, got d="
                    + x.cols());
        }
        indices(op, "positions", positions);
        if (positions.length() != x.rows()) {
            throw new IllegalArgumentException(op + ": argument 'positions' has " + positions.length()
                    + " entries but X has " + x.rows() + " rows");
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
        output(caps, op, "Y", y, x.rows(), x.cols());
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
        dotLike(caps, Op.DOT, q, m, s);
    }

    public static void cosine(Capabilities caps, Tensor q, Tensor m, Tensor s) {
        dotLike(caps, Op.COSINE, q, m, s);
    }

    private static void dotLike(Capabilities caps, Op op, Tensor q, Tensor m, Tensor s) {
        input(caps, op, "Q", q);
        input(caps, op, "M", m);
        sameCols(op, "Q", q, "M", m);
        output(caps, op, "S", s, q.rows(), toIntCols(op, "M rows", m.rows()));
    }

    public static void questBound(Capabilities caps, Tensor q, Tensor min, Tensor max, Tensor s) {
        Op op = Op.QUEST_BOUND;
        input(caps, op, "q", q);
        input(caps, op, "min", min);
        input(caps, op, "max", max);
        sameCols(op, "q", q, "min", min);
        shape(op, "max", max, min.rows(), min.cols());
        output(caps, op, "s", s, q.rows(), toIntCols(op, "pages", min.rows()));
    }

    public static void groupMax(Capabilities caps, Tensor s, int groupSize, Tensor y) {
        Op op = Op.GROUP_MAX;
        input(caps, op, "s", s);
        positive(op, "g", groupSize);
        output(caps, op, "y", y, s.rows(), (int) ceilDiv(s.cols(), groupSize));
    }

    public static void indexerScore(Capabilities caps, Tensor q, Tensor w, Tensor keys, Tensor kScale, Tensor s) {
        Op op = Op.INDEXER_SCORE;
        input(caps, op, "q", q);
        input(caps, op, "w", w);
        input(caps, op, "K", keys);
        sameCols(op, "q", q, "K", keys);
        shape(op, "w", w, 1, toIntCols(op, "q rows", q.rows()));
        int n = toIntCols(op, "K rows", keys.rows());
        if (kScale != null) {
            input(caps, op, "kScale", kScale);
            shape(op, "kScale", kScale, 1, n);
        }
        output(caps, op, "s", s, 1, n);
    }

    public static void softmax(Capabilities caps, Tensor s, float scale, Tensor p) {
        Op op = Op.SOFTMAX;
        input(caps, op, "s", s);
        vector(op, "s", s);
        if (s.cols() == 0) {
            throw new IllegalArgumentException(op + ": argument 's' must hold at least one score, got [1, 0]");
        }
        if (!Float.isFinite(scale)) {
            throw new IllegalArgumentException(op + ": scale must be finite, got " + scale);
        }
        output(caps, op, "p", p, 1, s.cols());
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
                throw new IllegalArgumentException(op + ": argument 'query' holds term id " + query.get(i)
                        + " at position " + i + ", beyond this backend's limit maxTermId = " + limits.maxTermId());
            }
        }
        if (index.vocabularySize() - 1L > limits.maxTermId()) {
            throw new IllegalArgumentException(op + ": argument 'index' has term ids up to "
                    + (index.vocabularySize() - 1) + ", beyond this backend's limit maxTermId = " + limits.maxTermId());
        }
        if (index.numDocs() > limits.maxRows()) {
            throw new IllegalArgumentException(op + ": argument 'index' holds " + index.numDocs()
                    + " documents, beyond this backend's limit maxRows = " + limits.maxRows());
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
            throw new IllegalArgumentException(op + ": k = " + k + " exceeds this backend's limit maxK = " + maxK);
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
        input(caps, op, "X", x);
        indices(op, "idx", idx);
        notNull(op, "Y", y);
        alive(op, "Y", y);
        if (y.type() != x.type()) {
            throw new IllegalArgumentException(op + ": argument 'Y' must have X's element type " + x.type()
                    + ", got " + y.type());
        }
        shape(op, "Y", y, idx.length(), x.cols());
        for (int i = 0; i < idx.length(); i++) {
            int r = idx.get(i);
            if (r < 0 || r >= x.rows()) {
                throw new IllegalArgumentException(op + ": argument 'idx' holds " + r + " at position " + i
                        + ", outside [0, " + x.rows() + ")");
            }
        }
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
        Op op = Op.SOFT_RETRIEVE;
        input(caps, op, "a", a);
        input(caps, op, "V", v);
        vector(op, "a", a);
        if (a.cols() != v.rows()) {
            throw new IllegalArgumentException(op + ": argument 'a' has " + a.cols() + " weights but V has "
                    + v.rows() + " rows");
        }
        output(caps, op, "o", out, 1, v.cols());
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
            throw new IllegalArgumentException(op + ": argument '" + name + "' has rows of " + t.cols()
                    + " elements, beyond this backend's limit maxCols = " + limits.maxCols());
        }
        if (t.rows() > limits.maxRows()) {
            throw new IllegalArgumentException(op + ": argument '" + name + "' has " + t.rows()
                    + " rows, beyond this backend's limit maxRows = " + limits.maxRows());
        }
    }

    /** A float output tensor of exactly {@code [rows, cols]}, of a type the backend declares for the op. */
    public static void output(Capabilities caps, Op op, String name, Tensor t, long rows, int cols) {
        notNull(op, name, t);
        alive(op, name, t);
        if (!FLOAT_OUTPUTS.contains(t.type())) {
            throw new UnsupportedElementTypeException(op, name, t.type(), FLOAT_OUTPUTS);
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

    private static void vector(Op op, String name, Tensor t) {
        if (t.rows() != 1) {
            throw new IllegalArgumentException(op + ": argument '" + name + "' must be a vector [1, n], got "
                    + t.shapeString());
        }
    }

    private static void sameCols(Op op, String aName, Tensor a, String bName, Tensor b) {
        if (a.cols() != b.cols()) {
            throw new IllegalArgumentException(op + ": dimension mismatch: '" + aName + "' has d=" + a.cols()
                    + " but '" + bName + "' has d=" + b.cols());
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

    private static int toIntCols(Op op, String what, long n) {
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": " + what + " = " + n + " exceeds the output row width limit "
                    + Integer.MAX_VALUE);
        }
        return (int) n;
    }

    /** {@code ceil(a / b)} for non-negative a and positive b. */
    public static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
