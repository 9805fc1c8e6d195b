package dev.mempipe.cli.op;

import dev.mempipe.cli.op.OpSignature.Input;
import dev.mempipe.cli.op.OpSignature.InputKind;
import dev.mempipe.cli.op.OpSignature.Output;
import dev.mempipe.cli.op.OpSignature.OutputKind;
import dev.mempipe.cli.op.OpSignature.Param;
import dev.mempipe.cli.op.OpSignature.ParamKind;
import dev.mempipe.goldentests.npy.NpyArray;
import dev.mempipe.spi.Op;

import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The signature of every op of SPEC.md as the {@code op} command sees it, and the two things the command must
 * know beyond what the kit's {@code GoldenCase} knows: the shape of each output (a golden case reads it from
 * the expected array; here it follows from the inputs) and the defaults that depend on the inputs.
 */
final class OpSignatures {
    private static final List<String> FLOAT_OUTPUTS = List.of("F32", "F16", "BF16");
    private static final List<String> ALL_TYPES = List.of("F32", "F16", "BF16", "I8", "I16");
    private static final Map<Op, OpSignature> TABLE = new EnumMap<>(Op.class);

    static {
        add(Op.PAGE_MIN_MAX, "K[L,d], P -> min[ceil(L/P),d], max[ceil(L/P),d]",
                List.of(tensor("K", "keys, one row per token")),
                List.of(intParam("P", 1, "page size, tokens per page"),
                        new Param("appendFrom", ParamKind.INT, null, true, 0, null, null,
                                "run the incremental path: pageMinMax over rows [0, appendFrom), then "
                                        + "pageMinMaxAppend for the rest (the result equals the batch one)"),
                        floatType()),
                List.of(matrix("min"), matrix("max")));
        add(Op.PAGE_POOL, "K[L,d], P, mode=MEAN/MAX/MIN -> Y[ceil(L/P),d]",
                List.of(tensor("K", "keys, one row per token")),
                List.of(intParam("P", 1, "page size, tokens per page"),
                        choice("mode", null, List.of("MEAN", "MAX", "MIN"),
                                "pooling; MEAN divides by the page's actual row count"),
                        floatType()),
                List.of(matrix("Y")));
        add(Op.PROJECT, "X[n,h], W[o,h] -> Y[n,o]",
                List.of(tensor("X", "rows to project"), tensor("W", "weights, one row per output column")),
                List.of(floatType()), List.of(matrix("Y")));
        add(Op.QUANTIZE, "X -> X' (Xprime.npy with Xprime_scale.npy)",
                List.of(tensor("X", "values to quantize, per row")),
                List.of(choice("type", "I8", List.of("I8", "I16"), "element type of X'")),
                List.of(new Output("Xprime", OutputKind.LIKE_INPUT)));
        add(Op.DEQUANTIZE, "X -> X' (Xprime.npy)",
                List.of(tensor("X", "I8 or I16 codes with X_scale")),
                List.of(floatType()), List.of(new Output("Xprime", OutputKind.LIKE_INPUT)));
        add(Op.CONVERT, "X -> X' (Xprime.npy; Xprime_scale.npy for I8/I16)",
                List.of(tensor("X", "values to convert")),
                List.of(choice("type", null, ALL_TYPES, "element type of X'")),
                List.of(new Output("Xprime", OutputKind.LIKE_INPUT)));
        add(Op.L2_NORMALIZE, "X[n,d] -> Y[n,d]", List.of(tensor("X", "rows to normalize")),
                List.of(floatType()), List.of(new Output("Y", OutputKind.LIKE_INPUT)));
        add(Op.ROPE, "X[n,d], positions[n], theta -> Y[n,d]",
                List.of(tensor("X", "rows, d even"), indices("positions", "position of each row")),
                List.of(new Param("theta", ParamKind.FLOAT, "10000", false, 0, null, null,
                        "rotary base (10000 in Llama 2, 500000 in Llama 3)"), floatType()),
                List.of(new Output("Y", OutputKind.LIKE_INPUT)));
        add(Op.BM25_INDEX, "offsets[N+1], tokens[] -> docLengths[N], docFreq[V], postingOffsets[V+1], "
                        + "postingDocs[], postingTfs[]",
                List.of(indices("offsets", "document i holds tokens[offsets[i]:offsets[i+1]]"),
                        indices("tokens", "term ids, >= 0")),
                List.of(),
                List.of(ints("docLengths"), ints("docFreq"), ints("postingOffsets"), ints("postingDocs"),
                        ints("postingTfs")));
        add(Op.DOT, "Q[m,d], M[n,d] -> S[m,n]",
                List.of(tensor("Q", "queries"), tensor("M", "memory rows")), List.of(floatType()),
                List.of(matrix("S")));
        add(Op.COSINE, "Q[m,d], M[n,d] -> S[m,n]",
                List.of(tensor("Q", "queries"), tensor("M", "memory rows")), List.of(floatType()),
                List.of(matrix("S")));
        add(Op.QUEST_BOUND, "q[d], min[p,d], max[p,d] -> s[p]",
                List.of(tensor("q", "the query"), tensor("min", "page minima"), tensor("max", "page maxima")),
                List.of(floatType()), List.of(vector("s")));
        add(Op.GROUP_MAX, "s[n], g -> y[ceil(n/g)]", List.of(tensor("s", "scores")),
                List.of(intParam("g", 1, "group size"), floatType()), List.of(vector("y")));
        add(Op.INDEXER_SCORE, "q[H,dI], w[H], K[n,dI], kScale[n] (optional, default 1) -> s[n]",
                List.of(tensor("q", "indexer query heads"), tensor("w", "head weights"),
                        tensor("K", "indexer keys"),
                        new Input("kScale", InputKind.TENSOR, true, "per-key scale (absent: all ones)")),
                List.of(floatType()), List.of(vector("s")));
        add(Op.SOFTMAX, "s[n], scale -> p[n]", List.of(tensor("s", "scores")),
                List.of(new Param("scale", ParamKind.FLOAT, "1", false, 0, null, null, "multiplies s first"),
                        floatType()),
                List.of(vector("p")));
        add(Op.BM25_SCORE, "query[q] term ids, index (offsets[N+1], tokens[]), k1, b, idf -> s[N]",
                List.of(indices("query", "query term ids (a repeated term counts once)"),
                        indices("offsets", "document i holds tokens[offsets[i]:offsets[i+1]]"),
                        indices("tokens", "term ids, >= 0")),
                List.of(new Param("k1", ParamKind.FLOAT, "1.2", false, 0, null, null, "term frequency saturation"),
                        new Param("b", ParamKind.FLOAT, "0.75", false, 0, null, null, "length normalization"),
                        choice("idf", "LUCENE", List.of("LUCENE", "CLASSIC"), "idf variant"),
                        floatType()),
                List.of(vector("s")));
        add(Op.TOP_K, "s[n], k -> idx[min(k,n)], val[min(k,n)]", List.of(tensor("s", "scores, no NaN")),
                List.of(intParam("k", 1, "how many")),
                List.of(ints("idx"), vector("val")));
        add(Op.THRESHOLD, "s[n], T -> bitmap[n]", List.of(tensor("s", "scores, no NaN")),
                List.of(new Param("T", ParamKind.FLOAT, null, false, 0, null, null, "bit i is set iff s_i > T")),
                List.of(new Output("bitmap", OutputKind.BITMAP)));
        add(Op.BITMAP_TO_INDICES, "bitmap[n] -> indices[]",
                List.of(new Input("bitmap", InputKind.BITMAP, false, "the bits")),
                List.of(), List.of(ints("indices")));
        add(Op.EXPAND_BLOCKS, "blocks[], P, L, sink, window -> tokens[]",
                List.of(indices("blocks", "block numbers, any order")),
                List.of(intParam("P", 1, "block size"), intParam("L", 0, "context length in tokens"),
                        new Param("sink", ParamKind.INT, "0", false, 0, null, null, "first tokens always kept"),
                        new Param("window", ParamKind.INT, "0", false, 0, null, null, "last tokens always kept")),
                List.of(ints("tokens")));
        add(Op.GATHER, "X[n,d], idx[k] -> Y[k,d] (Y has X's element type)",
                List.of(tensor("X", "rows"), indices("idx", "rows to copy, each in [0, n)")),
                List.of(), List.of(matrix("Y")));
        add(Op.ATTENTION, "q[Hq,d], K[L,Hkv*d], V[L,Hkv*d], idx[] (absent = all rows), Hkv, scale -> o[Hq,d]",
                List.of(tensor("q", "query heads of one position"),
                        tensor("K", "keys, row i holds the Hkv heads of token i"),
                        tensor("V", "values, laid out as K"),
                        new Input("idx", InputKind.INDICES, true, "selected rows (absent: dense attention)")),
                List.of(new Param("Hkv", ParamKind.INT, null, false, 1, null, "K's width / q's width",
                                "KV heads (GQA: query head h reads KV head h / (Hq/Hkv))"),
                        new Param("scale", ParamKind.FLOAT, null, false, 0, null, "1/sqrt(d)", "logit scale"),
                        floatType()),
                List.of(matrix("o")));
        add(Op.SOFT_RETRIEVE, "a[n], V[n,d] -> o[d]",
                List.of(tensor("a", "weights, used as given"), tensor("V", "memory rows")),
                List.of(floatType()), List.of(vector("o")));
        add(Op.MLP_FORWARD, "X[n,d], W1[h,d], W3[h,d], W2[d,h] -> Y[n,d]",
                List.of(tensor("X", "rows (F32)"), tensor("W1", "gate weights"), tensor("W3", "up weights"),
                        tensor("W2", "down weights")), List.of(), List.of(matrix("Y")));
        add(Op.MLP_GRADIENT, "X[n,d], T[n,d], W1[h,d], W3[h,d], W2[d,h], loss -> dW1[h,d], dW3[h,d], dW2[d,h]",
                List.of(tensor("X", "rows (F32)"), tensor("T", "targets"), tensor("W1", "gate weights"),
                        tensor("W3", "up weights"), tensor("W2", "down weights")),
                List.of(new Param("loss", ParamKind.CHOICE, "SQUARED", false, 0,
                        List.of("SQUARED", "NEGATIVE_DOT"), null, "SQUARED (Titans) or NEGATIVE_DOT (LaCT)")),
                List.of(matrix("dW1"), matrix("dW3"), matrix("dW2")));
        add(Op.MOMENTUM_UPDATE, "W, G, S, eta, theta, alpha -> W', S' (in place)",
                List.of(tensor("W", "weights"), tensor("G", "gradient"), tensor("S", "momentum")),
                List.of(new Param("eta", ParamKind.FLOAT, "0.9", false, 0, null, null, "momentum decay"),
                        new Param("theta", ParamKind.FLOAT, "0.01", false, 0, null, null, "learning rate"),
                        new Param("alpha", ParamKind.FLOAT, "0", false, 0, null, null, "weight decay")),
                List.of(matrix("Wprime"), matrix("Sprime")));
        add(Op.NEWTON_SCHULZ, "G[r,c], steps -> O[r,c]", List.of(tensor("G", "matrix to orthogonalize")),
                List.of(new Param("steps", ParamKind.INT, "5", false, 1, null, null, "iterations")),
                List.of(matrix("O")));
    }

