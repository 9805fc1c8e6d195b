package dev.mempipe.spi;

import dev.mempipe.spi.OpDescriptor.Derived;
import dev.mempipe.spi.OpDescriptor.ParamKind;

import java.util.EnumSet;
import java.util.List;

import static dev.mempipe.spi.OpDescriptor.builder;
import static java.lang.Math.addExact;
import static java.lang.Math.multiplyExact;

/**
 * Every op of the contract (SPEC.md), each with its {@link OpDescriptor}: name, step, arguments with their
 * roles and shapes, parameters with their defaults, the cost formula, and the call from named arguments.
 * Cost conventions: bytes are compulsory traffic (each input element read once, each output element written
 * once, integer tensors with their f32 row scales, 4 bytes per index); FLOPs count a multiply-add as 2 and a
 * comparison, {@code exp} or division as 1; pure data movement is 0 FLOPs.
 */
public enum Op {
    // ---- Stage 1: Prepare Memory ----

    /** Element-wise min and max over each page of P rows; the last page may be partial. */
    PAGE_MIN_MAX(builder(Step.PREPARE, "pageMinMax")
            .tensor("K", "L,d", "keys, one row per token")
            .intParam("P", 1, "page size, tokens per page")
            .fileParam("appendFrom", ParamKind.INT, null, true, 0, null, "run the incremental path: pageMinMax "
                    + "over rows [0, appendFrom), then pageMinMaxAppend for the rest (the result equals the batch one)")
            .output("min", "ceil(L/P),d")
            .output("max", "ceil(L/P),d")
            // one min and one max comparison per element
            .cost(z -> work(z.bytes("K"), z.bytes("min") + z.bytes("max"), 2 * z.get("L") * z.get("d")))
            .invoker((b, c) -> {
                Tensor keys = c.tensor("K");
                int pageSize = c.intParam("P");
                Tensor min = c.output("min");
                Tensor max = c.output("max");
                if (!c.has("appendFrom")) {
                    b.prepare().pageMinMax(keys, pageSize, min, max);
                } else {
                    // batch over the first rows, then the incremental update must reach the batch result
                    int from = c.intParam("appendFrom");
                    int pages = (int) OpArgs.ceilDiv(from, pageSize);
                    b.prepare().pageMinMax(keys.rowSlice(0, from), pageSize, min.rowSlice(0, pages),
                            max.rowSlice(0, pages));
                    b.prepare().pageMinMaxAppend(keys, from, pageSize, min, max);
                }
                c.result("min", min);
                c.result("max", max);
            })),

    /** MEAN, MAX or MIN over each page of P rows; MEAN divides by the page's actual row count. */
    PAGE_POOL(builder(Step.PREPARE, "pagePool")
            .tensor("K", "L,d", "keys, one row per token")
            .intParam("P", 1, "page size, tokens per page")
            .choiceParam("mode", null, List.of("MEAN", "MAX", "MIN"), "pooling; MEAN divides by the page's actual "
                    + "row count")
            .output("Y", "ceil(L/P),d")
            // one add or comparison per element, plus a division per output element for MEAN
            .cost(z -> work(z.bytes("K"), z.bytes("Y"), z.get("L") * z.get("d")
                    + ("MEAN".equals(z.param("mode")) ? z.rows("Y") * z.get("d") : 0)))
            .invoker((b, c) -> {
                Tensor y = c.output("Y");
                b.prepare().pagePool(c.tensor("K"), c.intParam("P"), PoolMode.valueOf(c.param("mode")), y);
                c.result("Y", y);
            })),

    /** {@code Y = X W^T}; compute-bound. */
    PROJECT(builder(Step.PREPARE, "project")
            .tensor("X", "n,h", "rows to project")
            .tensor("W", "o,h", "weights, one row per output column")
            .output("Y", "n,o")
            .cost(z -> work(z.bytes("X") + z.bytes("W"), z.bytes("Y"),
                    multiplyExact(multiplyExact(2 * z.get("n"), z.get("h")), z.get("o"))))
            .invoker((b, c) -> {
                Tensor y = c.output("Y");
                b.prepare().project(c.tensor("X"), c.tensor("W"), y);
                c.result("Y", y);
            })),

