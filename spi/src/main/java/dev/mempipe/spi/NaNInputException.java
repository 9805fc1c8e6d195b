package dev.mempipe.spi;

/** An op that rejects NaN (topK, threshold) found one; {@link #position()} says where. */
public final class NaNInputException extends IllegalArgumentException {
    private final String argument;
    private final long position;

    public NaNInputException(String argument, long position) {
        super("argument '" + argument + "' holds NaN at position " + position
                + "; scores must not be NaN (check the op that produced them)");
        this.argument = argument;
        this.position = position;
    }

    /** The name of the argument that held NaN, as in the op contract (for example {@code s}). */
    public String argument() {
        return argument;
    }

    /** The first position (row-major element index) that holds NaN. */
    public long position() {
        return position;
    }
}
