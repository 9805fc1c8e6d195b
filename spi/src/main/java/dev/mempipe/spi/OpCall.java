package dev.mempipe.spi;

/**
 * The arguments of one op call by SPEC.md name, as a file-based caller holds them (a golden case, the
 * {@code mempipe op} command): what an {@link OpDescriptor.Invoker} reads its inputs from and hands its
 * outputs to. The caller allocates everything, in memory it owns.
 */
public interface OpCall {
    /** The op being called. */
    Op op();

    /** Whether input or parameter {@code name} is given. */
    boolean has(String name);

    Tensor tensor(String name);

    Indices indices(String name);

    Bitmap bitmap(String name);

    /** A parameter as text (its default when not given); null when absent and without default. */
    String param(String name);

    default int intParam(String name) {
        return Integer.parseInt(required(name));
    }

    default float floatParam(String name) {
        return Float.parseFloat(required(name));
    }

    private String required(String name) {
        String v = param(name);
        if (v == null) {
            throw new IllegalStateException("parameter '" + name + "' is not given");
        }
        return v;
    }

    /** The element type the caller wants output {@code name} written in. */
    ElementType outputType(String name);

    /** A new tensor output {@code name} of {@link #outputType} and the shape its descriptor gives. */
    Tensor output(String name);

    /** A new tensor (an output whose shape follows from the inputs in a way of its own). */
    Tensor allocate(ElementType type, long rows, int cols);

    Indices allocateIndices(int length);

    Bitmap allocateBitmap(long bits);

    /**
     * A BM25 index over documents {@code offsets}/{@code tokens} built by the reference implementation, so
     * that a scoring op is tested alone.
     */
    Bm25Index referenceIndex(String offsets, String tokens);

    /** Hands over tensor output {@code name}. */
    void result(String name, Tensor value);

    /** Hands over index (or 0/1 bitmap) output {@code name}. */
    void result(String name, int[] values);
}
