package dev.mempipe.core.profile;

import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.OpSizes;
import dev.mempipe.spi.PoolMode;
import dev.mempipe.spi.WorkCount;

import java.util.HashSet;
import java.util.Set;

import static java.lang.Math.addExact;
import static java.lang.Math.multiplyExact;

/**
 * Analytic work counts of every op of the contract, from shapes and element types: what the roofline model,
 * the planner and the profiler use. The formulas are the ops' own ({@code OpDescriptor}'s cost, in {@code spi});
 * each method here names one op's sizes for its callers, and {@link #of(OpSizes)} costs any op, a new one
 * included. They are models of the op, not counter readings:
 * <ul>
 *   <li><b>Bytes</b> are compulsory traffic: every input element read once and every output element written
 *       once (re-reads that caches absorb are not counted). A tensor of an integer type also moves its f32
 *       row scales: {@link #tensorBytes}. Index lists ({@code Indices}) are 4 bytes per entry.</li>
 *   <li><b>FLOPs</b> count floating-point arithmetic: a multiply-add is 2, a comparison for min/max/top-k is 1,
 *       an {@code exp} or a division is 1. Integer work (index arithmetic, integer dot products counted as if
 *       they were float) follows the same rule; pure data movement ({@code gather}, {@code expandBlocks}) is 0.</li>
 * </ul>
 * Shapes use the names of the op contract (SPEC.md). Every method rejects negative sizes.
 */
public final class OpCosts {
    /** Bytes per {@code Indices} entry (int32). */
    public static final int INDEX_BYTES = OpSizes.INDEX_BYTES;
    /** Bytes of the per-row f32 scale of an integer tensor. */
    public static final int SCALE_BYTES = OpSizes.SCALE_BYTES;

    private OpCosts() {
    }

    /** Bytes of a {@code [rows, cols]} tensor: {@code rows*cols*size}, plus {@code 4*rows} scale bytes for I8/I16. */
    public static long tensorBytes(ElementType type, long rows, long cols) {
        return OpSizes.tensorBytes(type, rows, cols);
    }

    // ---- Stage 1: Prepare Memory ----

    /**
     * {@code pageMinMax(K[L,d], P)}: read K; write min and max {@code [ceil(L/P), d]}; {@code 2*L*d} FLOPs (one
     * min and one max comparison per element).
     */
    public static OpCost pageMinMax(long length, long d, long pageSize, ElementType keyType, ElementType outType) {
        return of(Op.PAGE_MIN_MAX.descriptor().sizes().size("L", length).size("d", d).size("P", pageSize)
                .type("K", keyType).type("min", outType).type("max", outType));
    }

    /**
     * {@code pageMinMaxAppend(K[L,d], fromRow, P)}: read the new rows {@code [fromRow, L)}, plus the existing min
     * and max rows of a partly filled page they merge into; write min and max of every page holding a new row;
     * {@code 2*(L-fromRow)*d} FLOPs.
     */
    public static OpCost pageMinMaxAppend(long length, long fromRow, long d, long pageSize, ElementType keyType,
                                          ElementType outType) {
        positive("pageSize", pageSize);
        if (fromRow < 0 || fromRow > length) {
            throw new IllegalArgumentException("fromRow must be in [0, " + length + "], got " + fromRow);
        }
        long newRows = length - fromRow;
        if (newRows == 0) {
            return OpCost.ZERO;
        }
        long touchedPages = ceilDiv(length, pageSize) - fromRow / pageSize;
        long mergeRead = fromRow % pageSize != 0 ? 2 * tensorBytes(outType, 1, d) : 0;
        return new OpCost(addExact(tensorBytes(keyType, newRows, d), mergeRead),
                2 * tensorBytes(outType, touchedPages, d), multiplyExact(2 * newRows, d));
    }

    /**
     * {@code pagePool(K[L,d], P, mode)}: read K; write {@code Y[ceil(L/P), d]}; {@code L*d} FLOPs (one add or
     * comparison per element) plus {@code ceil(L/P)*d} divisions for MEAN.
     */
    public static OpCost pagePool(long length, long d, long pageSize, PoolMode mode, ElementType keyType,
                                  ElementType outType) {
        return of(Op.PAGE_POOL.descriptor().sizes().size("L", length).size("d", d).size("P", pageSize)
                .param("mode", mode.name()).type("K", keyType).type("Y", outType));
    }

