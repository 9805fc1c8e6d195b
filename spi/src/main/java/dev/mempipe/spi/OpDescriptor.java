package dev.mempipe.spi;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * Everything the project knows about one op of the contract, in one place (each {@link Op} constant holds
 * its own): its name and step, its arguments in call order with their roles and SPEC.md shapes, its scalar
 * parameters with their defaults and lower bounds, the element types it writes, its cost formula and how to
 * call it on a backend from named arrays. Argument checking ({@link OpArgs}), cost accounting (core's
 * {@code OpCosts}), the {@code mempipe op} command and the conformance kit's golden-case runner all read it,
 * so adding an op is its constant here, its interface method, its SIMD and oracle implementations, its
 * contract test and its SPEC.md row.
 *
 * <p>Shapes use SPEC.md's names: a tensor is {@code [rows, cols]} ({@code q[d]} is {@code [1, d]}), or
 * {@code [L, Hkv, d]} stored as {@code [L, Hkv*d]}; an index list is {@code [k]}. Sizes named by a symbol are
 * bound by the first argument that has them and must agree in every later one. Immutable.
 */
public final class OpDescriptor {
    /** What an argument is. */
    public enum Role {
        /** A tensor input of any element type the backend declares (or {@link Arg#types()}). */
        TENSOR,
        /** An index list input ({@link Indices}). */
        INDICES,
        /** A bitmap input ({@link Bitmap}). */
        BITMAP,
        /** A scalar parameter. */
        PARAM,
        /** A tensor output, allocated by the caller with the exact shape. */
        OUTPUT,
        /** An index list output (the op returns how many entries it wrote). */
        INDEX_OUTPUT,
        /** A bitmap output. */
        BITMAP_OUTPUT;

        public boolean isInput() {
            return this == TENSOR || this == INDICES || this == BITMAP;
        }

        public boolean isOutput() {
            return this == OUTPUT || this == INDEX_OUTPUT || this == BITMAP_OUTPUT;
        }
    }

    /** The kind of a scalar parameter. */
    public enum ParamKind {
        INT, FLOAT, CHOICE
    }

    /**
     * One argument.
     *
     * @param name         SPEC.md's name, used in error messages, golden case files and {@code mempipe op}
     * @param role         what it is
     * @param dims         its shape (tensors: 2 or 3 dims; index lists: 1; parameters: none)
     * @param optional     whether it may be absent (null in the call)
     * @param description  one line for help texts
     * @param types        the element types a tensor input is restricted to beyond the backend's declaration;
     *                     null when any declared type goes
     * @param rowsOf       for an index list: the argument whose rows its entries number (each in
     *                     {@code [0, rows)}); null when unrestricted
     * @param likeInput    for an output: the input whose shape, rank included, it is written in by file-based
     *                     callers; null otherwise
     * @param kind         for a parameter: its kind
     * @param defaultValue for a parameter: its value when absent, as text; null when required or derived
     * @param min          for an INT parameter: the smallest accepted value
     * @param choices      for a CHOICE parameter: the accepted values (upper case)
     * @param derived      for a parameter whose default follows from the inputs' sizes: its text in help and
     *                     the function from bound sizes; null otherwise
     * @param inCall       false for an argument that only file-based callers have (the golden cases' and
     *                     {@code mempipe op}'s extra parameters and derived outputs), not the Java method
     * @param codes        for an I8 tensor input: its bytes are raw codes the op reads as they are, and its
     *                     scales are never read (file-based callers then need no {@code _scale} array)
     */
    public record Arg(String name, Role role, List<Dim> dims, boolean optional, String description,
                      Set<ElementType> types, String rowsOf, String likeInput, ParamKind kind, String defaultValue,
                      long min, List<String> choices, Derived derived, boolean inCall, boolean codes) {
        public Arg {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(role, "role");
            dims = List.copyOf(dims);
            choices = choices == null ? null : List.copyOf(choices);
        }

        /** Any argument but a tensor of raw codes. */
        public Arg(String name, Role role, List<Dim> dims, boolean optional, String description,
                   Set<ElementType> types, String rowsOf, String likeInput, ParamKind kind, String defaultValue,
                   long min, List<String> choices, Derived derived, boolean inCall) {
            this(name, role, dims, optional, description, types, rowsOf, likeInput, kind, defaultValue, min, choices,
                    derived, inCall, false);
        }

        /** Rows of the 2-D view: the first dim. */
        public Dim rows() {
            return dims.getFirst();
        }

        /** Whether the shape is {@code [L, Hkv, d]}, stored as {@code [L, Hkv*d]}. */
        public boolean threeD() {
            return dims.size() == 3;
        }

        /** Whether the first dim is the number 1 (a vector {@code s[n]}, written with rank 1 by files). */
        public boolean vector() {
            return role != Role.INDICES && role != Role.INDEX_OUTPUT && dims.size() == 2 && dims.getFirst()
                    .isLiteral(1);
        }

        /** The shape as SPEC.md writes it: {@code [m,d]}, {@code [d]} for a vector, {@code [L,Hkv,d]}. */
        public String shapeText() {
            if (dims.isEmpty()) {
                return "";
            }
            List<Dim> shown = vector() ? dims.subList(1, 2) : dims;
            return "[" + String.join(",", shown.stream().map(Dim::toString).toList()) + "]";
        }

        /** The parameter as help shows it: {@code P (int >= 1)}, {@code idf (LUCENE|CLASSIC, default LUCENE)}. */
        public String brief() {
            String what = switch (kind) {
                case INT -> "int >= " + min;
                case FLOAT -> "float";
                case CHOICE -> String.join("|", choices);
            };
            String tail = defaultValue != null ? ", default " + defaultValue
                    : derived != null ? ", default " + derived.text()
                    : optional ? ", optional" : "";
            return name + " (" + what + tail + ")";
        }

        /** Whether a file-based caller must give the parameter. */
        public boolean required() {
            return defaultValue == null && !optional && derived == null;
        }
    }

