package dev.mempipe.cli.profile;

import dev.mempipe.cli.Args;
import dev.mempipe.cli.CliException;
import dev.mempipe.cli.Command;
import dev.mempipe.core.model.Workload;
import dev.mempipe.spi.io.AtomicFile;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code mempipe profile}: runs each workload's four pipeline steps around a decode step of a model, at each
 * context length, and reports how much of the decode step the memory processing takes, step by step, with a
 * roofline of where each step sits on this machine. Writes {@code report.json} and a self-contained
 * {@code report.html} and prints the table.
 *
 * <p>This class owns the command line, the progress display and the reports; {@link #measure} owns the
 * measurement.
 */
public final class ProfileCommand implements Command {
    /** The context lengths of the default run, in tokens. */
    public static final List<Integer> DEFAULT_CONTEXTS = List.of(4 * 1024, 16 * 1024, 64 * 1024);
    /** The report folder of the default run. */
    public static final String DEFAULT_OUT = "mempipe-report";

    private static final Args.Spec SPEC = new Args.Spec().value("--workload").value("--context").value("--model")
            .value("--out").value("--backend").flag("--json-only");

    @Override
    public String name() {
        return "profile";
    }

    @Override
    public String summary() {
        return "time the four pipeline steps of each workload against a decode step; write report.json and .html";
    }

    @Override
    public String help() {
        return """
                usage: mempipe profile [--workload LIST] [--context LIST] [--model SIZE] [--out DIR]
                                       [--backend NAME] [--json-only]

                Runs each workload's memory processing pipeline (Prepare Memory, Compute Relevancy, Retrieval,
                Apply to Inference) inside a decode step of a model at each context length, and reports per step:
                time per decode step, bytes, FLOPs, arithmetic intensity, memory- or compute-bound, the device
                that ran it; per run: the memory share of the decode step, the error against dense attention
                and the softmax mass the selection covers, and energy where the machine has a counter.

                options:
                  --workload LIST  comma-separated, from quest, seer, dsa, bm25, dense, hmt, flare, dragin,
                                   memagent, titans, lact, or all (default all)
                                     quest  Quest / LServe page selection
                                     seer   SeerAttention-R block gate
                                     dsa    DeepSeek lightning indexer
                                     bm25   RAG, lexical
                                     dense  RAG, dense embeddings
                                     hmt    HMT compressed memory
                                     flare    FLARE dynamic RAG (context = documents)
                                     dragin   DRAGIN dynamic RAG (context = documents)
                                     memagent MemAgent memory rewrite (context = input tokens)
                                     titans   Titans neural memory (context = tokens written)
                                     lact     LaCT fast-weight MLP (context = tokens written)
                  --context LIST   context lengths in tokens, k = 1024 (default 4k,16k,64k)
                  --model SIZE     the decode model around the pipeline (default tiny):
                                     tiny    hidden 512, 8 query / 2 KV heads x 64, MLP 1536; the default run
                                             finishes in under 2 minutes on 2 cores
                                     small   hidden 2048, 16 query / 4 KV heads x 128, MLP 5632
                                     medium  hidden 4096, 32 query / 8 KV heads x 128, MLP 14336 (Llama-3-8B-class)
                  --out DIR        report folder (default ./mempipe-report): report.json and report.html
                  --backend NAME   the backend to run on (default: the automatic choice)
                  --json-only      write only report.json, and print it instead of the table

                Progress goes to stderr, the table (or JSON) to stdout.

                examples:
                  mempipe profile
                  mempipe profile --workload quest,dsa --context 4k,32k --model small --out report
                  mempipe profile --workload bm25 --json-only | jq '.rows[].memoryShare'
                """;
    }

    @Override
    public int run(List<String> tokens, PrintStream out, PrintStream err) throws CliException {
        ProfileOptions options = parse(tokens);
        checkOutputFolder(options);
        Progress progress = new Progress(err, Progress.detect(), options.runCount());
        ProfileRun run;
        try {
            run = measure(options, progress);
        } catch (UnsupportedOperationException e) {
            throw CliException.failed("cannot profile: " + e.getMessage());
        } finally {
            progress.done();
        }
        return report(run, options, out, err);
    }

    // =====================================================================================================
    // MEASUREMENT (filled in with the pipelines, the decode model and the measurement loop)
    // =====================================================================================================

    /**
     * Measures every workload of {@code options} at every context length and returns what the reports render.
     *
     * <p>Contract for the implementation: one {@link ProfileRow} per (workload, context length), in the order
     * of {@link ProfileOptions#workloads()} then {@link ProfileOptions#contextLengths()}, with
     * {@link ProfileRow#workload()} set to {@link Workload#id()} (an extra dense-attention baseline row
     * may be added under its own name); step times per decode step; {@code memorySeconds} the four steps'
     * part of the decode step and {@code decodeStepSeconds} the whole step including projections and MLP of
     * {@link ProfileOptions#model()}; the roofs measured or declared, with {@code roofSource} saying which.
     * Report progress with {@code progress.update(run, workload, contextLength, phase)}, {@code run} counting
     * from 1 to {@link ProfileOptions#runCount()}, and warnings with {@code progress.note}. Use the backend
     * {@link ProfileOptions#backend()} names (null: the automatic choice; {@code BackendChoice.open} turns an
     * unavailable one into a usage error). Throw {@link CliException} for bad usage or an unavailable
     * backend; the default run must finish in under two minutes on two cores.
     *
     * <p>The work is core's {@code WorkloadProfiler}; {@link ProfileMeasurement} maps its results to rows.
     */
    public ProfileRun measure(ProfileOptions options, Progress progress) throws CliException {
        return ProfileMeasurement.run(options, progress);
    }

    // =====================================================================================================

    /**
     * Writes the report files and prints the table (or, with {@code --json-only}, the JSON) on {@code out};
     * where the files went goes to {@code err}, so that stdout holds only the results.
     */
    static int report(ProfileRun run, ProfileOptions options, PrintStream out, PrintStream err) throws CliException {
        List<Path> written;
        try {
            written = ProfileReportWriter.write(run, options.out(), options.jsonOnly());
        } catch (IOException e) {
            throw CliException.failed("cannot write the report to " + options.out() + ": " + e);
        }
        if (options.jsonOnly()) {
            out.print(ProfileReportWriter.json(run));
        } else {
            out.print(ProfileTable.render(run));
        }
        err.println("report: " + String.join(", ", written.stream().map(Path::toString).toList()));
        return 0;
    }

    /** The options of a {@code mempipe profile} command line. */
    static ProfileOptions parse(List<String> tokens) throws CliException {
        Args args = Args.parse("mempipe profile", SPEC, tokens);
        if (!args.positionals().isEmpty()) {
            throw CliException.usage("unexpected argument " + args.positionals().getFirst()
                    + " (see mempipe profile --help)");
        }
        List<Workload> workloads = workloads(args.value("--workload", "all"));
        List<Integer> contexts = args.value("--context") == null ? DEFAULT_CONTEXTS : contexts(args.value("--context"));
        String modelName = args.value("--model", ModelSize.TINY.cliName());
        ModelSize model = ModelSize.byName(modelName);
        if (model == null) {
            throw CliException.usage("unknown --model '" + modelName + "' (choose from "
                    + String.join(", ", Arrays.stream(ModelSize.values()).map(ModelSize::cliName).toList()) + ")");
        }
        String backend = args.value("--backend");
        if (backend != null && backend.isBlank()) {
            throw CliException.usage("--backend needs a name");
        }
        String outValue = args.value("--out", DEFAULT_OUT);
        Path out;
        try {
            out = Path.of(outValue);
        } catch (InvalidPathException e) {
            throw CliException.usage("--out " + outValue + " is not a valid path: " + e.getReason(), e);
        }
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw CliException.usage("--out " + out + " is a file, not a folder");
        }
        return new ProfileOptions(workloads, contexts, model, out, backend, args.flag("--json-only"));
    }

    /**
     * The report folder, created if missing, once the report files are known to be writable there: checked before
     * the measurement, so that a bad --out fails at once instead of after a minute of profiling.
     */
    static void checkOutputFolder(ProfileOptions options) throws CliException {
        Path out = options.out();
        try {
            Files.createDirectories(out);
            AtomicFile.checkWritable(out.resolve("report.json"));
            if (!options.jsonOnly()) {
                AtomicFile.checkWritable(out.resolve("report.html"));
            }
        } catch (IOException e) {
            throw CliException.usage("--out: " + e.getMessage(), e);
        }
    }

    private static List<Workload> workloads(String list) throws CliException {
        Set<Workload> chosen = new LinkedHashSet<>();
        for (String part : list.split(",", -1)) {
            String name = part.strip();
            if (name.equalsIgnoreCase("all")) {
                chosen.addAll(Workload.paperWorkloads());
                continue;
            }
            Workload w = paperWorkload(name);
            if (w == null) {
                throw CliException.usage("unknown workload '" + name + "' in --workload (choose from "
                        + String.join(", ", Workload.paperWorkloads().stream().map(Workload::id).toList())
                        + ", or all)");
            }
            chosen.add(w);
        }
        return new ArrayList<>(chosen);
    }

    /** The workload of the op contract's table named {@code name} (its id, any case), or null. */
    private static Workload paperWorkload(String name) {
        return Workload.paperWorkloads().stream().filter(w -> w.id().equalsIgnoreCase(name)).findFirst().orElse(null);
    }

    private static List<Integer> contexts(String list) throws CliException {
        Set<Integer> chosen = new LinkedHashSet<>();
        for (String part : list.split(",", -1)) {
            chosen.add(contextLength(part.strip()));
        }
        return new ArrayList<>(chosen);
    }

    /** {@code 4k} as 4096 (k = 1024 tokens), {@code 3000} as 3000; at least 1 token. */
    static int contextLength(String text) throws CliException {
        String t = text.toLowerCase(Locale.ROOT);
        long factor = 1;
        if (t.endsWith("k")) {
            factor = 1024;
            t = t.substring(0, t.length() - 1);
        }
        try {
            long value = Math.multiplyExact(Long.parseLong(t), factor);
            if (value >= 1 && value <= Integer.MAX_VALUE) {
                return (int) value;
            }
        } catch (NumberFormatException | ArithmeticException e) {
            // reported below
        }
        throw CliException.usage("--context: '" + text + "' is not a context length (tokens >= 1, k = 1024: "
                + "4k, 16k, 64k, or a number such as 3000)");
    }
}
