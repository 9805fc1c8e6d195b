package dev.mempipe.cli;

import dev.mempipe.cli.conformance.ConformanceCommand;
import dev.mempipe.cli.op.OpCommand;
import dev.mempipe.cli.plan.PlanCommand;
import dev.mempipe.cli.profile.ProfileCommand;
import dev.mempipe.cli.rag.RagCommand;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * The {@code mempipe} command: {@code profile}, {@code op}, {@code conformance}, {@code rag}, {@code plan}. {@link #run} does all
 * the work against the streams it is given and returns the exit code, so tests run the command in-process;
 * {@link #main} is the only place that touches {@link System#exit}.
 *
 * <p>Exit codes: 0 success; {@value CliException#FAILED} a run that found failures or could not finish;
 * {@value CliException#USAGE} bad usage or bad input, reported as one line on stderr;
 * {@value #INTERNAL_ERROR} an internal error (a bug), reported with its stack trace.
 */
public final class Main {
    /** Exit code of an unexpected exception: a bug in mempipe, so the stack trace is worth printing. */
    public static final int INTERNAL_ERROR = 3;

    private static final List<Command> COMMANDS = List.of(new ProfileCommand(), new OpCommand(),
            new ConformanceCommand(), new RagCommand(), new PlanCommand());

    private Main() {
    }

    public static void main(String[] args) {
        CliLogging.configure(System.err);
        int code = run(args, System.out, System.err);
        System.out.flush();
        System.err.flush();
        System.exit(code);
    }

    /**
     * Runs the command line {@code args}.
     *
     * @return the exit code
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        List<String> tokens = Arrays.asList(args);
        if (tokens.isEmpty()) {
            err.print(usage());
            return CliException.USAGE;
        }
        String first = tokens.getFirst();
        switch (first) {
            case "--help", "-h" -> {
                out.print(usage());
                return 0;
            }
            case "--version", "-V" -> {
                out.println("mempipe " + version() + " (Java " + Runtime.version() + ", "
                        + System.getProperty("java.vendor") + ")");
                return 0;
            }
            case "help" -> {
                return help(tokens.subList(1, tokens.size()), out, err);
            }
            default -> {
            }
        }
        Command command = find(first);
        if (command == null) {
            err.println("mempipe: " + (first.startsWith("-") ? "unknown option " : "unknown command ") + first
                    + " (commands: " + commandNames() + "; see mempipe --help)");
            return CliException.USAGE;
        }
        List<String> rest = tokens.subList(1, tokens.size());
        if (Args.wantsHelp(rest)) {
            out.print(command.help(rest));
            return 0;
        }
        try {
            return command.run(rest, out, err);
        } catch (CliException e) {
            err.println("mempipe " + command.name() + ": " + e.getMessage());
            return e.exitCode();
        } catch (RuntimeException | Error e) {
            err.println("mempipe " + command.name() + ": internal error (a bug in mempipe; please report it with "
                    + "the command line and this trace): " + e);
            e.printStackTrace(err);
            return INTERNAL_ERROR;
        }
    }

    private static int help(List<String> topics, PrintStream out, PrintStream err) {
        if (topics.isEmpty()) {
            out.print(usage());
            return 0;
        }
        Command command = find(topics.getFirst());
        if (command == null || topics.size() > 1) {
            err.println("mempipe help: " + (command == null ? "unknown command " + topics.getFirst()
                    : "expected one command, got " + topics) + " (commands: " + commandNames() + ")");
            return CliException.USAGE;
        }
        out.print(command.help());
        return 0;
    }

    private static Command find(String name) {
        return COMMANDS.stream().filter(c -> c.name().equals(name)).findFirst().orElse(null);
    }

    private static String commandNames() {
        return String.join(", ", COMMANDS.stream().map(Command::name).toList());
    }

    /** The top-level help text. */
    static String usage() {
        StringBuilder s = new StringBuilder();
        s.append("mempipe ").append(version()).append(": the LLM memory processing pipeline (Prepare Memory, ")
                .append("Compute Relevancy, Retrieval, Apply to Inference) on the JVM\n\n");
        s.append("usage: mempipe COMMAND [OPTIONS]\n");
        s.append("       mempipe help COMMAND  |  mempipe COMMAND --help  |  mempipe --version\n\n");
        s.append("commands:\n");
        for (Command c : COMMANDS) {
            s.append(String.format("  %-12s %s%n", c.name(), c.summary()));
        }
        s.append("""

                logging: one line per warning on stderr; -Dmempipe.log=info (or debug) shows more, libraries included

                exit codes: 0 success; 1 the run found failures or could not finish; 2 bad usage or bad input
                (one line on stderr); 3 internal error (a bug: the stack trace is printed)

                examples:
                  ./mempipe profile --workload quest,dsa --context 4k,16k --out report
                  ./mempipe op dot --in Q=q.npy --in M=m.npy --out result
                  ./mempipe op --list
                  ./mempipe conformance --backend cpu-simd
                  ./mempipe rag --docs notes/ --query "when is the report due?" --top 3
                """);
        return s.toString();
    }

    /** The project version, from a resource the build fills in (a jar manifest is absent in tests). */
    public static String version() {
        try (InputStream in = Main.class.getResourceAsStream("mempipe.properties")) {
            if (in == null) {
                return "(unknown version)";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "(unknown version)");
        } catch (IOException e) {
            return "(unknown version: " + e.getMessage() + ")";
        }
    }
}
