package dev.mempipe.cli;

import java.io.PrintStream;
import java.util.List;

/**
 * One subcommand of {@code mempipe}. Implementations write results to {@code out} and progress, notes and
 * warnings to {@code err}, so that stdout can be piped; they never call {@link System#exit}.
 */
public interface Command {

    /** The word that selects the command, e.g. {@code op}. */
    String name();

    /** One line for the command list of {@code mempipe --help}. */
    String summary();

    /** The full help text of {@code mempipe help NAME} and {@code mempipe NAME --help}, ending in a newline. */
    String help();

    /**
     * The help for {@code mempipe NAME ARGS --help}: by default {@link #help()}; a command may answer more
     * precisely, as {@code mempipe op dot --help} does for one op.
     */
    default String help(List<String> args) {
        return help();
    }

    /**
     * Runs the command.
     *
     * @param args the arguments after the command word ({@code --help} has been handled by {@link Main})
     * @return the exit code: 0, or {@link CliException#FAILED} for a completed run with failures
     * @throws CliException for bad usage or bad input, reported by {@link Main} as one line
     */
    int run(List<String> args, PrintStream out, PrintStream err) throws CliException;
}
