package dev.mempipe.spi;

import java.util.Set;

/** A tensor's element type is not one that the op (or the backend's capabilities) accepts for that argument. */
public final class UnsupportedElementTypeException extends IllegalArgumentException {
    private final Op op;
    private final ElementType type;

    public UnsupportedElementTypeException(Op op, String argument, ElementType type, Set<ElementType> supported) {
        super(op.contractName() + ": argument '" + argument + "' has element type " + type
                + ", which this op does not accept here; supported: " + supported);
        this.op = op;
        this.type = type;
    }

    public Op op() {
        return op;
    }

    public ElementType type() {
        return type;
    }
}