    /** Symmetric per-row quantization to I8/I16 codes with an f32 scale. */
    QUANTIZE(builder(Step.PREPARE, "quantize")
            .tensor("X", "n,d", "values to quantize, per row")
            .outputLike("X'", "X")
            .outputTypes(EnumSet.of(ElementType.I8, ElementType.I16))
            // max-abs comparison, division and rounding per element
            .cost(z -> work(z.bytes("X"), z.bytes("X'"), 3 * z.get("n") * z.get("d")))
            .invoker(Op::convertLike)),

    /** I8/I16 codes times their row scale. */
    DEQUANTIZE(builder(Step.PREPARE, "dequantize")
            .tensor("X", "n,d", EnumSet.of(ElementType.I8, ElementType.I16), "I8 or I16 codes with their scales")
            .outputLike("X'", "X")
            .cost(z -> work(z.bytes("X"), z.bytes("X'"), z.get("n") * z.get("d")))
            .invoker(Op::convertLike)),

    /** Any element type to any other, rounding to nearest even (quantizing when the target is integer). */
    CONVERT(builder(Step.PREPARE, "convert")
            .tensor("X", "n,d", "values to convert")
            .outputLike("X'", "X")
            .outputTypes(EnumSet.allOf(ElementType.class))
            // decoding integer codes costs 1 per element, quantizing 3; float-to-float rounding is bit work
            .cost(z -> work(z.bytes("X"), z.bytes("X'"), z.get("n") * z.get("d")
                    * ((z.type("X").isQuantized() ? 1 : 0) + (z.type("X'").isQuantized() ? 3 : 0))))
            .invoker(Op::convertLike)),

    /** Row divided by its L2 norm; a zero row stays zero. */
    L2_NORMALIZE(builder(Step.PREPARE, "l2Normalize")
            .tensor("X", "n,d", "rows to normalize")
            .outputLike("Y", "X")
            // square-and-add and a scaling per element, a square root and a reciprocal per row
            .cost(z -> work(z.bytes("X"), z.bytes("Y"), 3 * z.get("n") * z.get("d") + 2 * z.get("n")))
            .invoker((b, c) -> {
                Tensor y = c.output("Y");
                b.prepare().l2Normalize(c.tensor("X"), y);
                c.result("Y", y);
            })),

    /** Rotary embedding on pairs (2i, 2i+1), angle {@code pos * theta^(-2i/d)}. */
    ROPE(builder(Step.PREPARE, "rope")
            .tensor("X", "n,d", "rows, d even")
            .indices("positions", "n", "position of each row")
            .floatParam("theta", "10000", "rotary base (10000 in Llama 2, 500000 in Llama 3)")
            .outputLike("Y", "X")
            // four multiplies and two adds per pair; the angles' sines and cosines are not counted
            .cost(z -> work(z.bytes("X") + z.bytes("positions"), z.bytes("Y"), 3 * z.get("n") * z.get("d")))
            .invoker((b, c) -> {
                Tensor y = c.output("Y");
                b.prepare().rope(c.tensor("X"), c.indices("positions"), c.floatParam("theta"), y);
                c.result("Y", y);
            })),

    /** Document frequencies, postings (document ascending, tf) and document lengths of a tokenized corpus. */
    BM25_INDEX(builder(Step.PREPARE, "bm25Index")
            .indices("offsets", "N+1", "document i holds tokens[offsets[i]:offsets[i+1]]")
            .indices("tokens", "T", "term ids, >= 0")
            .fileIndexOutput("docLengths", "N")
            .fileIndexOutput("docFreq", "V")
            .fileIndexOutput("postingOffsets", "V+1")
            .fileIndexOutput("postingDocs", "postings")
            .fileIndexOutput("postingTfs", "postings")
            // integer counting only: 0 FLOPs; the index holds lengths, dfs, posting offsets and (doc, tf) pairs
            .cost(z -> work(z.bytes("offsets") + z.bytes("tokens"), 4 * z.get("N") + 4 * z.get("V")
                    + 4 * (z.get("V") + 1) + 8 * z.get("postings"), 0))
            .invoker((b, c) -> {
                Bm25Index index = b.prepare().bm25Index(c.indices("offsets"), c.indices("tokens"));
                int[] postingOffsets = new int[index.vocabularySize() + 1];
                int[] docFreq = new int[index.vocabularySize()];
                for (int t = 0; t < docFreq.length; t++) {
                    docFreq[t] = index.docFreq(t);
                    postingOffsets[t + 1] = index.postingEnd(t);
                }
                c.result("docLengths", index.docLengths().clone());
                c.result("docFreq", docFreq);
                c.result("postingOffsets", postingOffsets);
                c.result("postingDocs", index.postingDocs().clone());
                c.result("postingTfs", index.postingTfs().clone());
            })),

