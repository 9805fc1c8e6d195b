package dev.mempipe.goldentests;

import dev.mempipe.goldentests.npy.Npy;
import dev.mempipe.goldentests.npy.NpyArray;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Dim;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.OpCall;
import dev.mempipe.spi.OpDescriptor;
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
     * Runs the op on {@code backend} with this case's inputs, all allocated in {@code arena}, through the op's
     * descriptor ({@code OpDescriptor#invoke}). Tensor outputs take the expected array's shape when the case has
     * one, else the shape the descriptor gives from the inputs; index outputs are cut to the length the op
     * returned.
     */
    public Outputs run(Backend backend, Arena arena) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, int[]> ints = new LinkedHashMap<>();
        OpDescriptor descriptor = op.descriptor();
        Map<String, Long> sizes = sizes(op, files, props);
        descriptor.invoke(backend, new OpCall() {
            @Override
            public Op op() {
                return op;
            }

            @Override
            public boolean has(String arg) {
                return inputs.contains(fileName(arg)) || props.getProperty(arg) != null;
            }

            @Override
            public Tensor tensor(String arg) {
                return GoldenCase.this.tensor(arena, arg);
            }

            @Override
            public Indices indices(String arg) {
                return GoldenCase.this.indices(arena, arg);
            }

            @Override
            public Bitmap bitmap(String arg) {
                return required(arg).toBitmap(arena);
            }

            @Override
            public String param(String arg) {
                String v = props.getProperty(arg);
                OpDescriptor.Arg spec = descriptor.arg(arg);
                return v != null || spec == null ? v : spec.defaultValue();
            }

            @Override
            public ElementType outputType(String arg) {
                return GoldenCase.this.outputType(fileName(arg));
            }

            @Override
            public Tensor output(String arg) {
                NpyArray expected = files.get(fileName(arg));
                if (expected != null) {
                    return Tensor.allocate(arena, outputType(arg), expected.rows(), expected.cols());
                }
                long[] shape = outputShape(op, arg, sizes);
                if (shape == null) {
                    throw new IllegalStateException("golden case " + name + ": the shape of output '" + arg
                            + "' does not follow from the inputs " + sizes);
                }
                return Tensor.allocate(arena, outputType(arg), shape[0], Math.toIntExact(shape[1]));
            }

            @Override
            public Tensor allocate(ElementType type, long rows, int cols) {
                return Tensor.allocate(arena, type, rows, cols);
            }

            @Override
            public Indices allocateIndices(int length) {
                return Indices.allocate(arena, length);
            }

            @Override
            public Bitmap allocateBitmap(long bits) {
                return Bitmap.allocate(arena, bits);
            }

            @Override
            public Bm25Index referenceIndex(String offsets, String tokens) {
                // the index comes from the oracle, so that the case tests the scoring op alone
                return new ScalarBackend().prepare().bm25Index(indices(offsets), indices(tokens));
            }

            @Override
            public void result(String arg, Tensor value) {
                tensors.put(fileName(arg), value);
            }

            @Override
            public void result(String arg, int[] values) {
                ints.put(fileName(arg), values);
            }
        });
        return new Outputs(tensors, ints);
    }

    /** The name an argument's arrays have in files: {@code X'} is written {@code Xprime}. */
    public static String fileName(String arg) {
        return arg.replace("'", "prime");
    }

    /**
     * The sizes (SPEC.md's symbols) that {@code arrays} and the integer parameters in {@code params} bind for
     * {@code op}: {@code d} from {@code Q}'s columns, {@code N} from {@code offsets}' {@code N+1} entries,
     * {@code Hkv} and {@code d} from a {@code [L, Hkv, d]} array. Sizes that disagree are left to the op to
     * reject with its own message.
     */
    public static Map<String, Long> sizes(Op op, Map<String, NpyArray> arrays, Properties params) {
        Map<String, Long> sizes = new java.util.HashMap<>();
        for (OpDescriptor.Arg a : op.descriptor().params()) {
            String v = params.getProperty(a.name());
            if (a.kind() == OpDescriptor.ParamKind.INT && v != null) {
                try {
                    sizes.put(a.name(), Long.parseLong(v.strip()));
                } catch (NumberFormatException e) {
                    // not a size then; the parameter check reports it
                }
            }
        }
        for (OpDescriptor.Arg a : op.descriptor().inputs()) {
            NpyArray array = arrays.get(a.name());
            if (array == null) {
                continue;
            }
            long[] shape = array.shape();
            List<Dim> dims = a.dims();
            if (a.role() != OpDescriptor.Role.TENSOR) {
                bind(sizes, dims.getFirst(), array.size());
            } else if (a.threeD() && shape.length == 3) {
                for (int i = 0; i < 3; i++) {
                    bind(sizes, dims.get(i), shape[i]);
                }
            } else {
                if (!a.vector()) {
                    bind(sizes, dims.getFirst(), array.rows());
                }
                if (a.threeD()) {
                    Dim d = dims.get(2);
                    if (d.computable(sizes) && d.eval(sizes) > 0 && array.cols() % d.eval(sizes) == 0) {
                        bind(sizes, dims.get(1), array.cols() / d.eval(sizes));
                    }
                } else {
                    bind(sizes, dims.get(1), array.cols());
                }
            }
        }
        return sizes;
    }

    private static void bind(Map<String, Long> sizes, Dim dim, long value) {
        if (!dim.computable(sizes)) {
            Map.Entry<String, Long> solved = dim.solve(value);
            if (solved != null) {
                sizes.put(solved.getKey(), solved.getValue());
            }
        }
    }

    /** The {@code [rows, cols]} of tensor output {@code output} from {@code sizes}, or null when they do not fix it. */
    public static long[] outputShape(Op op, String output, Map<String, Long> sizes) {
        OpDescriptor.Arg a = op.descriptor().arg(output);
        if (a == null || a.role() != OpDescriptor.Role.OUTPUT || !a.dims().stream().allMatch(d -> d.computable(sizes))) {
            return null;
        }
        long cols = a.dims().get(1).eval(sizes);
        if (a.threeD()) {
            cols = Math.multiplyExact(cols, a.dims().get(2).eval(sizes));
        }
        return new long[] {a.rows().eval(sizes), cols};
    }

    /** A tensor input (with its {@code _scale} array for I8/I16) copied into {@code arena}. */
    public Tensor tensor(Arena arena, String input) {
        NpyArray data = required(input);
        OpDescriptor.Arg spec = op.descriptor().arg(input);
        if (data.shape().length > 2) {
            long[] shape = data.shape();
            if (spec == null || !spec.threeD() || shape.length != 3) {
                throw new IllegalArgumentException(op + ": argument '" + input + "' has shape "
                        + Arrays.toString(shape) + " but " + op + " takes " + input
                        + (spec == null ? "" : spec.shapeText()));
            }
            data = data.reshape(shape[0], Math.multiplyExact(shape[1], shape[2])); // C order: [L, Hkv*d]
        }
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


    private NpyArray required(String arrayName) {
        NpyArray a = files.get(arrayName);
        if (a == null) {
            throw new IllegalStateException("golden case " + name + " has no " + arrayName + ".npy");
        }
        return a;
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