    /** {@code project(X[n,h], W[o,h]) -> Y[n,o]}: read X and W; write Y; {@code 2*n*h*o} FLOPs. */
    public static OpCost project(long n, long h, long o, ElementType xType, ElementType wType, ElementType yType) {
        return of(Op.PROJECT.descriptor().sizes().size("n", n).size("h", h).size("o", o).type("X", xType)
                .type("W", wType).type("Y", yType));
    }

    /**
     * {@code quantize(X[n,d]) -> Q[n,d]}: read X; write codes and scales; {@code 3*n*d} FLOPs (max-abs comparison,
     * division, rounding per element).
     */
    public static OpCost quantize(long n, long d, ElementType xType, ElementType qType) {
        requireQuantized("qType", qType);
        return of(Op.QUANTIZE.descriptor().sizes().size("n", n).size("d", d).type("X", xType).type("X'", qType));
    }

    /** {@code dequantize(Q[n,d]) -> Y[n,d]}: read codes and scales; write Y; {@code n*d} FLOPs (code times scale). */
    public static OpCost dequantize(long n, long d, ElementType qType, ElementType yType) {
        requireQuantized("qType", qType);
        return of(Op.DEQUANTIZE.descriptor().sizes().size("n", n).size("d", d).type("X", qType).type("X'", yType));
    }

    /**
     * {@code convert(X[n,d]) -> Y[n,d]}: read X; write Y; FLOPs are {@code n*d} to decode integer codes plus
     * {@code 3*n*d} to quantize into an integer type; float-to-float rounding counts 0 (bit manipulation).
     */
    public static OpCost convert(long n, long d, ElementType from, ElementType to) {
        return of(Op.CONVERT.descriptor().sizes().size("n", n).size("d", d).type("X", from).type("X'", to));
    }

    /**
     * {@code l2Normalize(X[n,d]) -> Y[n,d]}: read X; write Y; {@code 3*n*d + 2*n} FLOPs (square-and-add and a
     * scaling per element, a square root and a reciprocal per row).
     */
    public static OpCost l2Normalize(long n, long d, ElementType xType, ElementType yType) {
        return of(Op.L2_NORMALIZE.descriptor().sizes().size("n", n).size("d", d).type("X", xType).type("Y", yType));
    }

    /**
     * {@code rope(X[n,d], positions[n], theta) -> Y[n,d]}: read X and positions; write Y; {@code 3*n*d} FLOPs (four
     * multiplies and two adds per pair); the sines and cosines of the angles are not counted.
     */
    public static OpCost rope(long n, long d, ElementType xType, ElementType yType) {
        return of(Op.ROPE.descriptor().sizes().size("n", n).size("d", d).type("X", xType).type("Y", yType));
    }

    /**
     * {@code bm25Index(offsets[N+1], tokens[T])}: read offsets and tokens; write the index (document lengths
     * {@code 4N}, document frequencies {@code 4V}, posting offsets {@code 4(V+1)}, postings {@code 8} each);
     * 0 FLOPs (integer counting).
     *
     * @param built the index the op produced, for its vocabulary size V and posting count
     */
    public static OpCost bm25Index(Indices offsets, Indices tokens, Bm25Index built) {
        return of(Op.BM25_INDEX.descriptor().sizes().size("N", built.numDocs()).size("T", tokens.length())
                .size("V", built.vocabularySize()).size("postings", built.postingDocs().length));
    }

    // ---- Stage 2: Compute Relevancy ----

    /**
     * {@code dot(Q[m,d], M[n,d]) -> S[m,n]}: read Q and M (with their row scales when integer); write S;
     * {@code 2*m*n*d} FLOPs.
     */
    public static OpCost dot(long m, long n, long d, ElementType qType, ElementType mType, ElementType sType) {
        return of(Op.DOT.descriptor().sizes().size("m", m).size("n", n).size("d", d).type("Q", qType)
                .type("M", mType).type("S", sType));
    }

    /** {@link #dot(long, long, long, ElementType, ElementType, ElementType)} with F32 scores. */
    public static OpCost dot(long m, long n, long d, ElementType qType, ElementType mType) {
        return dot(m, n, d, qType, mType, ElementType.F32);
    }

    /**
     * {@code dotRows(q[d], K[n,d], rowIds[k]) -> s[k]}: read q, the k chosen rows of K (with their scales) and the
     * row ids; write s; {@code 2*k*d} FLOPs.
     */
    public static OpCost dotRows(long k, long d, ElementType qType, ElementType keyType, ElementType sType) {
        return of(Op.DOT_ROWS.descriptor().sizes().size("k", k).size("d", d).type("q", qType).type("K", keyType)
                .type("s", sType));
    }