    // ---- Stage 2: Compute Relevancy ----

    /** {@code S[j, i] = <Q_j, M_i>}. */
    DOT(builder(Step.RELEVANCY, "dot")
            .tensor("Q", "m,d", "queries")
            .tensor("M", "n,d", "memory rows")
            .output("S", "m,n")
            .cost(z -> work(z.bytes("Q") + z.bytes("M"), z.bytes("S"),
                    multiplyExact(multiplyExact(2 * z.get("m"), z.get("n")), z.get("d"))))
            .invoker((b, c) -> {
                Tensor s = c.output("S");
                b.relevancy().dot(c.tensor("Q"), c.tensor("M"), s);
                c.result("S", s);
            })),

    /** {@code s[j] = <q, K[rowIds[j]]>}: a gathered set of rows, as an HNSW walk scores its neighbours. */
    DOT_ROWS(builder(Step.RELEVANCY, "dotRows")
            .tensor("q", "1,d", "the query")
            .tensor("K", "n,d", "memory rows")
            .rowIndices("rowIds", "k", "K", false, "rows to score, each in [0, n)")
            .output("s", "1,k")
            // the k chosen rows only (with their scales), and their ids
            .cost(z -> work(z.bytes("q") + tensorBytes(z.type("K"), z.get("k"), z.get("d")) + z.bytes("rowIds"),
                    z.bytes("s"), multiplyExact(2 * z.get("k"), z.get("d"))))
            .invoker((b, c) -> {
                Tensor s = c.output("s");
                b.relevancy().dotRows(c.tensor("q"), c.tensor("K"), c.indices("rowIds"), s);
                c.result("s", s);
            })),

    /**
     * {@code s[j] = sum_i code(queryCodes_i) * code(codes[rowIds[j]]_i)}: unsigned 8-bit or packed 4-bit codes (Lucene's
     * scalar-quantized formats) read where they lie, as a quantized HNSW walk scores its neighbours; exact integers.
     */
    CODE_DOT_ROWS(builder(Step.RELEVANCY, "codeDotRows")
            .codes("queryCodes", "1,p", "the query's codes, laid out as a row of codes")
            .codes("codes", "n,p", "rows of codes: p bytes, read as unsigned codes")
            .intParam("bits", 4, "bits per code: 8 (one code a byte) or 4 (two a byte, Lucene's PACKED_NIBBLE)")
            .rowIndices("rowIds", "k", "codes", false, "rows to score, each in [0, n)")
            .output("s", "1,k")
            .outputTypes(EnumSet.of(ElementType.F32))
            // the query's and the k chosen rows' code bytes (no scales), the ids; a multiply-add per code
            .cost(z -> work(z.get("p") + multiplyExact(z.get("k"), z.get("p")) + z.bytes("rowIds"), z.bytes("s"),
                    multiplyExact(multiplyExact(2 * z.get("k"), z.get("p")), z.get("bits") == 4 ? 2 : 1)))
            .invoker((b, c) -> {
                Tensor s = c.output("s");
                b.relevancy().codeDotRows(c.tensor("queryCodes"), c.tensor("codes"), c.intParam("bits"),
                        c.indices("rowIds"), s);
                c.result("s", s);
            })),

    /**
     * {@code topK(dot(Q, M) * w)} over the rows {@code accept} lets through, fused: exact batched search, no score
     * matrix in memory (Compute Relevancy and Retrieval as one call; {@link FusedOps#dotTopK}).
     */
    DOT_TOP_K(builder(Step.RELEVANCY, "dotTopK")
            .tensor("Q", "m,d", "queries")
            .tensor("M", "n,d", "memory rows")
            .optionalTensor("w", "1,n", "a weight per row that multiplies its scores, e.g. inverse norms (absent: 1)")
            .optionalBitmap("accept", "n", "the rows that may be returned (absent: every row)")
            .intParam("k", 1, "how many rows per query")
            .indexOutput("idx", "m*min(k,n)")
            .optionalOutput("val", "m,min(k,n)")
            // dot's work, a weight multiply and a comparison per score; the scores themselves never leave the op
            .cost(z -> work(z.bytes("Q") + z.bytes("M") + z.bytes("w") + z.bytes("accept"), z.bytes("idx")
                    + (z.has("val") ? tensorBytes(ElementType.F32, z.get("m"), Math.min(z.get("k"), z.get("n"))) : 0),
                    addExact(multiplyExact(multiplyExact(2 * z.get("m"), z.get("n")), z.get("d")),
                            multiplyExact(2 * z.get("m"), z.get("n")))))
            .invoker((b, c) -> {
                Tensor q = c.tensor("Q");
                Tensor keys = c.tensor("M");
                int k = c.intParam("k");
                int count = (int) Math.min(k, keys.rows());
                Indices idx = c.allocateIndices(Math.toIntExact(q.rows() * count));
                Tensor val = c.allocate(ElementType.F32, q.rows(), count);
                int n = b.fused().dotTopK(q, keys, c.has("w") ? c.tensor("w") : null,
                        c.has("accept") ? c.bitmap("accept") : null, k, idx, val);
                c.result("idx", idx.prefix(Math.toIntExact(q.rows() * count)).toArray());
                c.result("val", val);
                c.result("count", new int[] {n});
            })),

