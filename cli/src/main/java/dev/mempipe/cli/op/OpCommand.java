package dev.mempipe.cli.op;

import dev.mempipe.cli.Args;
import dev.mempipe.cli.BackendChoice;
import dev.mempipe.cli.CliException;
import dev.mempipe.cli.Command;
import dev.mempipe.goldentests.GoldenCase;
import dev.mempipe.goldentests.npy.Npy;
import dev.mempipe.goldentests.npy.NpyArray;
import dev.mempipe.goldentests.npy.NpyDtype;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.OpDescriptor;
import dev.mempipe.spi.OpDescriptor.Arg;
import dev.mempipe.spi.OpDescriptor.Role;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;
import dev.mempipe.spi.io.AtomicFile;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * {@code mempipe op NAME --in NAME=FILE.npy ... [--param key=value ...] --out DIR [--backend NAME]}: runs one
 * op of SPEC.md on .npy inputs and writes its outputs as .npy, named as in the op's signature.
 *
 * <p>What each op takes and writes is its {@link OpDescriptor}; the op itself runs through the conformance
 * kit's {@link GoldenCase#run}, which calls the descriptor's invoker. This command only validates the command
 * line against the descriptor and writes the results. So {@code mempipe op} on a golden case's inputs
 * reproduces exactly what the kit checks.
 *
 * <p>Bad input of every kind (unknown op or parameter, missing file, wrong dtype, shapes the op rejects, NaN
 * scores for topK) ends as one line on stderr and exit code 2.
 */
public final class OpCommand implements Command {
    private static final Args.Spec SPEC = new Args.Spec().repeatable("--in").repeatable("--param").value("--out")
            .value("--backend").flag("--list");

    @Override
    public String name() {
        return "op";
    }

    @Override
    public String summary() {
        return "run one op of the contract on .npy inputs and write its outputs as .npy";
    }

    @Override
    public String help() {
        return """
                usage: mempipe op NAME --in NAME=FILE.npy ... [--param KEY=VALUE ...] --out DIR [--backend NAME]
                       mempipe op --list
                       mempipe op NAME --help

                Runs one op of the contract (docs/SPEC.md) on .npy inputs and writes each output as DIR/<name>.npy,
                named as in the op's signature: dot writes S.npy, topK idx.npy and val.npy, quantize/convert
                Xprime.npy (with Xprime_scale.npy for I8/I16).

                options:
                  --in NAME=FILE   an input named as in the signature (repeat for each); I8/I16 tensors (|i1, <i2)
                                   also need NAME_scale=FILE (<f4, one per row), found automatically as
                                   FILE_scale.npy next to FILE when not given; a vector may be 1-D, and an
                                   input of shape [L,Hkv,d] (attention's K and V) 3-D or [L, Hkv*d]
                  --in DIR         every input of the op found as DIR/<name>.npy (and DIR/<name>_scale.npy),
                                   e.g. a golden case folder
                  --param K=V      a scalar parameter (P, k, g, T, scale, mode, k1, b, idf, sink, window, L, ...);
                                   type=F32|F16|BF16 picks the element type of float outputs (quantize: I8|I16,
                                   convert: any of the five)
                  --out DIR        where the outputs are written (created if missing; files are replaced)
                  --backend NAME   the backend to run on (default: the automatic choice; see conformance --help)
                  --list           list every op with its inputs, parameters and outputs

                dtypes: <f4 F32, <f2 F16, <u2 BF16 bits, |i1 I8 and <i2 I16 codes, <i4/<i8 indices, |u1 bitmaps
                (one 0/1 per element); rank 1 arrays are one-row tensors.

                examples:
                  mempipe op dot --in Q=q.npy --in M=m.npy --out result
                  mempipe op topK --in s=scores.npy --param k=64 --out result
                  mempipe op quantize --in X=x.npy --param type=I16 --out result
                  mempipe op attention --in q=q.npy --in K=k.npy --in V=v.npy --in idx=idx.npy --out result
                """;
    }

    @Override
    public String help(List<String> args) {
        for (String a : args) {
            if (!a.startsWith("-")) {
                try {
                    return describe(Op.byContractName(a), true) + "\n" + help();
                } catch (IllegalArgumentException e) {
                    return help();
                }
            }
        }
        return help();
    }