    private OpSignatures() {
    }

    static OpSignature of(Op op) {
        OpSignature s = TABLE.get(op);
        if (s == null) {
            throw new IllegalStateException("no op signature for " + op + " in the op command's table");
        }
        return s;
    }

    /**
     * The {@code [rows, cols]} of a tensor output that the kit's {@code GoldenCase.run} sizes from an expected
     * array, derived from the inputs as the SPEC.md signature says; null for outputs whose size the run finds
     * itself (quantize/convert, gather, index outputs). Wrong input shapes give a shape here that the op then
     * rejects with its own message, naming the argument.
     */
    static long[] outputShape(Op op, String output, Map<String, NpyArray> in, Map<String, String> params) {
        return switch (op) {
            case PAGE_MIN_MAX, PAGE_POOL -> shape(ceilDiv(in.get("K").rows(), intOf(params, "P")), in.get("K").cols());
            case PROJECT -> shape(in.get("X").rows(), in.get("W").rows());
            case L2_NORMALIZE, ROPE -> shape(in.get("X").rows(), in.get("X").cols());
            case DOT, COSINE -> shape(in.get("Q").rows(), in.get("M").rows());
            case QUEST_BOUND -> shape(1, in.get("min").rows());
            case GROUP_MAX -> shape(1, ceilDiv(in.get("s").cols(), intOf(params, "g")));
            case INDEXER_SCORE -> shape(1, in.get("K").rows());
            case SOFTMAX -> shape(1, in.get("s").cols());
            case BM25_SCORE -> shape(1, Math.max(0, in.get("offsets").size() - 1));
            case ATTENTION -> shape(in.get("q").rows(), in.get("q").cols());
            case SOFT_RETRIEVE -> shape(1, in.get("V").cols());
            case MLP_FORWARD -> shape(in.get("X").rows(), in.get("X").cols());
            case MLP_GRADIENT -> output.equals("dW2") ? shape(in.get("W2").rows(), in.get("W2").cols())
                    : shape(in.get("W1").rows(), in.get("W1").cols());
            case NEWTON_SCHULZ -> shape(in.get("G").rows(), in.get("G").cols());
            default -> null;
        };
    }