    /** {@code <a, b> / (|a| |b|)}; 0 when either norm is 0. */
    COSINE(builder(Step.RELEVANCY, "cosine")
            .tensor("Q", "m,d", "queries")
            .tensor("M", "n,d", "memory rows")
            .output("S", "m,n")
            // dot's work plus the norms of both operands
            .cost(z -> work(z.bytes("Q") + z.bytes("M"), z.bytes("S"),
                    addExact(multiplyExact(multiplyExact(2 * z.get("m"), z.get("n")), z.get("d")),
                            multiplyExact(2 * (z.get("m") + z.get("n")), z.get("d")))))
            .invoker((b, c) -> {
                Tensor s = c.output("S");
                b.relevancy().cosine(c.tensor("Q"), c.tensor("M"), s);
                c.result("S", s);
            })),

    /** Quest's bound {@code s_p = sum_i max(q_i*min_pi, q_i*max_pi)}, one row per query row. */
    QUEST_BOUND(builder(Step.RELEVANCY, "questBound")
            .tensor("q", "m,d", "the queries, one per KV head")
            .tensor("min", "p,m*d", "page minima, KV head j's in columns [j*d, (j+1)*d)")
            .tensor("max", "p,m*d", "page maxima, banded as min")
            .output("s", "m,p")
            // two multiplies, a max and an add per element and query
            .cost(z -> work(z.bytes("q") + z.bytes("min") + z.bytes("max"), z.bytes("s"),
                    multiplyExact(4 * z.get("m") * z.get("p"), z.get("d"))))
            .invoker((b, c) -> {
                Tensor s = c.output("s");
                b.relevancy().questBound(c.tensor("q"), c.tensor("min"), c.tensor("max"), s);
                c.result("s", s);
            })),

    /** Max over consecutive groups of g scores, each row on its own. */
    GROUP_MAX(builder(Step.RELEVANCY, "groupMax")
            .tensor("s", "m,n", "scores")
            .intParam("g", 1, "group size")
            .output("y", "m,ceil(n/g)")
            .cost(z -> work(z.bytes("s"), z.bytes("y"), z.get("m") * z.get("n")))
            .invoker((b, c) -> {
                Tensor y = c.output("y");
                b.relevancy().groupMax(c.tensor("s"), c.intParam("g"), y);
                c.result("y", y);
            })),

    /** DeepSeek's lightning indexer: {@code s_t = sum_h w_h * ReLU(kScale_t * <q_h, K_t>)}. */
    INDEXER_SCORE(builder(Step.RELEVANCY, "indexerScore")
            .tensor("q", "H,dI", "indexer query heads")
            .tensor("w", "1,H", "head weights")
            .tensor("K", "n,dI", "indexer keys")
            .optionalTensor("kScale", "1,n", "per-key scale (absent: all ones)")
            .output("s", "1,n")
            // the dot products, then per head and key a ReLU, a weight multiply and an add (and kScale's)
            .cost(z -> work(z.bytes("q") + z.bytes("w") + z.bytes("K") + z.bytes("kScale"), z.bytes("s"),
                    addExact(multiplyExact(multiplyExact(2 * z.get("H"), z.get("n")), z.get("dI")),
                            multiplyExact((z.has("kScale") ? 4 : 3) * z.get("H"), z.get("n")))))
            .invoker((b, c) -> {
                Tensor s = c.output("s");
                b.relevancy().indexerScore(c.tensor("q"), c.tensor("w"), c.tensor("K"),
                        c.has("kScale") ? c.tensor("kScale") : null, s);
                c.result("s", s);
            })),

