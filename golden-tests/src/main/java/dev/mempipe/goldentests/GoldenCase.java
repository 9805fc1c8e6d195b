package dev.mempipe.goldentests;

import dev.mempipe.goldentests.npy.Npy;
import dev.mempipe.goldentests.npy.NpyArray;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.Bm25Idf;
import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.MlpLoss;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.PoolMode;
import dev.mempipe.spi.Tensor;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * One golden case: the .npy inputs and expected outputs and the {@code case.properties} of a folder under
 * {@code /dev/mempipe/goldentests/golden/}, produced by {@code src/main/golden/generate.py}, an implementation
 * of the contract independent of the Java code. {@link #run} runs the case's op on a backend.
 *
 * <p>Arrays are named as in SPEC.md's signatures, except that the output {@code X'} of quantize, dequantize
 * and convert is stored as {@code Xprime}. Expected outputs that the contract compares with a tolerance are
 * float64 references ({@code <f8}); exact ones are stored in the output's own dtype.
 *
 * <p>Immutable once loaded; {@link #run} allocates everything it uses in the caller's arena.
 */
public final class GoldenCase {
    /** Resource folder holding {@code index.txt} and one folder per case. */
    public static final String ROOT = "/dev/mempipe/goldentests/golden/";

    private final String name;
    private final Op op;
    private final Properties props;
    private final List<String> inputs;
    private final List<String> outputs;
    private final Map<String, NpyArray> files;

    private GoldenCase(String name, Op op, Properties props, List<String> inputs, List<String> outputs,
                       Map<String, NpyArray> files) {
        this.name = name;
        this.op = op;
        this.props = props;
        this.inputs = inputs;
        this.outputs = outputs;
        this.files = files;
    }

    /** The case folder names listed in {@code index.txt}, in order. */
    public static List<String> names() {
        try (InputStream in = resource(ROOT + "index.txt")) {
            List<String> names = new ArrayList<>();
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = reader.readLine()) != null; ) {
                line = line.strip();
                if (!line.isEmpty() && !line.startsWith("#")) {
                    names.add(line);
                }
            }
            return Collections.unmodifiableList(names);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the golden case index " + ROOT + "index.txt", e);
        }
    }

    /** Loads the case folder {@code name} (e.g. {@code dot-3}). */
    public static GoldenCase load(String name) throws IOException {
        String folder = ROOT + name + "/";
        Properties props = new Properties();
        try (InputStream in = resource(folder + "case.properties")) {
            props.load(in);
        }
        String opName = props.getProperty("op");
        if (opName == null) {
            throw new IOException(folder + "case.properties has no 'op'");
        }
        List<String> inputs = list(props.getProperty("inputs", ""));
        List<String> outputs = list(props.getProperty("outputs", ""));
        Map<String, NpyArray> files = new LinkedHashMap<>();
        for (String array : concat(inputs, outputs)) {
            files.put(array, readNpy(folder + array + ".npy", true));
            NpyArray scale = readNpy(folder + array + "_scale.npy", false);
            if (scale != null) {
                files.put(array + "_scale", scale);
            }
        }
        return new GoldenCase(name, Op.byContractName(opName), props, inputs, outputs, files);
    }

    /**
     * A case built from arrays in memory (how {@code mempipe op} runs one op on the user's .npy files):
     * {@code props} as in {@code case.properties} ({@code op}, {@code inputs}, {@code outputs}, parameters,
     * {@code type.<output>}); outputs that {@link #run} sizes from an expected array need one of the right shape
     * in {@code arrays} (its contents are not read).
     */
    public static GoldenCase of(String name, Properties props, Map<String, NpyArray> arrays) {
        String opName = props.getProperty("op");
        if (opName == null) {
            throw new IllegalArgumentException("case '" + name + "' has no 'op' property");
        }
        return new GoldenCase(name, Op.byContractName(opName), props, list(props.getProperty("inputs", "")),
                list(props.getProperty("outputs", "")), arrays);
    }

    public String name() {
        return name;
    }

    public Op op() {
        return op;
    }

    public List<String> inputs() {
        return inputs;
    }

    public List<String> outputs() {
        return outputs;
    }

    /** The .npy contents of an input or expected output, or of its {@code _scale} array; null when absent. */
    public NpyArray array(String arrayName) {
        return files.get(arrayName);
    }

    /** A scalar parameter as written in {@code case.properties}; null when absent. */
    public String param(String key) {
        return props.getProperty(key);
    }

    /** The element type the case allocates output {@code output} with ({@code type.<output>}). */
    public ElementType outputType(String output) {
        String type = props.getProperty("type." + output);
        if (type == null) {
            throw new IllegalStateException("golden case " + name + " names no element type for output '"
                    + output + "'");
        }
        return ElementType.valueOf(type);
    }

    /** The element type of a tensor input, or null when the input is an index list or bitmap. */
    public ElementType inputType(String input) {
        return files.get(input).dtype().elementType();
    }

    /**
     * Why {@code caps} cannot run this case (the op, or an input element type, is not declared), or null
     * when it can.
     */
    public String unsupportedReason(String backendName, Capabilities caps) {
        if (!caps.supports(op)) {
            return "backend " + backendName + " does not declare op " + op + " in its capabilities";
        }
        for (String input : inputs) {
            ElementType type = inputType(input);
            if (type != null && !caps.supports(op, type)) {
                return "backend " + backendName + " does not declare input type " + type + " for op " + op
                        + " (input '" + input + "'; declared: " + caps.types(op) + ")";
            }
        }
        return null;
    }

    /** A tensor input decoded to f32 ({@code [rows][cols]}), for the tolerance bounds. */
    public float[][] decoded(String input) {
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = tensor(arena, input);
            float[][] out = new float[(int) t.rows()][t.cols()];
            for (int r = 0; r < out.length; r++) {
                for (int c = 0; c < t.cols(); c++) {
                    out[r][c] = t.get(r, c);
                }
            }
            return out;
        }
    }

    /** What {@link #run} produced: tensor outputs, and index/bitmap outputs as int arrays (bitmaps as 0/1). */
    public record Outputs(Map<String, Tensor> tensors, Map<String, int[]> ints) {
    }

    /**
     * Runs the op on {@code backend} with this case's inputs, all allocated in {@code arena}. Index outputs
     * are cut to the length the op returned.
     */
    public Outputs run(Backend backend, Arena arena) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, int[]> ints = new LinkedHashMap<>();
        switch (op) {
            case PAGE_MIN_MAX -> {
                Tensor keys = tensor(arena, "K");
                int pageSize = intParam("P");
                Tensor min = output(arena, "min");
                Tensor max = output(arena, "max");
                String appendFrom = param("appendFrom");
                if (appendFrom == null) {
                    backend.prepare().pageMinMax(keys, pageSize, min, max);
                } else {
                    // batch over the first rows, then the incremental update must reach the batch result
                    int from = Integer.parseInt(appendFrom);
                    int pages = (from + pageSize - 1) / pageSize;
                    backend.prepare().pageMinMax(keys.rowSlice(0, from), pageSize, min.rowSlice(0, pages),
                            max.rowSlice(0, pages));
                    backend.prepare().pageMinMaxAppend(keys, from, pageSize, min, max);
                }
                tensors.put("min", min);
                tensors.put("max", max);
            }
            case PAGE_POOL -> {
                Tensor y = output(arena, "Y");
                backend.prepare().pagePool(tensor(arena, "K"), intParam("P"), PoolMode.valueOf(param("mode")), y);
                tensors.put("Y", y);
            }
            case PROJECT -> {
                Tensor y = output(arena, "Y");
                backend.prepare().project(tensor(arena, "X"), tensor(arena, "W"), y);
                tensors.put("Y", y);
            }
            case QUANTIZE, DEQUANTIZE, CONVERT -> {
                Tensor x = tensor(arena, "X");
                Tensor y = Tensor.allocate(arena, outputType("Xprime"), x.rows(), x.cols());
                switch (op) {
                    case QUANTIZE -> backend.prepare().quantize(x, y);
                    case DEQUANTIZE -> backend.prepare().dequantize(x, y);
                    default -> backend.prepare().convert(x, y);
                }
                tensors.put("Xprime", y);
            }
            case L2_NORMALIZE -> {
                Tensor y = output(arena, "Y");
                backend.prepare().l2Normalize(tensor(arena, "X"), y);
                tensors.put("Y", y);
            }
            case ROPE -> {
                Tensor y = output(arena, "Y");
                backend.prepare().rope(tensor(arena, "X"), indices(arena, "positions"), floatParam("theta"), y);
                tensors.put("Y", y);
            }
            case BM25_INDEX -> {
                Bm25Index index = backend.prepare().bm25Index(indices(arena, "offsets"), indices(arena, "tokens"));
                int[] postingOffsets = new int[index.vocabularySize() + 1];
                int[] docFreq = new int[index.vocabularySize()];
                for (int t = 0; t < docFreq.length; t++) {
                    docFreq[t] = index.docFreq(t);
                    postingOffsets[t + 1] = index.postingEnd(t);
                }
                ints.put("docLengths", index.docLengths().clone());
                ints.put("docFreq", docFreq);
                ints.put("postingOffsets", postingOffsets);
                ints.put("postingDocs", index.postingDocs().clone());
                ints.put("postingTfs", index.postingTfs().clone());
            }
            case DOT, COSINE -> {
                Tensor s = output(arena, "S");
                if (op == Op.DOT) {
                    backend.relevancy().dot(tensor(arena, "Q"), tensor(arena, "M"), s);
                } else {
                    backend.relevancy().cosine(tensor(arena, "Q"), tensor(arena, "M"), s);
                }
                tensors.put("S", s);
            }
            case QUEST_BOUND -> {
                Tensor s = output(arena, "s");
                backend.relevancy().questBound(tensor(arena, "q"), tensor(arena, "min"), tensor(arena, "max"), s);
                tensors.put("s", s);
            }
            case GROUP_MAX -> {
                Tensor y = output(arena, "y");
                backend.relevancy().groupMax(tensor(arena, "s"), intParam("g"), y);
                tensors.put("y", y);
            }
            case INDEXER_SCORE -> {
                Tensor s = output(arena, "s");
                Tensor kScale = inputs.contains("kScale") ? tensor(arena, "kScale") : null;
                backend.relevancy().indexerScore(tensor(arena, "q"), tensor(arena, "w"), tensor(arena, "K"),
                        kScale, s);
                tensors.put("s", s);
            }
            case SOFTMAX -> {
                Tensor p = output(arena, "p");
                backend.relevancy().softmax(tensor(arena, "s"), floatParam("scale"), p);
                tensors.put("p", p);
            }
            case BM25_SCORE -> {
                // the index comes from the oracle, so that this case tests bm25Score alone
                Bm25Index index = new ScalarBackend().prepare().bm25Index(indices(arena, "offsets"),
                        indices(arena, "tokens"));
                Bm25Params params = new Bm25Params(floatParam("k1"), floatParam("b"), Bm25Idf.valueOf(param("idf")));
                Tensor s = output(arena, "s");
                backend.relevancy().bm25Score(indices(arena, "query"), index, params, s);
                tensors.put("s", s);
            }
            case TOP_K -> {
                Tensor s = tensor(arena, "s");
                int k = intParam("k");
                int count = Math.min(k, s.cols());
                Indices idx = Indices.allocate(arena, count);
                Tensor val = Tensor.allocate(arena, ElementType.F32, 1, count);
                int n = backend.retrieval().topK(s, k, idx, val);
                ints.put("idx", idx.prefix(Math.min(n, count)).toArray());
                tensors.put("val", val);
                ints.put("count", new int[] {n});
            }
            case THRESHOLD -> {
                Tensor s = tensor(arena, "s");
                Bitmap bits = Bitmap.allocate(arena, s.cols());
                backend.retrieval().threshold(s, floatParam("T"), bits);
                ints.put("bitmap", bitsOf(bits));
            }
            case BITMAP_TO_INDICES -> {
                Bitmap bits = files.get("bitmap").toBitmap(arena);
                Indices out = Indices.allocate(arena, (int) bits.length());
                int n = backend.retrieval().bitmapToIndices(bits, out);
                ints.put("indices", out.prefix(n).toArray());
            }
            case EXPAND_BLOCKS -> {
                int length = intParam("L");
                Indices out = Indices.allocate(arena, length);
                int n = backend.retrieval().expandBlocks(indices(arena, "blocks"), intParam("P"), length,
                        intParam("sink"), intParam("window"), out);
                ints.put("tokens", out.prefix(n).toArray());
            }
            case GATHER -> {
                Tensor x = tensor(arena, "X");
                Indices idx = indices(arena, "idx");
                Tensor y = Tensor.allocate(arena, x.type(), idx.length(), x.cols());
                backend.retrieval().gather(x, idx, y);
                tensors.put("Y", y);
            }
            case ATTENTION -> {
                Tensor o = output(arena, "o");
                Indices idx = inputs.contains("idx") ? indices(arena, "idx") : null;
                backend.apply().attention(tensor(arena, "q"), tensor(arena, "K"), tensor(arena, "V"),
                        intParam("Hkv"), idx, floatParam("scale"), o);
                tensors.put("o", o);
            }
            case SOFT_RETRIEVE -> {
                Tensor o = output(arena, "o");
                backend.apply().softRetrieve(tensor(arena, "a"), tensor(arena, "V"), o);
                tensors.put("o", o);
            }
            case MLP_FORWARD -> {
                Tensor y = output(arena, "Y");
                backend.train().mlpForward(tensor(arena, "X"), tensor(arena, "W1"), tensor(arena, "W3"),
                        tensor(arena, "W2"), y);
                tensors.put("Y", y);
            }
            case MLP_GRADIENT -> {
                Tensor g1 = output(arena, "dW1");
                Tensor g3 = output(arena, "dW3");
                Tensor g2 = output(arena, "dW2");
                backend.train().mlpGradient(tensor(arena, "X"), tensor(arena, "T"), tensor(arena, "W1"),
                        tensor(arena, "W3"), tensor(arena, "W2"), MlpLoss.valueOf(param("loss")), g1, g3, g2);
                tensors.put("dW1", g1);
                tensors.put("dW3", g3);
                tensors.put("dW2", g2);
            }
            case MOMENTUM_UPDATE -> { // in place: the updated W and S are the outputs W' and S'
                Tensor w = tensor(arena, "W");
                Tensor m = tensor(arena, "S");
                backend.train().momentumUpdate(w, tensor(arena, "G"), m, floatParam("eta"), floatParam("theta"),
                        floatParam("alpha"));
                tensors.put("Wprime", w);
                tensors.put("Sprime", m);
            }
            case NEWTON_SCHULZ -> {
                Tensor o = output(arena, "O");
                backend.train().newtonSchulz(tensor(arena, "G"), intParam("steps"), o);
                tensors.put("O", o);
            }
        }
        return new Outputs(tensors, ints);
    }

    /** A tensor input (with its {@code _scale} array for I8/I16) copied into {@code arena}. */
    public Tensor tensor(Arena arena, String input) {
        NpyArray data = files.get(input);
        ElementType type = data.dtype().elementType();
        if (type == null) {
            throw new IllegalStateException("golden case " + name + ": '" + input + "' is " + data.dtype()
                    + ", not a tensor");
        }
        return data.toTensor(arena, type, type.isQuantized() ? required(input + "_scale") : null);
    }

    /** An index input copied into {@code arena}. */
    public Indices indices(Arena arena, String input) {
        return required(input).toIndices(arena);
    }

    private Tensor output(Arena arena, String output) {
        NpyArray expected = required(output);
        return Tensor.allocate(arena, outputType(output), expected.rows(), expected.cols());
    }

    private NpyArray required(String arrayName) {
        NpyArray a = files.get(arrayName);
        if (a == null) {
            throw new IllegalStateException("golden case " + name + " has no " + arrayName + ".npy");
        }
        return a;
    }

    private int intParam(String key) {
        return Integer.parseInt(requiredParam(key));
    }

    private float floatParam(String key) {
        return Float.parseFloat(requiredParam(key));
    }

    private String requiredParam(String key) {
        String v = props.getProperty(key);
        if (v == null) {
            throw new IllegalStateException("golden case " + name + " has no parameter '" + key + "'");
        }
        return v;
    }

    private static int[] bitsOf(Bitmap bits) {
        int[] out = new int[(int) bits.length()];
        for (int i = 0; i < out.length; i++) {
            out[i] = bits.get(i) ? 1 : 0;
        }
        return out;
    }

    private static NpyArray readNpy(String path, boolean required) throws IOException {
        InputStream in = GoldenCase.class.getResourceAsStream(path);
        if (in == null) {
            if (required) {
                throw new IOException("golden resource " + path + " is missing");
            }
            return null;
        }
        try (in) {
            return Npy.read(in, path);
        }
    }

    private static InputStream resource(String path) throws IOException {
        InputStream in = GoldenCase.class.getResourceAsStream(path);
        if (in == null) {
            throw new IOException("golden resource " + path + " is missing from the class path");
        }
        return in;
    }

    private static List<String> list(String csv) {
        return csv.isBlank() ? List.of() : Arrays.stream(csv.split(",")).map(String::strip).toList();
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    @Override
    public String toString() {
        return name + " (" + op + ")";
    }
}