    /**
     * A parameter default computed from the inputs' sizes (attention's {@code Hkv} and {@code scale}).
     *
     * @param text  how help shows it ({@code 1/sqrt(d)})
     * @param value the value from the bound sizes, as text; null when they do not determine it
     */
    public record Derived(String text, Function<Map<String, Long>, String> value) {
    }

    /** Calls the op on a backend with the arguments a caller names ({@link OpCall}). */
    @FunctionalInterface
    public interface Invoker {
        void invoke(Backend backend, OpCall call);
    }

    private final Step step;
    private final String name;
    private final List<Arg> args;
    private final List<Arg> callArgs; // made once: every checked op call reads it
    private final Set<ElementType> outputTypes;
    private final Function<OpSizes, WorkCount> cost;
    private final Invoker invoker;

    private OpDescriptor(Builder b) {
        this.step = b.step;
        this.name = b.name;
        this.args = Collections.unmodifiableList(new ArrayList<>(b.args));
        this.callArgs = args.stream().filter(Arg::inCall).toList();
        this.outputTypes = Collections.unmodifiableSet(b.outputTypes);
        this.cost = Objects.requireNonNull(b.cost, () -> name + ": no cost formula");
        this.invoker = Objects.requireNonNull(b.invoker, () -> name + ": no invoker");
    }

    public static Builder builder(Step step, String name) {
        return new Builder(step, name);
    }

    public Step step() {
        return step;
    }

    /** The name used in SPEC.md, golden case files, error messages and the {@code mempipe op} command. */
    public String name() {
        return name;
    }

    /** Every argument, in call order (file-only ones where they read best). */
    public List<Arg> args() {
        return args;
    }

    /** The argument named {@code name}, or null. */
    public Arg arg(String argName) {
        for (Arg a : args) {
            if (a.name.equals(argName)) {
                return a;
            }
        }
        return null;
    }

    public List<Arg> inputs() {
        return args.stream().filter(a -> a.role.isInput()).toList();
    }

    public List<Arg> params() {
        return args.stream().filter(a -> a.role == Role.PARAM).toList();
    }

    public List<Arg> outputs() {
        return args.stream().filter(a -> a.role.isOutput()).toList();
    }

    /** The arguments of the Java method, in its order. */
    public List<Arg> callArgs() {
        return callArgs;
    }

    /** The element types the op may write to its tensor outputs (what a backend declares unless it says less). */
    public Set<ElementType> outputTypes() {
        return outputTypes;
    }

    /** The signature as SPEC.md writes it, made from the arguments: {@code Q[m,d], M[n,d] -> S[m,n]}. */
    public String signature() {
        List<String> in = new ArrayList<>();
        List<String> out = new ArrayList<>();
        for (Arg a : args) {
            if (a.role.isOutput()) {
                out.add(a.name + a.shapeText());
            } else if (a.role == Role.PARAM) {
                in.add(a.name + (a.choices != null && a.kind == ParamKind.CHOICE && a.defaultValue == null
                        ? "=" + String.join("/", a.choices) : a.defaultValue != null ? "=" + a.defaultValue : "")
                        + (a.optional ? " (optional)" : ""));
            } else {
                in.add(a.name + a.shapeText() + (a.optional ? " (optional)" : ""));
            }
        }
        return String.join(", ", in) + " -> " + String.join(", ", out);
    }