    /** Stable softmax of {@code scale * s}. */
    SOFTMAX(builder(Step.RELEVANCY, "softmax")
            .tensor("s", "1,n", "scores")
            .floatParam("scale", "1", "multiplies s first")
            .output("p", "1,n")
            // max, subtract, scale, exp, sum and normalize per element
            .cost(z -> work(z.bytes("s"), z.bytes("p"), 6 * z.get("n")))
            .invoker((b, c) -> {
                Tensor p = c.output("p");
                b.relevancy().softmax(c.tensor("s"), c.floatParam("scale"), p);
                c.result("p", p);
            })),

    /** BM25 score of every document of an index for a query of term ids. */
    BM25_SCORE(builder(Step.RELEVANCY, "bm25Score")
            .indices("query", "q", "query term ids (a repeated term counts once)")
            .indices("offsets", "N+1", "the index's documents: document i holds tokens[offsets[i]:offsets[i+1]]")
            .indices("tokens", "T", "term ids, >= 0")
            .fileParam("k1", ParamKind.FLOAT, "1.2", false, 0, null, "term frequency saturation")
            .fileParam("b", ParamKind.FLOAT, "0.75", false, 0, null, "length normalization")
            .fileParam("idf", ParamKind.CHOICE, "LUCENE", false, 0, List.of("LUCENE", "CLASSIC"), "idf variant")
            .output("s", "1,N")
            // per distinct query term in the index (terms): its df and posting range, 12 bytes, 6 FLOPs of idf;
            // per posting visited: (doc, tf) and the document's length, 12 bytes, 8 FLOPs
            .cost(z -> work(12 * z.get("terms") + 12 * z.get("postings"), z.bytes("s"),
                    6 * z.get("terms") + 8 * z.get("postings")))
            .invoker((b, c) -> {
                Tensor s = c.output("s");
                Bm25Params params = new Bm25Params(c.floatParam("k1"), c.floatParam("b"),
                        Bm25Idf.valueOf(c.param("idf")));
                b.relevancy().bm25Score(c.indices("query"), c.referenceIndex("offsets", "tokens"), params, s);
                c.result("s", s);
            })),

    // ---- Stage 3: Retrieval ----

    /** The k largest of each row, score descending then index ascending. */
    TOP_K(builder(Step.RETRIEVAL, "topK")
            .tensor("s", "m,n", "scores, no NaN")
            .intParam("k", 1, "how many")
            .indexOutput("idx", "m*min(k,n)")
            .optionalOutput("val", "m,min(k,n)")
            // one comparison per score against the current k-th best; values are F32
            .cost(z -> work(z.bytes("s"), z.bytes("idx") + (z.has("val")
                    ? tensorBytes(ElementType.F32, z.get("m"), Math.min(z.get("k"), z.get("n"))) : 0),
                    z.get("m") * z.get("n")))
            .invoker((b, c) -> {
                Tensor s = c.tensor("s");
                int k = c.intParam("k");
                int count = Math.min(k, s.cols());
                Indices idx = c.allocateIndices(count);
                Tensor val = c.allocate(ElementType.F32, 1, count);
                int n = b.retrieval().topK(s, k, idx, val);
                c.result("idx", idx.prefix(Math.min(n, count)).toArray());
                c.result("val", val);
                c.result("count", new int[] {n});
            })),

    /** Bit i set iff {@code s_i > T}. */
    THRESHOLD(builder(Step.RETRIEVAL, "threshold")
            .tensor("s", "m,n", "scores, no NaN")
            .floatParam("T", null, "bit i is set iff s_i > T")
            .bitmapOutput("bitmap", "m*n")
            .cost(z -> work(z.bytes("s"), z.bytes("bitmap"), z.get("m") * z.get("n")))
            .invoker((b, c) -> {
                Tensor s = c.tensor("s");
                Bitmap bits = c.allocateBitmap(s.size());
                b.retrieval().threshold(s, c.floatParam("T"), bits);
                int[] out = new int[(int) bits.length()];
                for (int i = 0; i < out.length; i++) {
                    out[i] = bits.get(i) ? 1 : 0;
                }
                c.result("bitmap", out);
            })),