    /** {@code cosine(Q[m,d], M[n,d]) -> S[m,n]}: the bytes of {@code dot}; {@code 2*m*n*d + 2*(m+n)*d} FLOPs (norms). */
    public static OpCost cosine(long m, long n, long d, ElementType qType, ElementType mType, ElementType sType) {
        return of(Op.COSINE.descriptor().sizes().size("m", m).size("n", n).size("d", d).type("Q", qType)
                .type("M", mType).type("S", sType));
    }

    /**
     * {@code questBound(q[d], min[p,d], max[p,d]) -> s[p]}: read q, min and max; write s; {@code 4*p*d} FLOPs
     * (two multiplies, a max and an add per element).
     */
    public static OpCost questBound(long pages, long d, ElementType qType, ElementType pageType, ElementType sType) {
        return of(Op.QUEST_BOUND.descriptor().sizes().size("m", 1).size("p", pages).size("d", d).type("q", qType)
                .type("min", pageType).type("max", pageType).type("s", sType));
    }

    /** {@code groupMax(s[n], g) -> y[ceil(n/g)]}: read s; write y; {@code n} FLOPs (comparisons). */
    public static OpCost groupMax(long n, long groupSize, ElementType sType, ElementType yType) {
        return of(Op.GROUP_MAX.descriptor().sizes().size("m", 1).size("n", n).size("g", groupSize).type("s", sType)
                .type("y", yType));
    }

    /**
     * {@code indexerScore(q[H,dI], w[H], K[n,dI], kScale[n]) -> s[n]}: read q, w (F32), K and kScale (F32, when
     * given); write s; {@code 2*H*n*dI} FLOPs for the dot products plus, per head and key, a ReLU, a weight
     * multiply and an add (and the kScale multiply when given).
     */
    public static OpCost indexerScore(long heads, long dI, long n, ElementType qType, ElementType keyType,
                                      boolean withKeyScale, ElementType sType) {
        return of(Op.INDEXER_SCORE.descriptor().sizes().size("H", heads).size("dI", dI).size("n", n)
                .type("q", qType).type("w", ElementType.F32).type("K", keyType).type("kScale", ElementType.F32)
                .present("kScale", withKeyScale).type("s", sType));
    }

    /**
     * {@code softmax(s[n], scale) -> p[n]}: read s; write p; {@code 6*n} FLOPs (max, subtract, scale, exp, sum,
     * normalize per element).
     */
    public static OpCost softmax(long n, ElementType sType, ElementType pType) {
        return of(Op.SOFTMAX.descriptor().sizes().size("n", n).type("s", sType).type("p", pType));
    }

    /**
     * {@code bm25Score} over an inverted index: per distinct query term, its document frequency and posting
     * range (12 bytes) and 6 FLOPs for its idf; per posting visited, the (document, tf) pair and the document's
     * length (12 bytes) and 8 FLOPs; write {@code s[N]}.
     *
     * @param distinctTerms query terms that occur in the index (a repeated term counts once)
     * @param postings      postings of those terms
     */
    public static OpCost bm25Score(long distinctTerms, long postings, long numDocs, ElementType sType) {
        return of(Op.BM25_SCORE.descriptor().sizes().size("terms", distinctTerms).size("postings", postings)
                .size("N", numDocs).type("s", sType));
    }

    /** {@link #bm25Score(long, long, long, ElementType)} with the terms and postings counted from the index. */
    public static OpCost bm25Score(Indices query, Bm25Index index, ElementType sType) {
        Set<Integer> seen = new HashSet<>();
        long terms = 0;
        long postings = 0;
        for (int i = 0; i < query.length(); i++) {
            int term = query.get(i);
            if (seen.add(term) && index.docFreq(term) > 0) {
                terms++;
                postings += index.postingEnd(term) - index.postingStart(term);
            }
        }
        return bm25Score(terms, postings, index.numDocs(), sType);
    }

    // ---- Stage 3: Retrieval ----

