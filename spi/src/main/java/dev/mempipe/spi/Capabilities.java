package dev.mempipe.spi;

import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What a backend declares it runs: for each op, the element types its tensor inputs may have, the element
 * types it writes, and the {@link Limits} of sizes it handles; for the device, how many bytes it can hold
 * ({@link #deviceMemoryBytes()}). An op absent from the declaration is not run by the backend at all; the
 * engine places it elsewhere and the conformance kit reports its tests as skipped, with this declaration as
 * the reason. A call beyond the declaration fails before writing ({@link OpArgs}).
 *
 * <p>One line for a partial backend:
 * {@code Capabilities.builder().ops(EnumSet.of(Op.DOT, Op.TOP_K), EnumSet.of(ElementType.F32)).build()}.
 *
 * <p>Immutable.
 */
public final class Capabilities {
    /** What a float-output op writes unless declared otherwise: the three float types. */
    public static final Set<ElementType> FLOAT_TYPES = Collections.unmodifiableSet(
            EnumSet.of(ElementType.F32, ElementType.F16, ElementType.BF16));

    /** One op's declaration. */
    public record OpDeclaration(Set<ElementType> inputs, Set<ElementType> outputs, Limits limits) {
        public OpDeclaration {
            if (inputs.isEmpty()) {
                throw new IllegalArgumentException("an op needs at least one input element type");
            }
            if (outputs.isEmpty()) {
                throw new IllegalArgumentException("an op needs at least one output element type");
            }
            inputs = Collections.unmodifiableSet(EnumSet.copyOf(inputs));
            outputs = Collections.unmodifiableSet(EnumSet.copyOf(outputs));
            Objects.requireNonNull(limits, "limits");
        }
    }

    private final Map<Op, OpDeclaration> ops;
    private final long deviceMemoryBytes;

    private Capabilities(Map<Op, OpDeclaration> ops, long deviceMemoryBytes) {
        this.ops = ops;
        this.deviceMemoryBytes = deviceMemoryBytes;
    }

    /** Every op with every element type and no limits (the reference backends). */
    public static Capabilities all() {
        return builder().ops(EnumSet.allOf(Op.class), EnumSet.allOf(ElementType.class)).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public boolean supports(Op op) {
        return ops.containsKey(op);
    }

    public boolean supports(Op op, ElementType type) {
        OpDeclaration d = ops.get(op);
        return d != null && d.inputs().contains(type);
    }

    /** Whether {@code op} may write an output of {@code type}. */
    public boolean writes(Op op, ElementType type) {
        OpDeclaration d = ops.get(op);
        return d != null && d.outputs().contains(type);
    }

    /** The input element types declared for {@code op}; empty when the op is not supported. */
    public Set<ElementType> types(Op op) {
        OpDeclaration d = ops.get(op);
        return d == null ? Collections.emptySet() : d.inputs();
    }

    /** The output element types declared for {@code op}; empty when the op is not supported. */
    public Set<ElementType> outputTypes(Op op) {
        OpDeclaration d = ops.get(op);
        return d == null ? Collections.emptySet() : d.outputs();
    }

    /** The size limits of {@code op}; {@link Limits#NONE} when none were declared (or the op is not supported). */
    public Limits limits(Op op) {
        OpDeclaration d = ops.get(op);
        return d == null ? Limits.NONE : d.limits();
    }

    /** Bytes the device can hold for pinned data and an op's working set; {@code Long.MAX_VALUE} for the host. */
    public long deviceMemoryBytes() {
        return deviceMemoryBytes;
    }

    public Set<Op> ops() {
        return Collections.unmodifiableSet(ops.keySet());
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("{");
        ops.forEach((op, d) -> {
            b.append(b.length() == 1 ? "" : ", ").append(op).append('=').append(d.inputs());
            if (!d.outputs().equals(defaultOutputs(op, d.inputs()))) {
                b.append("->").append(d.outputs());
            }
            if (!d.limits().equals(Limits.NONE)) {
                b.append(" (").append(d.limits()).append(')');
            }
        });
        b.append('}');
        if (deviceMemoryBytes != Long.MAX_VALUE) {
            b.append(" memory ").append(deviceMemoryBytes).append(" B");
        }
        return b.toString();
    }

    /** Outputs an op may write unless declared otherwise: what its descriptor says the contract allows. */
    static Set<ElementType> defaultOutputs(Op op, Set<ElementType> inputs) {
        return op.descriptor().outputTypes();
    }

    /** Collects op declarations. */
    public static final class Builder {
        private final EnumMap<Op, OpDeclaration> ops = new EnumMap<>(Op.class);
        private long deviceMemoryBytes = Long.MAX_VALUE;

        private Builder() {
        }

        /**
         * Declares {@code op} with the given input element types (replacing an earlier declaration), the output
         * types the contract allows for it (float types; quantize I8/I16; convert any) and no limits.
         */
        public Builder op(Op op, Set<ElementType> inputTypes) {
            if (inputTypes.isEmpty()) {
                throw new IllegalArgumentException("op " + op + " declared with no element types");
            }
            return op(op, inputTypes, defaultOutputs(op, inputTypes), Limits.NONE);
        }

        public Builder op(Op op, ElementType first, ElementType... rest) {
            return op(op, EnumSet.of(first, rest));
        }

        /** Declares {@code op} completely: input types, output types and size limits. */
        public Builder op(Op op, Set<ElementType> inputTypes, Set<ElementType> outputTypes, Limits limits) {
            Objects.requireNonNull(op, "op");
            if (inputTypes.isEmpty() || outputTypes.isEmpty()) {
                throw new IllegalArgumentException("op " + op + " declared with no " + (inputTypes.isEmpty()
                        ? "input" : "output") + " element types");
            }
            ops.put(op, new OpDeclaration(inputTypes, outputTypes, limits));
            return this;
        }

        /** Declares every op of {@code ops} with the same input types (see {@link #op(Op, Set)}). */
        public Builder ops(Set<Op> ops, Set<ElementType> inputTypes) {
            for (Op op : ops) {
                op(op, inputTypes);
            }
            return this;
        }

        /** Replaces the limits of an op declared before. */
        public Builder limits(Op op, Limits limits) {
            OpDeclaration d = ops.get(op);
            if (d == null) {
                throw new IllegalArgumentException("limits for undeclared op " + op + "; declare it first");
            }
            ops.put(op, new OpDeclaration(d.inputs(), d.outputs(), limits));
            return this;
        }

        /** Replaces the output types of an op declared before. */
        public Builder outputs(Op op, Set<ElementType> outputTypes) {
            OpDeclaration d = ops.get(op);
            if (d == null) {
                throw new IllegalArgumentException("outputs for undeclared op " + op + "; declare it first");
            }
            ops.put(op, new OpDeclaration(d.inputs(), outputTypes, d.limits()));
            return this;
        }

        /** Bytes the device holds (pinned tensors plus an op's working set). Default: unlimited (the host). */
        public Builder deviceMemoryBytes(long bytes) {
            if (bytes < 1) {
                throw new IllegalArgumentException("deviceMemoryBytes must be >= 1, got " + bytes);
            }
            this.deviceMemoryBytes = bytes;
            return this;
        }

        public Capabilities build() {
            return new Capabilities(Collections.unmodifiableMap(new EnumMap<>(ops)), deviceMemoryBytes);
        }
    }
}