    /** The set bits of a bitmap, ascending. */
    BITMAP_TO_INDICES(builder(Step.RETRIEVAL, "bitmapToIndices")
            .bitmap("bitmap", "n", "the bits")
            .indexOutput("indices", "set")
            .cost(z -> work(z.bytes("bitmap"), z.bytes("indices"), 0))
            .invoker((b, c) -> {
                Bitmap bits = c.bitmap("bitmap");
                Indices out = c.allocateIndices((int) bits.length());
                int n = b.retrieval().bitmapToIndices(bits, out);
                c.result("indices", out.prefix(n).toArray());
            })),

    /** The tokens of the chosen blocks, plus sink and window tokens; ascending, no duplicates. */
    EXPAND_BLOCKS(builder(Step.RETRIEVAL, "expandBlocks")
            .indices("blocks", "b", "block numbers, any order")
            .intParam("P", 1, "block size")
            .intParam("L", 0, "context length in tokens")
            .intParam("sink", 0, "0", "first tokens always kept")
            .intParam("window", 0, "0", "last tokens always kept")
            .indexOutput("tokens", "t")
            .cost(z -> work(z.bytes("blocks"), z.bytes("tokens"), 0))
            .invoker((b, c) -> {
                int length = c.intParam("L");
                Indices out = c.allocateIndices(length);
                int n = b.retrieval().expandBlocks(c.indices("blocks"), c.intParam("P"), length, c.intParam("sink"),
                        c.intParam("window"), out);
                c.result("tokens", out.prefix(n).toArray());
            })),

    /** A bit-exact copy of the chosen rows; Y has X's element type. */
    GATHER(builder(Step.RETRIEVAL, "gather")
            .tensor("X", "n,d", "rows")
            .rowIndices("idx", "k", "X", false, "rows to copy, each in [0, n)")
            .output("Y", "k,d")
            .outputTypes(EnumSet.allOf(ElementType.class))
            // the k chosen rows (with scales) and idx; pure data movement
            .cost(z -> work(tensorBytes(z.type("X"), z.get("k"), z.get("d")) + z.bytes("idx"),
                    tensorBytes(z.type("X"), z.get("k"), z.get("d")), 0))
            .invoker((b, c) -> {
                Tensor x = c.tensor("X");
                Indices idx = c.indices("idx");
                Tensor y = c.allocate(x.type(), idx.length(), x.cols());
                b.retrieval().gather(x, idx, y);
                c.result("Y", y);
            })),

    // ---- Stage 4: Apply to Inference ----

    /** Grouped-query attention over the selected rows (all when idx is absent), with an online softmax. */
    ATTENTION(builder(Step.APPLY, "attention")
            .tensor("q", "Hq,d", "query heads of one position")
            .tensor("K", "L,Hkv,d", "keys, row i holds the Hkv heads of token i")
            .tensor("V", "L,Hkv,d", "values, laid out as K")
            .derivedParam("Hkv", ParamKind.INT, 1, new Derived("K's heads (or width / q's width)",
                    z -> z.containsKey("Hkv") ? Long.toString(z.get("Hkv")) : null),
                    "KV heads (GQA: query head h reads KV head h / (Hq/Hkv))")
            .rowIndices("idx", "k", "K", true, "selected rows (absent: dense attention)")
            .derivedParam("scale", ParamKind.FLOAT, 0, new Derived("1/sqrt(d)",
                    z -> z.get("d") != null && z.get("d") > 0 ? Float.toString((float) (1 / Math.sqrt(z.get("d"))))
                            : null), "logit scale")
            .output("o", "Hq,d")
            // q, the attended rows of K and V (k when sparse, L when dense) and idx; query-key and
            // weight-value multiply-adds (the per-row exp and rescaling, O(Hq * rows), are not counted)
            .cost(z -> {
                if (z.get("Hq") % z.get("Hkv") != 0) {
                    throw new IllegalArgumentException("attention: Hq=" + z.get("Hq") + " must be a multiple of Hkv="
                            + z.get("Hkv"));
                }
                long rows = z.has("idx") ? z.get("k") : z.get("L");
                long kv = 2 * tensorBytes(z.type("K"), rows, multiplyExact(z.get("Hkv"), z.get("d")));
                return work(addExact(addExact(z.bytes("q"), kv), z.bytes("idx")), z.bytes("o"),
                        multiplyExact(multiplyExact(4 * z.get("Hq"), rows), z.get("d")));
            })
            .invoker((b, c) -> {
                Tensor o = c.output("o");
                b.apply().attention(c.tensor("q"), c.tensor("K"), c.tensor("V"), c.intParam("Hkv"),
                        c.has("idx") ? c.indices("idx") : null, c.floatParam("scale"), o);
                c.result("o", o);
            })),

