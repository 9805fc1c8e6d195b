package dev.mempipe.core.placement;

import dev.mempipe.core.profile.OpCost;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Op;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * One op a step runs, with its cost and the element types of its tensor inputs: a device can take the step
 * only if it declares the op for every one of those types.
 *
 * @param op         the op
 * @param cost       its work, usually from {@link dev.mempipe.core.profile.OpCosts}
 * @param inputTypes element types of its tensor inputs; empty for ops without tensor inputs (bm25)
 */
public record OpWork(Op op, OpCost cost, Set<ElementType> inputTypes) {
    public OpWork {
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(cost, "cost");
        inputTypes = inputTypes.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(inputTypes));
    }

    public static OpWork of(Op op, OpCost cost, ElementType... inputTypes) {
        return new OpWork(op, cost, Set.of(inputTypes));
    }

    /** Whether a backend with these capabilities runs this op on these input types. */
    public boolean supportedBy(Capabilities capabilities) {
        if (!capabilities.supports(op)) {
            return false;
        }
        for (ElementType type : inputTypes) {
            if (!capabilities.supports(op, type)) {
                return false;
            }
        }
        return true;
    }
}
