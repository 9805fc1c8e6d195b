package dev.mempipe.cli;

/**
 * A failure the command reports as one line on stderr, without a stack trace, and ends with its exit code:
 * {@link #USAGE} for bad usage or bad input (the user can fix it), {@link #FAILED} for a run that completed
 * but found failures or could not finish. Anything else that escapes a command is a bug and is reported
 * with its stack trace ({@link Main#INTERNAL_ERROR}).
 */
public final class CliException extends Exception {
    /** Bad usage or bad input: unknown option, missing file, wrong dtype, a contract violation. */
    public static final int USAGE = 2;
    /** The command ran and found failures (conformance) or could not finish (profile). */
    public static final int FAILED = 1;

    private final int exitCode;

    private CliException(int exitCode, String message, Throwable cause) {
        super(oneLine(message), cause);
        this.exitCode = exitCode;
    }

    /** Bad usage or bad input; exit code {@value #USAGE}. */
    public static CliException usage(String message) {
        return new CliException(USAGE, message, null);
    }

    /** Bad input detected by code below the command (an op's argument check, the .npy reader). */
    public static CliException usage(String message, Throwable cause) {
        return new CliException(USAGE, message, cause);
    }

    /** A completed run with failures, or one that could not finish; exit code {@value #FAILED}. */
    public static CliException failed(String message) {
        return new CliException(FAILED, message, null);
    }

    public int exitCode() {
        return exitCode;
    }

    /**
     * Collapses line breaks so that an error is always one line: scripts read the first line of stderr, and
     * messages from lower layers (the backend selection, the kit) sometimes span several.
     */
    public static String oneLine(String message) {
        return message == null ? "(no message)" : message.strip().replaceAll("\\s*\\R\\s*", "; ");
    }
}