    /** A compressed memory read: {@code o = sum_i a_i V_i}. */
    SOFT_RETRIEVE(builder(Step.APPLY, "softRetrieve")
            .tensor("a", "1,n", "weights, used as given")
            .tensor("V", "n,d", "memory rows")
            .output("o", "1,d")
            .cost(z -> work(z.bytes("a") + z.bytes("V"), z.bytes("o"), multiplyExact(2 * z.get("n"), z.get("d"))))
            .invoker((b, c) -> {
                Tensor o = c.output("o");
                b.apply().softRetrieve(c.tensor("a"), c.tensor("V"), o);
                c.result("o", o);
            })),

    // ---- Parametric memories (TrainOps): written in Prepare, read in Apply; every tensor F32 ----

    /** The SwiGLU MLP's gradients of a loss summed over rows (Titans: SQUARED, LaCT: NEGATIVE_DOT). */
    MLP_GRADIENT(builder(Step.PREPARE, "mlpGradient")
            .tensor("X", "n,d", EnumSet.of(ElementType.F32), "rows")
            .tensor("T", "n,d", EnumSet.of(ElementType.F32), "targets")
            .tensor("W1", "h,d", EnumSet.of(ElementType.F32), "gate weights")
            .tensor("W3", "h,d", EnumSet.of(ElementType.F32), "up weights")
            .tensor("W2", "d,h", EnumSet.of(ElementType.F32), "down weights")
            .choiceParam("loss", "SQUARED", List.of("SQUARED", "NEGATIVE_DOT"), "SQUARED (Titans) or NEGATIVE_DOT "
                    + "(LaCT)")
            .output("dW1", "h,d")
            .output("dW3", "h,d")
            .output("dW2", "d,h")
            .outputTypes(EnumSet.of(ElementType.F32))
            // the forward pass (three products) and four products backward, 2 n d h FLOPs each
            .cost(z -> work(z.bytes("X") + z.bytes("T") + z.bytes("W1") + z.bytes("W3") + z.bytes("W2"),
                    z.bytes("dW1") + z.bytes("dW3") + z.bytes("dW2"),
                    multiplyExact(multiplyExact(14 * z.get("n"), z.get("d")), z.get("h"))))
            .invoker((b, c) -> {
                Tensor g1 = c.output("dW1");
                Tensor g3 = c.output("dW3");
                Tensor g2 = c.output("dW2");
                b.train().mlpGradient(c.tensor("X"), c.tensor("T"), c.tensor("W1"), c.tensor("W3"), c.tensor("W2"),
                        MlpLoss.valueOf(c.param("loss")), g1, g3, g2);
                c.result("dW1", g1);
                c.result("dW3", g3);
                c.result("dW2", g2);
            })),

    /** Titans' momentum and weight decay, fused, in place: {@code S = eta S - theta G; W = (1 - alpha) W + S}. */
    MOMENTUM_UPDATE(builder(Step.PREPARE, "momentumUpdate")
            .tensor("W", "r,c", EnumSet.of(ElementType.F32), "weights (updated: Wprime)")
            .tensor("G", "r,c", EnumSet.of(ElementType.F32), "gradient")
            .tensor("S", "r,c", EnumSet.of(ElementType.F32), "momentum (updated: Sprime)")
            .floatParam("eta", "0.9", "momentum decay, in [0, 1]")
            .floatParam("theta", "0.01", "learning rate, >= 0")
            .floatParam("alpha", "0", "weight decay, in [0, 1]")
            .output("Wprime", "r,c")
            .output("Sprime", "r,c")
            .outputTypes(EnumSet.of(ElementType.F32))
            // two multiply-adds and a multiply per element
            .cost(z -> work(z.bytes("W") + z.bytes("G") + z.bytes("S"), z.bytes("Wprime") + z.bytes("Sprime"),
                    5 * z.get("r") * z.get("c")))
            .invoker((b, c) -> {
                Tensor w = c.output("Wprime");
                Tensor s = c.output("Sprime");
                b.prepare().convert(c.tensor("W"), w);   // in place on copies: the inputs stay as given
                b.prepare().convert(c.tensor("S"), s);
                b.train().momentumUpdate(w, c.tensor("G"), s, c.floatParam("eta"), c.floatParam("theta"),
                        c.floatParam("alpha"));
                c.result("Wprime", w);
                c.result("Sprime", s);
            })),