    /** The work of one call with the given sizes and element types (a model, not a measurement). */
    public WorkCount cost(OpSizes sizes) {
        return cost.apply(sizes);
    }

    /** Sizes to fill for {@link #cost}. */
    public OpSizes sizes() {
        return new OpSizes(this);
    }

    /** Runs the op on {@code backend} with the arguments {@code call} names. */
    public void invoke(Backend backend, OpCall call) {
        invoker.invoke(backend, call);
    }

    @Override
    public String toString() {
        return name;
    }

    /** Collects one op's description; {@link Op}'s constants are written with it. */
    public static final class Builder {
        private final Step step;
        private final String name;
        private final List<Arg> args = new ArrayList<>();
        private Set<ElementType> outputTypes = EnumSet.of(ElementType.F32, ElementType.F16, ElementType.BF16);
        private Function<OpSizes, WorkCount> cost;
        private Invoker invoker;

        private Builder(Step step, String name) {
            this.step = Objects.requireNonNull(step, "step");
            this.name = Objects.requireNonNull(name, "name");
        }

        /** A tensor input with SPEC.md's shape: {@code "m,d"}, {@code "1,d"} for a vector, {@code "L,Hkv,d"}. */
        public Builder tensor(String argName, String shape, String description) {
            return add(new Arg(argName, Role.TENSOR, dims(shape), false, description, null, null, null, null, null,
                    0, null, null, true));
        }

        /** A tensor input that may be null (absent). */
        public Builder optionalTensor(String argName, String shape, String description) {
            return add(new Arg(argName, Role.TENSOR, dims(shape), true, description, null, null, null, null, null,
                    0, null, null, true));
        }

        /** A tensor input restricted to {@code types} (dequantize reads I8/I16 only). */
        public Builder tensor(String argName, String shape, Set<ElementType> types, String description) {
            return add(new Arg(argName, Role.TENSOR, dims(shape), false, description, EnumSet.copyOf(types), null,
                    null, null, null, 0, null, null, true));
        }

        /**
         * An I8 tensor input of raw code bytes, read as the op defines (e.g. as unsigned codes); its scales are not
         * read.
         */
        public Builder codes(String argName, String shape, String description) {
            return add(new Arg(argName, Role.TENSOR, dims(shape), false, description, EnumSet.of(ElementType.I8), null,
                    null, null, null, 0, null, null, true, true));
        }

        /** An index list of {@code length} entries. */
        public Builder indices(String argName, String length, String description) {
            return add(new Arg(argName, Role.INDICES, dims(length), false, description, null, null, null, null,
                    null, 0, null, null, true));
        }

        /** An index list whose entries are row numbers of {@code rowsOf}, each in {@code [0, rows)}. */
        public Builder rowIndices(String argName, String length, String rowsOf, boolean optional,
                                  String description) {
            return add(new Arg(argName, Role.INDICES, dims(length), optional, description, null, rowsOf, null,
                    null, null, 0, null, null, true));
        }

        /** A bitmap input of {@code length} bits. */
        public Builder bitmap(String argName, String length, String description) {
            return add(new Arg(argName, Role.BITMAP, dims(length), false, description, null, null, null, null,
                    null, 0, null, null, true));
        }

        /** A bitmap input of {@code length} bits that may be null (absent). */
        public Builder optionalBitmap(String argName, String length, String description) {
            return add(new Arg(argName, Role.BITMAP, dims(length), true, description, null, null, null, null,
                    null, 0, null, null, true));
        }

        /** A required integer parameter of at least {@code min}; its value is also a size ({@code P}, {@code g}). */
        public Builder intParam(String argName, long min, String description) {
            return add(param(argName, ParamKind.INT, null, min, null, null, false, description, true));
        }

        /** An integer parameter with a default. */
        public Builder intParam(String argName, long min, String defaultValue, String description) {
            return add(param(argName, ParamKind.INT, defaultValue, min, null, null, false, description, true));
        }

