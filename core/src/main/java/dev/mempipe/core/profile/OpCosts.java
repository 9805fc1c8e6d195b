package dev.mempipe.core.profile;

import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.PoolMode;

import java.util.HashSet;
import java.util.Set;

import static java.lang.Math.addExact;
import static java.lang.Math.multiplyExact;

/**
 * Analytic work counts of every op of the contract, from shapes and element types: what the roofline model,
 * the planner and the profiler use. They are models of the op, not counter readings:
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
    public static final int INDEX_BYTES = Integer.BYTES;
    /** Bytes of the per-row f32 scale of an integer tensor. */
    public static final int SCALE_BYTES = Float.BYTES;

    private OpCosts() {
    }

    /** Bytes of a {@code [rows, cols]} tensor: {@code rows*cols*size}, plus {@code 4*rows} scale bytes for I8/I16. */
    public static long tensorBytes(ElementType type, long rows, long cols) {
        nonNegative("rows", rows);
        nonNegative("cols", cols);
        long data = multiplyExact(multiplyExact(rows, cols), type.byteSize());
        return type.isQuantized() ? addExact(data, multiplyExact(rows, SCALE_BYTES)) : data;
    }

    // ---- Stage 1: Prepare Memory ----

    /**
     * {@code pageMinMax(K[L,d], P)}: read K; write min and max {@code [ceil(L/P), d]}; {@code 2*L*d} FLOPs (one
     * min and one max comparison per element).
     */
    public static OpCost pageMinMax(long length, long d, long pageSize, ElementType keyType, ElementType outType) {
        long pages = ceilDiv(length, positive("pageSize", pageSize));
        return new OpCost(tensorBytes(keyType, length, d), 2 * tensorBytes(outType, pages, d),
                multiplyExact(2 * length, d));
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
        long pages = ceilDiv(length, positive("pageSize", pageSize));
        long flops = multiplyExact(length, d) + (mode == PoolMode.MEAN ? multiplyExact(pages, d) : 0);
        return new OpCost(tensorBytes(keyType, length, d), tensorBytes(outType, pages, d), flops);
    }

    /** {@code project(X[n,h], W[o,h]) -> Y[n,o]}: read X and W; write Y; {@code 2*n*h*o} FLOPs. */
    public static OpCost project(long n, long h, long o, ElementType xType, ElementType wType, ElementType yType) {
        return new OpCost(addExact(tensorBytes(xType, n, h), tensorBytes(wType, o, h)), tensorBytes(yType, n, o),
                multiplyExact(multiplyExact(2 * n, h), o));
    }

    /**
     * {@code quantize(X[n,d]) -> Q[n,d]}: read X; write codes and scales; {@code 3*n*d} FLOPs (max-abs comparison,
     * division, rounding per element).
     */
    public static OpCost quantize(long n, long d, ElementType xType, ElementType qType) {
        requireQuantized("qType", qType);
        return new OpCost(tensorBytes(xType, n, d), tensorBytes(qType, n, d), multiplyExact(3 * n, d));
    }

    /** {@code dequantize(Q[n,d]) -> Y[n,d]}: read codes and scales; write Y; {@code n*d} FLOPs (code times scale). */
    public static OpCost dequantize(long n, long d, ElementType qType, ElementType yType) {
        requireQuantized("qType", qType);
        return new OpCost(tensorBytes(qType, n, d), tensorBytes(yType, n, d), multiplyExact(n, d));
    }

    /**
     * {@code convert(X[n,d]) -> Y[n,d]}: read X; write Y; FLOPs are {@code n*d} to decode integer codes plus
     * {@code 3*n*d} to quantize into an integer type; float-to-float rounding counts 0 (bit manipulation).
     */
    public static OpCost convert(long n, long d, ElementType from, ElementType to) {
        long elements = multiplyExact(n, d);
        long flops = (from.isQuantized() ? elements : 0) + (to.isQuantized() ? multiplyExact(3, elements) : 0);
        return new OpCost(tensorBytes(from, n, d), tensorBytes(to, n, d), flops);
    }

    /**
     * {@code l2Normalize(X[n,d]) -> Y[n,d]}: read X; write Y; {@code 3*n*d + 2*n} FLOPs (square-and-add and a
     * scaling per element, a square root and a reciprocal per row).
     */
    public static OpCost l2Normalize(long n, long d, ElementType xType, ElementType yType) {
        return new OpCost(tensorBytes(xType, n, d), tensorBytes(yType, n, d),
                addExact(multiplyExact(3 * n, d), 2 * n));
    }

    /**
     * {@code rope(X[n,d], positions[n], theta) -> Y[n,d]}: read X and positions; write Y; {@code 3*n*d} FLOPs (four
     * multiplies and two adds per pair); the sines and cosines of the angles are not counted.
     */
    public static OpCost rope(long n, long d, ElementType xType, ElementType yType) {
        return new OpCost(addExact(tensorBytes(xType, n, d), multiplyExact(n, INDEX_BYTES)),
                tensorBytes(yType, n, d), multiplyExact(3 * n, d));
    }

    /**
     * {@code bm25Index(offsets[N+1], tokens[T])}: read offsets and tokens; write the index (document lengths
     * {@code 4N}, document frequencies {@code 4V}, posting offsets {@code 4(V+1)}, postings {@code 8} each);
     * 0 FLOPs (integer counting).
     *
     * @param built the index the op produced, for its vocabulary size V and posting count
     */
    public static OpCost bm25Index(Indices offsets, Indices tokens, Bm25Index built) {
        long read = multiplyExact((long) offsets.length() + tokens.length(), INDEX_BYTES);
        long vocabulary = built.vocabularySize();
        long postings = built.postingDocs().length;
        long written = 4L * built.numDocs() + 4L * vocabulary + 4L * (vocabulary + 1) + 8L * postings;
        return new OpCost(read, written, 0);
    }

    // ---- Stage 2: Compute Relevancy ----

    /**
     * {@code dot(Q[m,d], M[n,d]) -> S[m,n]}: read Q and M (with their row scales when integer); write S;
     * {@code 2*m*n*d} FLOPs.
     */
    public static OpCost dot(long m, long n, long d, ElementType qType, ElementType mType, ElementType sType) {
        return new OpCost(addExact(tensorBytes(qType, m, d), tensorBytes(mType, n, d)), tensorBytes(sType, m, n),
                multiplyExact(multiplyExact(2 * m, n), d));
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
        return new OpCost(addExact(addExact(tensorBytes(qType, 1, d), tensorBytes(keyType, k, d)),
                multiplyExact(k, INDEX_BYTES)), tensorBytes(sType, 1, k), multiplyExact(2 * k, d));
    }

    /** {@code cosine(Q[m,d], M[n,d]) -> S[m,n]}: the bytes of {@code dot}; {@code 2*m*n*d + 2*(m+n)*d} FLOPs (norms). */
    public static OpCost cosine(long m, long n, long d, ElementType qType, ElementType mType, ElementType sType) {
        OpCost dot = dot(m, n, d, qType, mType, sType);
        return new OpCost(dot.bytesRead(), dot.bytesWritten(), addExact(dot.flops(), multiplyExact(2 * (m + n), d)));
    }

    /**
     * {@code questBound(q[d], min[p,d], max[p,d]) -> s[p]}: read q, min and max; write s; {@code 4*p*d} FLOPs
     * (two multiplies, a max and an add per element).
     */
    public static OpCost questBound(long pages, long d, ElementType qType, ElementType pageType, ElementType sType) {
        return new OpCost(addExact(tensorBytes(qType, 1, d), 2 * tensorBytes(pageType, pages, d)),
                tensorBytes(sType, 1, pages), multiplyExact(4 * pages, d));
    }

    /** {@code groupMax(s[n], g) -> y[ceil(n/g)]}: read s; write y; {@code n} FLOPs (comparisons). */
    public static OpCost groupMax(long n, long groupSize, ElementType sType, ElementType yType) {
        return new OpCost(tensorBytes(sType, 1, n), tensorBytes(yType, 1, ceilDiv(n, positive("groupSize", groupSize))),
                n);
    }

    /**
     * {@code indexerScore(q[H,dI], w[H], K[n,dI], kScale[n]) -> s[n]}: read q, w (F32), K and kScale (F32, when
     * given); write s; {@code 2*H*n*dI} FLOPs for the dot products plus, per head and key, a ReLU, a weight
     * multiply and an add (and the kScale multiply when given).
     */
    public static OpCost indexerScore(long heads, long dI, long n, ElementType qType, ElementType keyType,
                                      boolean withKeyScale, ElementType sType) {
        long read = addExact(addExact(tensorBytes(qType, heads, dI), multiplyExact(heads, Float.BYTES)),
                addExact(tensorBytes(keyType, n, dI), withKeyScale ? multiplyExact(n, Float.BYTES) : 0));
        long perPair = withKeyScale ? 4 : 3;
        long flops = addExact(multiplyExact(multiplyExact(2 * heads, n), dI), multiplyExact(perPair * heads, n));
        return new OpCost(read, tensorBytes(sType, 1, n), flops);
    }

    /**
     * {@code softmax(s[n], scale) -> p[n]}: read s; write p; {@code 6*n} FLOPs (max, subtract, scale, exp, sum,
     * normalize per element).
     */
    public static OpCost softmax(long n, ElementType sType, ElementType pType) {
        return new OpCost(tensorBytes(sType, 1, n), tensorBytes(pType, 1, n), multiplyExact(6, n));
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
        nonNegative("distinctTerms", distinctTerms);
        nonNegative("postings", postings);
        return new OpCost(addExact(multiplyExact(12, distinctTerms), multiplyExact(12, postings)),
                tensorBytes(sType, 1, numDocs), addExact(multiplyExact(6, distinctTerms), multiplyExact(8, postings)));
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
        long kept = Math.min(positive("k", k), n);
        return new OpCost(tensorBytes(sType, 1, n), multiplyExact(kept, withValues ? 8 : 4), n);
    }

    /** {@link #topK(long, long, ElementType, boolean)} of F32 scores with values: read {@code 4n}, write {@code 8*min(k,n)}. */
    public static OpCost topK(long n, long k) {
        return topK(n, k, ElementType.F32, true);
    }

    /** {@code threshold(s[n], T) -> bitmap[n]}: read s; write {@code ceil(n/64)} 8-byte words; {@code n} FLOPs. */
    public static OpCost threshold(long n, ElementType sType) {
        return new OpCost(tensorBytes(sType, 1, n), multiplyExact(ceilDiv(n, 64), Long.BYTES), n);
    }

    /** {@code bitmapToIndices(bitmap[n]) -> idx[set]}: read the words; write 4 bytes per set bit; 0 FLOPs. */
    public static OpCost bitmapToIndices(long n, long setBits) {
        return new OpCost(multiplyExact(ceilDiv(nonNegative("n", n), 64), Long.BYTES),
                multiplyExact(nonNegative("setBits", setBits), INDEX_BYTES), 0);
    }

    /** {@code expandBlocks(blocks[b], ...) -> tokens[t]}: read {@code 4b}; write {@code 4t}; 0 FLOPs. */
    public static OpCost expandBlocks(long blocks, long tokens) {
        return new OpCost(multiplyExact(nonNegative("blocks", blocks), INDEX_BYTES),
                multiplyExact(nonNegative("tokens", tokens), INDEX_BYTES), 0);
    }

    /** {@code gather(X[n,d], idx[k]) -> Y[k,d]}: read the k chosen rows (with scales) and idx; write Y; 0 FLOPs. */
    public static OpCost gather(long k, long d, ElementType type) {
        long rows = tensorBytes(type, k, d);
        return new OpCost(addExact(rows, multiplyExact(k, INDEX_BYTES)), rows, 0);
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
        positive("kvHeads", kvHeads);
        if (queryHeads % kvHeads != 0) {
            throw new IllegalArgumentException("queryHeads " + queryHeads + " must be a multiple of kvHeads " + kvHeads);
        }
        long kv = 2 * tensorBytes(kvType, rows, multiplyExact(kvHeads, d));
        long read = addExact(addExact(tensorBytes(qType, queryHeads, d), kv), sparse ? multiplyExact(rows, INDEX_BYTES) : 0);
        return new OpCost(read, tensorBytes(outType, queryHeads, d), multiplyExact(multiplyExact(4 * queryHeads, rows), d));
    }

    /** {@code softRetrieve(a[n], V[n,d]) -> o[d]}: read a and V; write o; {@code 2*n*d} FLOPs. */
    public static OpCost softRetrieve(long n, long d, ElementType aType, ElementType vType, ElementType outType) {
        return new OpCost(addExact(tensorBytes(aType, 1, n), tensorBytes(vType, n, d)), tensorBytes(outType, 1, d),
                multiplyExact(2 * n, d));
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