    /** Muon's quintic Newton-Schulz orthogonalization of {@code G / ||G||_F}. */
    NEWTON_SCHULZ(builder(Step.PREPARE, "newtonSchulz")
            .tensor("G", "r,c", EnumSet.of(ElementType.F32), "matrix to orthogonalize")
            .intParam("steps", 1, "5", "iterations (Muon's and LaCT's 5)")
            .output("O", "r,c")
            .outputTypes(EnumSet.of(ElementType.F32))
            // per step, with m = min(r, c) and k = max(r, c): X X^T (2 m^2 k), A A (2 m^3), (bA + cA^2) X (2 m^2 k)
            .cost(z -> {
                long m = Math.min(z.get("r"), z.get("c"));
                long k = Math.max(z.get("r"), z.get("c"));
                long perStep = addExact(multiplyExact(4 * m * m, k), 2 * m * m * m);
                return work(z.bytes("G"), z.bytes("O"), multiplyExact(perStep, Long.parseLong(z.param("steps"))));
            })
            .invoker((b, c) -> {
                Tensor o = c.output("O");
                b.train().newtonSchulz(c.tensor("G"), c.intParam("steps"), o);
                c.result("O", o);
            })),

    /** The SwiGLU MLP forward pass, {@code Y = W2 (silu(W1 X) * (W3 X))} per row: a parametric memory's read. */
    MLP_FORWARD(builder(Step.APPLY, "mlpForward")
            .tensor("X", "n,d", EnumSet.of(ElementType.F32), "rows (queries)")
            .tensor("W1", "h,d", EnumSet.of(ElementType.F32), "gate weights")
            .tensor("W3", "h,d", EnumSet.of(ElementType.F32), "up weights")
            .tensor("W2", "d,h", EnumSet.of(ElementType.F32), "down weights")
            .output("Y", "n,d")
            .outputTypes(EnumSet.of(ElementType.F32))
            // three products of 2 n d h FLOPs, and the gate per hidden element
            .cost(z -> work(z.bytes("X") + z.bytes("W1") + z.bytes("W3") + z.bytes("W2"), z.bytes("Y"),
                    addExact(multiplyExact(multiplyExact(6 * z.get("n"), z.get("d")), z.get("h")),
                            5 * z.get("n") * z.get("h"))))
            .invoker((b, c) -> {
                Tensor y = c.output("Y");
                b.train().mlpForward(c.tensor("X"), c.tensor("W1"), c.tensor("W3"), c.tensor("W2"), y);
                c.result("Y", y);
            }));

    private final OpDescriptor descriptor;

    Op(OpDescriptor.Builder descriptor) {
        this.descriptor = descriptor.build();
    }

    /** Everything about this op: arguments, shapes, parameters, cost, call. */
    public OpDescriptor descriptor() {
        return descriptor;
    }

    public Step step() {
        return descriptor.step();
    }

    /** The name used in SPEC.md, golden case files, error messages and the {@code mempipe op} command. */
    public String contractName() {
        return descriptor.name();
    }

    /** Looks an op up by its contract name ({@code "topK"}); fails naming the unknown name. */
    public static Op byContractName(String name) {
        for (Op op : values()) {
            if (op.contractName().equals(name)) {
                return op;
            }
        }
        throw new IllegalArgumentException("unknown op '" + name + "'; known ops: "
                + java.util.Arrays.stream(values()).map(Op::contractName).toList());
    }

    @Override
    public String toString() {
        return contractName();
    }

    private static WorkCount work(long read, long written, long flops) {
        return new WorkCount(read, written, flops);
    }

    private static long tensorBytes(ElementType type, long rows, long cols) {
        return OpSizes.tensorBytes(type, rows, cols);
    }

    /** quantize, dequantize and convert: X into a new X' of the caller's element type. */
    private static void convertLike(Backend b, OpCall c) {
        Tensor x = c.tensor("X");
        Tensor y = c.allocate(c.outputType("X'"), x.rows(), x.cols());
        switch (c.op()) {
            case QUANTIZE -> b.prepare().quantize(x, y);
            case DEQUANTIZE -> b.prepare().dequantize(x, y);
            default -> b.prepare().convert(x, y);
        }
        c.result("X'", y);
    }
}