        /** A float parameter; {@code defaultValue} null when required. */
        public Builder floatParam(String argName, String defaultValue, String description) {
            return add(param(argName, ParamKind.FLOAT, defaultValue, 0, null, null, false, description, true));
        }

        /** A parameter whose default follows from the inputs' sizes. */
        public Builder derivedParam(String argName, ParamKind kind, long min, Derived derived, String description) {
            return add(param(argName, kind, null, min, null, derived, false, description, true));
        }

        /** A choice among {@code choices}; {@code defaultValue} null when required. */
        public Builder choiceParam(String argName, String defaultValue, List<String> choices, String description) {
            return add(param(argName, ParamKind.CHOICE, defaultValue, 0, choices, null, false, description, true));
        }

        /**
         * A parameter that only file-based callers give (golden cases, {@code mempipe op}): its invoker maps
         * it to the call (pageMinMax's {@code appendFrom} runs the incremental path; bm25Score's {@code k1}).
         */
        public Builder fileParam(String argName, ParamKind kind, String defaultValue, boolean optional, long min,
                                 List<String> choices, String description) {
            return add(param(argName, kind, defaultValue, min, choices, null, optional, description, false));
        }

        /** A float tensor output. */
        public Builder output(String argName, String shape) {
            return add(new Arg(argName, Role.OUTPUT, dims(shape), false, null, null, null, null, null, null, 0,
                    null, null, true));
        }

        /** A tensor output that may be null (topK's values). */
        public Builder optionalOutput(String argName, String shape) {
            return add(new Arg(argName, Role.OUTPUT, dims(shape), true, null, null, null, null, null, null, 0,
                    null, null, true));
        }

        /** A tensor output of input {@code input}'s shape, which file-based callers write in its rank. */
        public Builder outputLike(String argName, String input) {
            Arg in = args.stream().filter(a -> a.name.equals(input)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException(name + ": no input " + input));
            return add(new Arg(argName, Role.OUTPUT, in.dims, false, null, null, null, input, null, null, 0, null,
                    null, true));
        }

        /** An index list output of {@code length} entries (at most). */
        public Builder indexOutput(String argName, String length) {
            return add(new Arg(argName, Role.INDEX_OUTPUT, dims(length), false, null, null, null, null, null, null,
                    0, null, null, true));
        }

        /** An index array only file-based callers see (bm25Index's arrays, the parts of its result). */
        public Builder fileIndexOutput(String argName, String length) {
            return add(new Arg(argName, Role.INDEX_OUTPUT, dims(length), false, null, null, null, null, null, null,
                    0, null, null, false));
        }

        /** A bitmap output of {@code length} bits. */
        public Builder bitmapOutput(String argName, String length) {
            return add(new Arg(argName, Role.BITMAP_OUTPUT, dims(length), false, null, null, null, null, null, null,
                    0, null, null, true));
        }

        /** The element types its tensor outputs may have (default: F32, F16, BF16). */
        public Builder outputTypes(Set<ElementType> types) {
            this.outputTypes = EnumSet.copyOf(types);
            return this;
        }

        /** The cost formula from sizes and element types. */
        public Builder cost(Function<OpSizes, WorkCount> formula) {
            this.cost = formula;
            return this;
        }

        /** How to call it from named arguments. */
        public Builder invoker(Invoker call) {
            this.invoker = call;
            return this;
        }

        public OpDescriptor build() {
            return new OpDescriptor(this);
        }

        private Builder add(Arg arg) {
            if (args.stream().anyMatch(a -> a.name.equals(arg.name))) {
                throw new IllegalArgumentException(name + ": argument " + arg.name + " declared twice");
            }
            args.add(arg);
            return this;
        }

        private static Arg param(String argName, ParamKind kind, String defaultValue, long min, List<String> choices,
                                 Derived derived, boolean optional, String description, boolean inCall) {
            return new Arg(argName, Role.PARAM, List.of(), optional, description, null, null, null, kind,
                    defaultValue, min, choices, derived, inCall);
        }

        private static List<Dim> dims(String shape) {
            List<Dim> out = new ArrayList<>();
            int depth = 0;
            int start = 0;
            for (int i = 0; i <= shape.length(); i++) {
                char c = i < shape.length() ? shape.charAt(i) : ',';
                if (c == '(') {
                    depth++;
                } else if (c == ')') {
                    depth--;
                } else if (c == ',' && depth == 0) {
                    out.add(Dim.of(shape.substring(start, i).strip()));
                    start = i + 1;
                }
            }
            return out;
        }
    }
}