    @Override
    public int run(List<String> tokens, PrintStream out, PrintStream err) throws CliException {
        Args args = Args.parse("mempipe op", SPEC, tokens);
        if (args.flag("--list")) {
            out.print(list());
            return 0;
        }
        Op op = opNamed(args.positionals());
        OpDescriptor sig = op.descriptor();
        String outDir = args.value("--out");
        if (outDir == null) {
            throw CliException.usage(op + ": missing --out DIR (the folder the outputs are written to)");
        }
        Map<String, NpyArray> arrays = readInputs(op, args.values("--in"));
        Map<String, String> params = params(op, args.values("--param"), arrays);
        Path outPath = outputFolder(op, outDir); // before any work: a bad --out fails now, not after the op

        Properties props = new Properties();
        props.setProperty("op", op.contractName());
        props.setProperty("inputs", String.join(",", inputNames(sig).stream().filter(arrays::containsKey).toList()));
        props.setProperty("outputs", String.join(",", outputFiles(sig)));
        params.forEach((k, v) -> {
            if (!k.equals("type")) {
                props.setProperty(k, v);
            }
        });
        for (String o : outputFiles(sig)) {
            if (params.containsKey("type")) {
                props.setProperty("type." + o, params.get("type"));
            }
        }
        GoldenCase opCase = GoldenCase.of("mempipe op " + op, props, arrays);

        try (Backend backend = BackendChoice.open(args.value("--backend"));
             Arena arena = Arena.ofShared()) {
            String unsupported = opCase.unsupportedReason(backend.name(), backend.capabilities());
            if (unsupported != null) {
                throw CliException.usage(op + ": " + unsupported);
            }
            GoldenCase.Outputs result;
            try {
                result = opCase.run(backend, arena);
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                // the op's own argument checks (shapes, NaN, ranges), already naming the op and argument
                throw CliException.usage(opMessage(op, e), e);
            }
            out.println(op + " on " + backend.description() + ":");
            for (String line : write(op, result, arrays, outPath)) {
                out.println("  wrote " + line);
            }
        }
        return 0;
    }

    // ---- the command line ----

