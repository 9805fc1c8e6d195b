package dev.mempipe.core.placement;

import dev.mempipe.core.profile.OpCost;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Limits;
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
 * @param sizes      the sizes a device's {@link Limits} are checked against ({@link Sizes#UNKNOWN}: none checked)
 */
public record OpWork(Op op, OpCost cost, Set<ElementType> inputTypes, Sizes sizes) {

    /**
     * The sizes of one run of the op, as {@link Limits} name them; 0 where a size does not apply or is unknown.
     *
     * @param cols      longest row an input or output has
     * @param rows      most rows an input has
     * @param k         the top-k's k
     * @param maxTermId largest BM25 term id
     */
    public record Sizes(long cols, long rows, long k, long maxTermId) {
        public static final Sizes UNKNOWN = new Sizes(0, 0, 0, 0);

        /** The first limit these sizes exceed, in words, or null when they fit. */
        public String exceeded(Limits limits) {
            if (cols > limits.maxCols()) {
                return "rows of " + cols + " > maxCols " + limits.maxCols();
            }
            if (rows > limits.maxRows()) {
                return rows + " rows > maxRows " + limits.maxRows();
            }
            if (k > limits.maxK()) {
                return "k " + k + " > maxK " + limits.maxK();
            }
            if (maxTermId > limits.maxTermId()) {
                return "term id " + maxTermId + " > maxTermId " + limits.maxTermId();
            }
            return null;
        }
    }

    public OpWork {
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(cost, "cost");
        Objects.requireNonNull(sizes, "sizes");
        inputTypes = inputTypes.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(inputTypes));
    }

    public OpWork(Op op, OpCost cost, Set<ElementType> inputTypes) {
        this(op, cost, inputTypes, Sizes.UNKNOWN);
    }

    public static OpWork of(Op op, OpCost cost, ElementType... inputTypes) {
        return new OpWork(op, cost, Set.of(inputTypes));
    }

    /** This op with its sizes, so that a device whose limits they exceed is not chosen for it. */
    public OpWork withSizes(long cols, long rows, long k, long maxTermId) {
        return new OpWork(op, cost, inputTypes, new Sizes(cols, rows, k, maxTermId));
    }

    /** Whether a backend with these capabilities runs this op on these input types at these sizes. */
    public boolean supportedBy(Capabilities capabilities) {
        if (!capabilities.supports(op) || sizes.exceeded(capabilities.limits(op)) != null) {
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