    /**
     * {@code topK(s[n], k) -> idx[min(k,n)], val[min(k,n)]}: read s; write 4 bytes per index and 4 per F32 value
     * (when values are wanted); {@code n} FLOPs (one comparison per score against the current k-th best).
     */
    public static OpCost topK(long n, long k, ElementType sType, boolean withValues) {
        return of(Op.TOP_K.descriptor().sizes().size("m", 1).size("n", n).size("k", k).type("s", sType)
                .present("val", withValues));
    }

    /** {@link #topK(long, long, ElementType, boolean)} of F32 scores with values: read {@code 4n}, write {@code 8*min(k,n)}. */
    public static OpCost topK(long n, long k) {
        return topK(n, k, ElementType.F32, true);
    }

    /** {@code threshold(s[n], T) -> bitmap[n]}: read s; write {@code ceil(n/64)} 8-byte words; {@code n} FLOPs. */
    public static OpCost threshold(long n, ElementType sType) {
        return of(Op.THRESHOLD.descriptor().sizes().size("m", 1).size("n", n).type("s", sType));
    }

    /** {@code bitmapToIndices(bitmap[n]) -> idx[set]}: read the words; write 4 bytes per set bit; 0 FLOPs. */
    public static OpCost bitmapToIndices(long n, long setBits) {
        return of(Op.BITMAP_TO_INDICES.descriptor().sizes().size("n", n).size("set", setBits));
    }

    /** {@code expandBlocks(blocks[b], ...) -> tokens[t]}: read {@code 4b}; write {@code 4t}; 0 FLOPs. */
    public static OpCost expandBlocks(long blocks, long tokens) {
        return of(Op.EXPAND_BLOCKS.descriptor().sizes().size("b", blocks).size("t", tokens));
    }

    /** {@code gather(X[n,d], idx[k]) -> Y[k,d]}: read the k chosen rows (with scales) and idx; write Y; 0 FLOPs. */
    public static OpCost gather(long k, long d, ElementType type) {
        return of(Op.GATHER.descriptor().sizes().size("k", k).size("d", d).type("X", type).type("Y", type));
    }

    // ---- Stage 4: Apply to Inference ----

    /**
     * {@code attention(q[Hq,d], K[L,Hkv*d], V[L,Hkv*d], idx[rows])}: read q, the selected rows of K and V
     * ({@code 2 * rows*Hkv*d} elements, with row scales when integer) and idx when sparse; write {@code o[Hq,d]};
     * {@code 4*Hq*rows*d} FLOPs (query-key and weight-value multiply-adds; the per-row exp and rescaling,
     * {@code O(Hq*rows)}, are not counted).
     *
     * @param rows   rows attended: the idx length when sparse, L when dense
     * @param sparse whether an index list is read
     */
    public static OpCost attention(long queryHeads, long kvHeads, long d, long rows, ElementType qType,
                                   ElementType kvType, ElementType outType, boolean sparse) {
        OpSizes sizes = Op.ATTENTION.descriptor().sizes().size("Hq", queryHeads).size("Hkv", kvHeads).size("d", d)
                .type("q", qType).type("K", kvType).type("V", kvType).type("o", outType).present("idx", sparse);
        return of(sparse ? sizes.size("k", rows) : sizes.size("L", rows));
    }

    /** {@code softRetrieve(a[n], V[n,d]) -> o[d]}: read a and V; write o; {@code 2*n*d} FLOPs. */
    public static OpCost softRetrieve(long n, long d, ElementType aType, ElementType vType, ElementType outType) {
        return of(Op.SOFT_RETRIEVE.descriptor().sizes().size("n", n).size("d", d).type("a", aType).type("V", vType)
                .type("o", outType));
    }

    /**
     * The work an op's descriptor counts ({@code Op.DOT_ROWS.descriptor().sizes().size("k", k)...}): the one way to
     * cost an op; the methods above name the sizes of each op for existing callers.
     */
    public static OpCost of(OpSizes sizes) {
        WorkCount w = sizes.cost();
        return new OpCost(w.bytesRead(), w.bytesWritten(), w.flops());
    }

    private static long ceilDiv(long a, long b) {
        return Math.ceilDiv(nonNegative("size", a), b);
    }

    private static long positive(String name, long value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, got " + value);
        }
        return value;
    }

    private static long nonNegative(String name, long value) {
        if (value < 0) {
            throw new IllegalArgumentException(name + " must be >= 0, got " + value);
        }
        return value;
    }

    private static void requireQuantized(String name, ElementType type) {
        if (!type.isQuantized()) {
            throw new IllegalArgumentException(name + " must be I8 or I16, got " + type);
        }
    }
}