    private static Op opNamed(List<String> positionals) throws CliException {
        if (positionals.isEmpty()) {
            throw CliException.usage("expected an op name, e.g. mempipe op dot --in Q=q.npy --in M=m.npy --out DIR"
                    + " (mempipe op --list shows every op)");
        }
        if (positionals.size() > 1) {
            throw CliException.usage("expected one op name, got " + positionals
                    + " (inputs go with --in NAME=FILE, parameters with --param KEY=VALUE)");
        }
        try {
            return Op.byContractName(positionals.getFirst());
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage() + " (mempipe op --list shows their signatures)");
        }
    }

    private static Map<String, NpyArray> readInputs(Op op, List<String> specs) throws CliException {
        OpDescriptor sig = op.descriptor();
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        Map<String, Path> paths = new LinkedHashMap<>();
        for (String spec : specs) {
            int eq = spec.indexOf('=');
            if (eq < 0) {
                Path dir = Path.of(spec);
                if (!Files.isDirectory(dir)) {
                    throw CliException.usage(op + ": --in expects NAME=FILE.npy or a folder, got '" + spec + "'"
                            + (Files.exists(dir) ? "" : " (no such file or folder)"));
                }
                int found = 0;
                for (Arg input : sig.inputs()) {
                    for (String name : List.of(input.name(), input.name() + "_scale")) {
                        Path file = dir.resolve(name + ".npy");
                        if (Files.isRegularFile(file)) {
                            putInput(op, paths, name, file);
                            found++;
                        }
                    }
                }
                if (found == 0) {
                    throw CliException.usage(op + ": --in " + spec + ": the folder holds none of "
                            + inputNames(sig).stream().map(n -> n + ".npy").toList());
                }
                continue;
            }
            String name = spec.substring(0, eq);
            String file = spec.substring(eq + 1);
            if (!isInputName(sig, name)) {
                throw CliException.usage(op + ": unknown input '" + name + "' (" + op + " takes "
                        + String.join(", ", inputNames(sig)) + "; an I8/I16 tensor X also X_scale)");
            }
            if (file.isEmpty()) {
                throw CliException.usage(op + ": --in " + spec + " names no file");
            }
            putInput(op, paths, name, Path.of(file));
        }
        for (Arg input : sig.inputs()) {
            if (!input.optional() && !paths.containsKey(input.name())) {
                throw CliException.usage(op + ": missing input " + input.name() + " (--in " + input.name()
                        + "=FILE.npy; " + kindText(input) + ")");
            }
        }
        for (Map.Entry<String, Path> e : paths.entrySet()) {
            arrays.put(e.getKey(), read(op, e.getKey(), e.getValue()));
        }
        for (Arg input : sig.inputs()) {
            NpyArray a = arrays.get(input.name());
            if (a != null && input.codes() && a.dtype() == NpyDtype.U8) {
                // NumPy holds codes as uint8: the same bytes as the I8 tensor the op reads as unsigned codes
                a = new NpyArray(a.name(), NpyDtype.I8, a.shape(), a.data());
                arrays.put(input.name(), a);
            }
            if (a != null) {
                checkKind(op, input, a, arrays, paths);
            }
        }
        return arrays;
    }

    private static List<String> inputNames(OpDescriptor sig) {
        return sig.inputs().stream().map(Arg::name).toList();
    }

    private static List<String> outputFiles(OpDescriptor sig) {
        return sig.outputs().stream().map(a -> GoldenCase.fileName(a.name())).toList();
    }

    /** {@code <f4 [rows]} of ones: the scales of a raw-codes input, which its op does not read. */
    private static NpyArray unitScales(String name, long rows) {
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(Math.toIntExact(rows), Float.BYTES))
                .order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            b.putFloat(1f);
        }
        return new NpyArray(name, NpyDtype.F32, new long[] {rows}, b.array());
    }

    /** What an input file must hold, for messages and help. */
    private static String kindText(Arg input) {
        return switch (input.role()) {
            case INDICES -> "indices: <i4 or <i8, one dimension";
            case BITMAP -> "bitmap: |u1 with one 0/1 per element";
            default -> input.codes() ? "codes: |u1 or |i1 bytes, read as the op defines, no scales"
                    : "tensor: <f4, <f2, <u2 (BF16 bits), or |i1/<i2 codes with a NAME_scale <f4 array, one per row"
                    + (input.threeD() ? "; shape " + input.shapeText() + " or its 2-D form" : "");
        };
    }

    private static boolean isInputName(OpDescriptor sig, String name) {
        Arg a = sig.arg(name);
        if (a != null && a.role().isInput()) {
            return true;
        }
        if (name.endsWith("_scale")) {
            Arg base = sig.arg(name.substring(0, name.length() - "_scale".length()));
            return base != null && base.role() == Role.TENSOR;
        }
        return false;
    }

    private static void putInput(Op op, Map<String, Path> paths, String name, Path file) throws CliException {
        Path before = paths.put(name, file);
        if (before != null) {
            throw CliException.usage(op + ": input " + name + " is given twice (" + before + " and " + file + ")");
        }
    }

    private static NpyArray read(Op op, String name, Path file) throws CliException {
        try {
            return Npy.read(file).named(name + " (" + file + ")");
        } catch (NoSuchFileException e) {
            throw CliException.usage(op + ": input " + name + ": no such file " + file, e);
        } catch (IOException e) {
            // NpyFormatException names the file and what is wrong with it
            throw CliException.usage(op + ": input " + name + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw CliException.usage(op + ": input " + name + " (" + file + "): " + e.getMessage(), e);
        }
    }

    /** The dtype and rank an input must have; an I8/I16 tensor's scales are found here if not given. */
    private static void checkKind(Op op, Arg input, NpyArray a, Map<String, NpyArray> arrays,
                                  Map<String, Path> paths) throws CliException {
        String name = input.name();
        String scaleName = name + "_scale";
        switch (input.role()) {
            case TENSOR -> {
                if (a.dtype().elementType() == null) {
                    throw CliException.usage(op + ": input " + a.name() + " is " + a.dtype() + " but " + name
                            + " must be a " + kindText(input));
                }
                int maxRank = input.threeD() ? 3 : 2;
                if (a.shape().length > maxRank) {
                    throw CliException.usage(op + ": input " + a.name() + " has shape " + Arrays.toString(a.shape())
                            + " but " + name + " is " + name + input.shapeText() + " (at most " + maxRank
                            + " dimensions)");
                }
                if (input.codes()) {
                    if (arrays.containsKey(scaleName)) {
                        throw CliException.usage(op + ": " + scaleName + " is given but " + name + " holds raw codes,"
                                + " which have no scales");
                    }
                    // the tensor type carries scales; the op never reads them
                    arrays.put(scaleName, unitScales(scaleName, a.rows()));
                } else if (a.dtype().elementType().isQuantized()) {
                    if (!arrays.containsKey(scaleName)) {
                        Path file = paths.get(name);
                        String stem = file.getFileName().toString().replaceFirst("\\.npy$", "");
                        Path sibling = file.resolveSibling(stem + "_scale.npy");
                        if (!Files.isRegularFile(sibling)) {
                            throw CliException.usage(op + ": input " + a.name() + " holds " + a.dtype().elementType()
                                    + " codes; give their per-row scales with --in " + scaleName
                                    + "=FILE.npy (<f4, one per row; " + sibling + " does not exist)");
                        }
                        arrays.put(scaleName, read(op, scaleName, sibling));
                    }
                } else if (arrays.containsKey(scaleName)) {
                    throw CliException.usage(op + ": " + scaleName + " is given but " + a.name() + " is "
                            + a.dtype().elementType() + "; scales belong to I8/I16 inputs only");
                }
            }
            case INDICES -> {
                if (a.dtype() != NpyDtype.I32 && a.dtype() != NpyDtype.I64) {
                    throw CliException.usage(op + ": input " + a.name() + " is " + a.dtype() + " but " + name
                            + " must be " + kindText(input));
                }
                if (a.shape().length > 1) {
                    throw CliException.usage(op + ": input " + a.name() + " has shape "
                            + Arrays.toString(a.shape()) + " but " + name + " must have one dimension");
                }
            }
            default -> {
                if (a.dtype() != NpyDtype.U8 || a.shape().length > 1) {
                    throw CliException.usage(op + ": input " + a.name() + " is " + a.dtype() + " "
                            + Arrays.toString(a.shape()) + " but " + name + " must be a " + kindText(input));
                }
            }
        }
    }

    /** The parameters given, checked and normalized, plus the defaults of those not given. */
    private static Map<String, String> params(Op op, List<String> specs, Map<String, NpyArray> arrays)
            throws CliException {
        List<Arg> sigParams = paramsOf(op);
        Map<String, String> given = new LinkedHashMap<>();
        for (String spec : specs) {
            int eq = spec.indexOf('=');
            if (eq <= 0) {
                throw CliException.usage(op + ": --param expects KEY=VALUE, got '" + spec + "'");
            }
            String key = spec.substring(0, eq);
            if (sigParams.stream().noneMatch(p -> p.name().equals(key))) {
                throw CliException.usage(op + ": unknown parameter '" + key + "' (" + op
                        + (sigParams.isEmpty() ? " takes no parameters)"
                        : " takes " + String.join(", ", sigParams.stream().map(Arg::name).toList()) + ")"));
            }
            if (given.put(key, spec.substring(eq + 1)) != null) {
                throw CliException.usage(op + ": parameter " + key + " is given twice");
            }
        }
        Properties givenProps = new Properties();
        given.forEach(givenProps::setProperty);
        Map<String, Long> sizes = GoldenCase.sizes(op, arrays, givenProps);
        Map<String, String> params = new LinkedHashMap<>();
        for (Arg p : sigParams) {
            String value = given.get(p.name());
            if (value == null) {
                value = p.defaultValue() != null ? p.defaultValue()
                        : p.derived() != null ? p.derived().value().apply(sizes) : null;
            }
            if (value == null) {
                if (p.optional()) {
                    continue;
                }
                throw CliException.usage(op + ": missing parameter " + p.name() + " (--param " + p.name() + "=...; "
                        + p.brief() + ": " + p.description() + ")");
            }
            params.put(p.name(), checkParam(op, p, value));
        }
        if (op == Op.PAGE_MIN_MAX && params.containsKey("appendFrom")) {
            long rows = arrays.get("K").rows();
            if (Long.parseLong(params.get("appendFrom")) > rows) {
                throw CliException.usage(op + ": parameter appendFrom=" + params.get("appendFrom") + " exceeds K's "
                        + rows + " rows");
            }
        }
        return params;
    }

    /**
     * The op's parameters, plus {@code type}: the element type of its float outputs (quantize: I8|I16; convert:
     * any), for ops whose outputs the caller allocates (gather copies X's type, topK's values are F32).
     */
    private static List<Arg> paramsOf(Op op) {
        OpDescriptor sig = op.descriptor();
        List<Arg> out = new ArrayList<>(sig.params());
        boolean callerTyped = op != Op.GATHER
                && sig.outputs().stream().anyMatch(a -> a.role() == Role.OUTPUT && !a.optional());
        if (callerTyped) {
            Set<ElementType> types = sig.outputTypes();
            String byDefault = types.equals(Capabilities.FLOAT_TYPES) ? "F32"
                    : types.size() == ElementType.values().length ? null : types.iterator().next().name();
            out.add(new Arg("type", Role.PARAM, List.of(), false, "element type of " + (types.equals(
                    Capabilities.FLOAT_TYPES) ? "the float outputs" : String.join(", ", outputFiles(sig))), null,
                    null, null, OpDescriptor.ParamKind.CHOICE, byDefault, 0,
                    types.stream().map(ElementType::name).toList(), null, false));
        }
        return out;
    }

    private static String checkParam(Op op, Arg p, String value) throws CliException {
        String where = op + ": parameter " + p.name() + "=" + value;
        switch (p.kind()) {
            case INT -> {
                long v;
                try {
                    v = Long.parseLong(value.strip());
                } catch (NumberFormatException e) {
                    throw CliException.usage(where + " is not an integer");
                }
                if (v < p.min() || v > Integer.MAX_VALUE) {
                    throw CliException.usage(where + " is out of range: it must be in [" + p.min() + ", "
                            + Integer.MAX_VALUE + "]");
                }
                return Long.toString(v);
            }
            case FLOAT -> {
                try {
                    return Float.toString(Float.parseFloat(value.strip()));
                } catch (NumberFormatException e) {
                    throw CliException.usage(where + " is not a number");
                }
            }
            case CHOICE -> {
                String v = value.strip().toUpperCase(Locale.ROOT);
                if (!p.choices().contains(v)) {
                    throw CliException.usage(where + " is not one of " + String.join(", ", p.choices()));
                }
                return v;
            }
        }
        throw new IllegalStateException("unhandled parameter kind " + p.kind());
    }

    private static String opMessage(Op op, RuntimeException e) {
        String message = String.valueOf(e.getMessage());
        String prefix = op.contractName() + ": ";
        return op + ": " + (message.startsWith(prefix) ? message.substring(prefix.length()) : message);
    }

    // ---- writing ----

    /**
     * The --out folder, created if missing, after checking that every output file of the op (and the scales of a
     * quantized output) can be written there.
     */
    private static Path outputFolder(Op op, String outDir) throws CliException {
        Path dir;
        try {
            dir = Path.of(outDir);
        } catch (InvalidPathException e) {
            throw CliException.usage(op + ": --out " + outDir + " is not a valid path: " + e.getReason(), e);
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw CliException.usage(op + ": cannot create the --out folder " + dir + ": "
                    + (e instanceof FileAlreadyExistsException ? "a file of that name exists" : e.toString()), e);
        }
        for (String name : outputFiles(op.descriptor())) {
            for (String file : List.of(name + ".npy", name + "_scale.npy")) {
                try {
                    AtomicFile.checkWritable(dir.resolve(file));
                } catch (IOException e) {
                    throw CliException.usage(op + ": --out: " + e.getMessage(), e);
                }
            }
        }
        return dir;
    }

    private static List<String> write(Op op, GoldenCase.Outputs result, Map<String, NpyArray> inputs, Path dir)
            throws CliException {
        List<String> written = new ArrayList<>();
        for (Arg o : op.descriptor().outputs()) {
            String name = GoldenCase.fileName(o.name());
            Tensor t = result.tensors().get(name);
            int[] ints = result.ints().get(name);
            if (t != null) {
                NpyArray array = NpyArray.of(name, t);
                if (o.likeInput() != null) {
                    array = array.reshape(inputs.get(o.likeInput()).shape());
                } else if (o.vector() || (t.rows() == 1 && rowsFromVector(op, o, inputs))) {
                    array = array.reshape(t.cols());
                }
                written.add(save(op, dir, name, array));
                if (t.type().isQuantized()) {
                    written.add(save(op, dir, name + "_scale", NpyArray.scalesOf(name + "_scale", t)));
                }
            } else if (ints != null) {
                NpyArray array = o.role() == Role.BITMAP_OUTPUT ? bitmap(name, ints) : NpyArray.ofInts(name, ints);
                written.add(save(op, dir, name, array));
            } else {
                throw new IllegalStateException("the op's invoker produced no output '" + name + "' for " + op
                        + "; it produced " + result.tensors().keySet() + " " + result.ints().keySet());
            }
        }
        return written;
    }

    /**
     * Whether the rows of output {@code o} are those of an input given as a 1-D array (a row batch of one query,
     * {@code questBound}'s {@code q[d]}, {@code topK}'s {@code s[n]}): such an output is written 1-D as well.
     */
    private static boolean rowsFromVector(Op op, Arg o, Map<String, NpyArray> inputs) {
        String rows = o.rows().symbol();
        return rows != null && op.descriptor().inputs().stream().anyMatch(a -> rows.equals(a.rows().symbol())
                && inputs.containsKey(a.name()) && inputs.get(a.name()).shape().length <= 1);
    }

    private static NpyArray bitmap(String name, int[] bits) {
        byte[] bytes = new byte[bits.length];
        for (int i = 0; i < bits.length; i++) {
            bytes[i] = (byte) bits[i];
        }
        return new NpyArray(name, NpyDtype.U8, new long[] {bytes.length}, bytes);
    }

    private static String save(Op op, Path dir, String name, NpyArray array) throws CliException {
        Path file = dir.resolve(name + ".npy");
        try {
            Npy.write(file, array);
        } catch (IOException e) {
            // AtomicFile names the file and the reason, and left no partial file behind
            throw CliException.failed(op + ": " + e.getMessage());
        }
        long[] shape = array.shape();
        String shapeText = shape.length == 1 ? "(" + shape[0] + ",)" : "(" + shape[0] + ", " + shape[1] + ")";
        return file + "  " + array.dtype() + " " + shapeText;
    }

    // ---- listing ----

    /** The {@code --list} text: every op by step, with its signature, inputs, parameters and files. */
    static String list() {
        StringBuilder s = new StringBuilder("ops of the contract (docs/SPEC.md); run one with mempipe op NAME "
                + "--in NAME=FILE.npy ... --out DIR\n");
        Step step = null;
        for (Op op : Op.values()) {
            if (op.step() != step) {
                step = op.step();
                s.append('\n').append(stepTitle(step)).append('\n');
            }
            s.append(describe(op, false));
        }
        return s.toString();
    }

    private static String describe(Op op, boolean detailed) {
        OpDescriptor sig = op.descriptor();
        StringBuilder s = new StringBuilder();
        String indent = " ".repeat(20);
        s.append(String.format("  %-17s %s%n", op.contractName(), sig.signature()));
        if (detailed) {
            s.append(indent).append("step: ").append(stepTitle(op.step())).append('\n');
            for (Arg i : sig.inputs()) {
                s.append(indent).append("--in ").append(i.name()).append("=FILE  ").append(i.description())
                        .append(i.optional() ? " (optional)" : "").append("; ").append(kindText(i)).append('\n');
            }
            for (Arg p : paramsOf(op)) {
                s.append(indent).append("--param ").append(p.brief()).append("  ").append(p.description())
                        .append('\n');
            }
        } else {
            s.append(indent).append("inputs: ").append(String.join(", ", sig.inputs().stream()
                    .map(i -> i.name() + " (" + (i.role() == Role.TENSOR ? "tensor"
                            : i.role().name().toLowerCase(Locale.ROOT)) + (i.optional() ? ", optional" : "") + ")")
                    .toList())).append('\n');
            List<Arg> params = paramsOf(op);
            if (!params.isEmpty()) {
                s.append(indent).append("params: ").append(String.join(", ", params.stream().map(Arg::brief).toList()))
                        .append('\n');
            }
        }
        s.append(indent).append("writes: ").append(String.join(", ", outputFiles(sig).stream()
                .map(n -> n + ".npy").toList())).append('\n');
        return s.toString();
    }

    private static String stepTitle(Step step) {
        return switch (step) {
            case PREPARE -> "Stage 1, Prepare Memory";
            case RELEVANCY -> "Stage 2, Compute Relevancy";
            case RETRIEVAL -> "Stage 3, Retrieval";
            case APPLY -> "Stage 4, Apply to Inference";
        };
    }
}
