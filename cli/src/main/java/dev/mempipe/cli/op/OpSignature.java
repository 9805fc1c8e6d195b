package dev.mempipe.cli.op;

import dev.mempipe.spi.Op;

import java.util.List;

/**
 * What {@code mempipe op NAME} takes and writes for one op: the named inputs, parameters and outputs of the
 * op's SPEC.md signature. Names are the contract's ({@code Q}, {@code M}, {@code S}, ...), with the output
 * {@code X'} written as {@code Xprime} as in the golden cases.
 *
 * @param op        the op
 * @param signature the signature as SPEC.md writes it, for {@code --list} and help
 * @param inputs    the .npy inputs, in contract order
 * @param params    the scalar parameters ({@code --param key=value})
 * @param outputs   the .npy files written, in contract order
 */
record OpSignature(Op op, String signature, List<Input> inputs, List<Param> params, List<Output> outputs) {

    /** What an input .npy file must hold. */
    enum InputKind {
        /** A float or integer-coded tensor; I8/I16 codes need a {@code <name>_scale} f32 array, one per row. */
        TENSOR("tensor: <f4, <f2, <u2 (BF16 bits), or |i1/<i2 codes with a NAME_scale <f4 array, one per row"),
        /** An index list: {@code <i4} or {@code <i8}, one dimension. */
        INDICES("indices: <i4 or <i8, one dimension"),
        /** A bitmap: {@code |u1} holding one 0 or 1 per element. */
        BITMAP("bitmap: |u1 with one 0/1 per element");

        final String description;

        InputKind(String description) {
            this.description = description;
        }
    }

    /** How an output is written. */
    enum OutputKind {
        /** A tensor of rank 2. */
        MATRIX,
        /** A tensor of one row, written with rank 1 ({@code s[n]}). */
        VECTOR,
        /** A tensor of the shape, rank included, of input {@code X}. */
        LIKE_INPUT,
        /** Ints as {@code <i4}, rank 1. */
        INDICES,
        /** One {@code |u1} 0/1 per element, rank 1. */
        BITMAP
    }

    enum ParamKind {
        INT, FLOAT, CHOICE
    }

    record Input(String name, InputKind kind, boolean optional, String description) {
    }

    /**
     * A scalar parameter.
     *
     * @param defaultValue the value used when the parameter is absent; null when it is required, or when
     *                     {@code optional} and absence has a meaning of its own
     * @param min          the smallest accepted value of an INT parameter
     * @param choices      the accepted values of a CHOICE parameter (upper case; matched ignoring case)
     * @param defaultNote  how an input-dependent default is derived, shown in help instead of a value
     */
    record Param(String name, ParamKind kind, String defaultValue, boolean optional, long min, List<String> choices,
                 String defaultNote, String description) {

        boolean required() {
            return defaultValue == null && !optional && defaultNote == null;
        }

        /** The parameter as {@code --list} shows it: {@code P (int >= 1)}, {@code idf (LUCENE|CLASSIC, default LUCENE)}. */
        String brief() {
            String what = switch (kind) {
                case INT -> "int >= " + min;
                case FLOAT -> "float";
                case CHOICE -> String.join("|", choices);
            };
            String tail = defaultValue != null ? ", default " + defaultValue
                    : defaultNote != null ? ", default " + defaultNote
                    : optional ? ", optional" : "";
            return name + " (" + what + tail + ")";
        }
    }

    record Output(String name, OutputKind kind) {
    }

    Input input(String name) {
        return inputs.stream().filter(i -> i.name().equals(name)).findFirst().orElse(null);
    }

    Param param(String name) {
        return params.stream().filter(p -> p.name().equals(name)).findFirst().orElse(null);
    }

    List<String> inputNames() {
        return inputs.stream().map(Input::name).toList();
    }

    List<String> paramNames() {
        return params.stream().map(Param::name).toList();
    }

    List<String> outputNames() {
        return outputs.stream().map(Output::name).toList();
    }
}
