package dev.mempipe.goldentests;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The bad-input contract of every op: the call throws the stated exception type, its message names the
 * argument, and no output is written. Outputs made by {@link Trial#output} and friends hold the sentinel
 * pattern; they are compared byte for byte (guards included) after the call.
 */
public final class BadInput {
    private BadInput() {
    }

    /** A call expected to be rejected. */
    @FunctionalInterface
    public interface Call {
        void run();
    }

    /**
     * Runs {@code call} and checks that it throws {@code type} (or a subclass) whose message names
     * {@code argument}, writing none of the trial's outputs.
     *
     * @return the exception, for further checks (a NaN's position)
     */
    public static <E extends RuntimeException> E expect(Trial trial, Class<E> type, String argument, String what,
                                                        Call call) {
        List<byte[]> before = trial.snapshotOutputs();
        RuntimeException thrown = null;
        try {
            call.run();
        } catch (RuntimeException e) {
            thrown = e;
        }
        if (thrown == null) {
            throw new AssertionError(what + ": expected " + type.getSimpleName() + " naming '" + argument
                    + "', but the call returned normally");
        }
        if (!type.isInstance(thrown)) {
            throw new AssertionError(what + ": expected " + type.getSimpleName() + " naming '" + argument
                    + "', got " + thrown.getClass().getName() + ": " + thrown.getMessage(), thrown);
        }
        String message = thrown.getMessage() == null ? "" : thrown.getMessage();
        if (!names(message, argument)) {
            throw new AssertionError(what + ": the " + type.getSimpleName() + " message must name the argument '"
                    + argument + "', got: " + message, thrown);
        }
        trial.verifyOutputsEqual(before, what + " was rejected, but only after writing");
        return type.cast(thrown);
    }

    /** Whether {@code message} names {@code argument} as a whole word (quoted or not). */
    static boolean names(String message, String argument) {
        return Pattern.compile("(^|[^A-Za-z0-9_])" + Pattern.quote(argument) + "($|[^A-Za-z0-9_])")
                .matcher(message).find();
    }
}