    /**
     * The value of a parameter whose default depends on the inputs (attention's {@code Hkv} and
     * {@code scale}), or null when the inputs do not determine it.
     */
    static String derivedDefault(Op op, String param, Map<String, NpyArray> in) {
        if (op != Op.ATTENTION) {
            return null;
        }
        int d = in.get("q").cols();
        return switch (param) {
            case "Hkv" -> d > 0 && in.get("K").cols() % d == 0 && in.get("K").cols() >= d
                    ? Integer.toString(in.get("K").cols() / d) : null;
            case "scale" -> d > 0 ? Float.toString((float) (1 / Math.sqrt(d))) : null;
            default -> null;
        };
    }

    /** Every op in contract order. */
    static List<OpSignature> all() {
        return List.copyOf(TABLE.values());
    }

    private static long[] shape(long rows, long cols) {
        return new long[] {rows, cols};
    }

    private static long ceilDiv(long n, long d) {
        // a P or g below 1 was rejected before; keep the shape well-defined anyway
        return d < 1 ? 0 : (n + d - 1) / d;
    }

    private static long intOf(Map<String, String> params, String name) {
        return Long.parseLong(params.get(name));
    }

    private static void add(Op op, String signature, List<Input> inputs, List<Param> params, List<Output> outputs) {
        TABLE.put(op, new OpSignature(op, signature, inputs, params, outputs));
    }

    private static Input tensor(String name, String description) {
        return new Input(name, InputKind.TENSOR, false, description);
    }

    private static Input indices(String name, String description) {
        return new Input(name, InputKind.INDICES, false, description);
    }

    private static Param intParam(String name, long min, String description) {
        return new Param(name, ParamKind.INT, null, false, min, null, null, description);
    }

    private static Param choice(String name, String defaultValue, List<String> choices, String description) {
        return new Param(name, ParamKind.CHOICE, defaultValue, false, 0, choices, null, description);
    }

    /** The element type of the op's float outputs (SPEC.md: float outputs may be F32, F16 or BF16). */
    private static Param floatType() {
        return choice("type", "F32", FLOAT_OUTPUTS, "element type of the float outputs");
    }

    private static Output matrix(String name) {
        return new Output(name, OutputKind.MATRIX);
    }

    private static Output vector(String name) {
        return new Output(name, OutputKind.VECTOR);
    }

    private static Output ints(String name) {
        return new Output(name, OutputKind.INDICES);
    }

    /** Upper-cases a choice value so that {@code --param idf=lucene} works. */
    static String normalizeChoice(String value) {
        return value.toUpperCase(Locale.ROOT);
    }
}
