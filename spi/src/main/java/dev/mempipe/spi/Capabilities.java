package dev.mempipe.spi;

import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * What a backend declares it runs: for each op, the element types its tensor inputs may have. An op absent
 * from the declaration is not run by the backend at all; the engine places it elsewhere and the conformance
 * kit reports its tests as skipped, with this declaration as the reason.
 *
 * <p>Immutable.
 */
public final class Capabilities {
    private final Map<Op, Set<ElementType>> types;

    private Capabilities(Map<Op, Set<ElementType>> types) {
        this.types = types;
    }

    /** Every op with every element type (the reference backends). */
    public static Capabilities all() {
        Builder b = builder();
        for (Op op : Op.values()) {
            b.op(op, EnumSet.allOf(ElementType.class));
        }
        return b.build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public boolean supports(Op op) {
        return types.containsKey(op);
    }

    public boolean supports(Op op, ElementType type) {
        Set<ElementType> set = types.get(op);
        return set != null && set.contains(type);
    }

    /** The element types declared for {@code op}; empty when the op is not supported. */
    public Set<ElementType> types(Op op) {
        return types.getOrDefault(op, Collections.emptySet());
    }

    public Set<Op> ops() {
        return Collections.unmodifiableSet(types.keySet());
    }

    @Override
    public String toString() {
        return types.toString();
    }

    /** Collects op declarations. */
    public static final class Builder {
        private final EnumMap<Op, Set<ElementType>> types = new EnumMap<>(Op.class);

        private Builder() {
        }

        /** Declares {@code op} with the given input element types (replacing an earlier declaration). */
        public Builder op(Op op, Set<ElementType> elementTypes) {
            if (elementTypes.isEmpty()) {
                throw new IllegalArgumentException("op " + op + " declared with no element types");
            }
            types.put(op, Collections.unmodifiableSet(EnumSet.copyOf(elementTypes)));
            return this;
        }

        public Builder op(Op op, ElementType first, ElementType... rest) {
            return op(op, EnumSet.of(first, rest));
        }

        public Capabilities build() {
            return new Capabilities(Collections.unmodifiableMap(new EnumMap<>(types)));
        }
    }
}
