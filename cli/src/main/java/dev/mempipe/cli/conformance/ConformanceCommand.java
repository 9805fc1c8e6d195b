package dev.mempipe.cli.conformance;

import dev.mempipe.cli.Args;
import dev.mempipe.cli.BackendChoice;
import dev.mempipe.cli.CliException;
import dev.mempipe.cli.Command;
import dev.mempipe.goldentests.PropertyHarness;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.BackendProvider;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherFactory;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request;

/**
 * {@code mempipe conformance [--backend NAME] [--scale N]}: runs the conformance kit's contracts against a
 * backend through the JUnit Platform Launcher, exactly as a backend's own test suite would, and prints
 * passed/failed/skipped per contract with every failure's message. Exit code 1 when anything failed.
 */
public final class ConformanceCommand implements Command {
    private static final Args.Spec SPEC = new Args.Spec().value("--backend").value("--scale").value("--seed")
            .value("--contract");

    /** The contracts, by the name {@code --contract} uses, in pipeline order. */
    private static final Map<String, Class<?>> CONTRACTS = new LinkedHashMap<>();

    static {
        CONTRACTS.put("prepare", ConformanceContracts.Prepare.class);
        CONTRACTS.put("relevancy", ConformanceContracts.Relevancy.class);
        CONTRACTS.put("retrieval", ConformanceContracts.Retrieval.class);
        CONTRACTS.put("apply", ConformanceContracts.Apply.class);
        CONTRACTS.put("device", ConformanceContracts.Device.class);
        CONTRACTS.put("edges", ConformanceContracts.HardwareEdges.class);
        CONTRACTS.put("concurrency", ConformanceContracts.Concurrency.class);
        CONTRACTS.put("lifecycle", ConformanceContracts.Lifecycle.class);
        CONTRACTS.put("golden", ConformanceContracts.GoldenCases.class);
    }

    /** How many distinct skip reasons are printed per contract; the rest are counted. */
    private static final int MAX_REASONS = 8;

    @Override
    public String name() {
        return "conformance";
    }

    @Override
    public String summary() {
        return "run the conformance kit (every op against the scalar oracle and the golden cases) on a backend";
    }

    @Override
    public String help() {
        return """
                usage: mempipe conformance [--backend NAME] [--scale N] [--seed S] [--contract LIST]

                Runs the conformance kit against a backend: PrepareContract, RelevancyContract, RetrievalContract,
                ApplyContract (seeded random cases compared with the scalar oracle within SPEC.md's bounds, plus
                properties and the bad-input contract), DeviceContract (fused ops, residency, limits),
                HardwareEdgeContract (positions past 2^16 and 2^24, accumulator widths, extreme codes),
                ConcurrencyContract (calls from several threads, confined memory), LifecycleContract (ops after
                close) and GoldenCasesContract (the checked-in NumPy cases).
                Prints passed/failed/skipped per contract and each failure's message (with its seed); ops or
                element types the backend does not declare are skipped, with the reason.

                options:
                  --backend NAME   the backend under test (default: the automatic choice, as -Dmempipe.backend)
                  --scale N        N times the random trials, sqrt(N) times the shapes (default 1, seconds per
                                   contract; a lab's nightly run might use 10 to 100)
                  --seed S         the kit's base seed (a number, or 'random'); default fixed, so runs repeat
                  --contract LIST  some of prepare,relevancy,retrieval,apply,device,edges,concurrency,lifecycle,
                                   golden (default: all)

                exit code: 0 when nothing failed, 1 when a test failed, 2 for bad usage or an unavailable backend.

                examples:
                  mempipe conformance
                  mempipe conformance --backend cpu-simd --scale 10
                  mempipe conformance --contract golden,retrieval
                """;
    }

    @Override
    public int run(List<String> tokens, PrintStream out, PrintStream err) throws CliException {
        Args args = Args.parse("mempipe conformance", SPEC, tokens);
        if (!args.positionals().isEmpty()) {
            throw CliException.usage("unexpected argument " + args.positionals().getFirst()
                    + " (see mempipe conformance --help)");
        }
        List<String> chosen = contracts(args.value("--contract"));
        Integer scale = scale(args.value("--scale"));
        // The kit reads its knobs once, from system properties, when its harness class is first used.
        if (scale != null) {
            System.setProperty(PropertyHarness.SCALE_PROPERTY, Integer.toString(scale));
        }
        if (args.value("--seed") != null) {
            System.setProperty(PropertyHarness.SEED_PROPERTY, args.value("--seed"));
        }
        BackendProvider provider = BackendChoice.provider(args.value("--backend"));
        int effectiveScale;
        long seed;
        try {
            effectiveScale = PropertyHarness.scale();
            seed = PropertyHarness.baseSeed();
        } catch (ExceptionInInitializerError e) {
            throw CliException.usage("bad --seed or --scale: " + (e.getCause() == null ? e : e.getCause().getMessage()));
        }
        if (scale != null && effectiveScale != scale) {
            err.println("mempipe conformance: warning: --scale " + scale + " cannot take effect, the kit was already "
                    + "initialized with scale " + effectiveScale + " in this JVM");
        }

        String description;
        try (Backend probe = provider.create()) {
            description = probe.description();
        } catch (IllegalStateException e) {
            throw CliException.usage("backend " + provider.name() + " cannot start: " + e.getMessage(), e);
        }
        out.println("conformance of " + description + " (kit scale " + effectiveScale + ", seed " + seed + ")");

        List<Result> results = new ArrayList<>();
        ConformanceTarget.use(provider);
        PrintStream stdout = System.out;
        try {
            // the kit prints its seed line with System.out; keep it on the stream this command was given
            System.setOut(out);
            for (String name : chosen) {
                results.add(launch(name, CONTRACTS.get(name)));
            }
        } finally {
            System.setOut(stdout);
            ConformanceTarget.closeAll();
        }

        int failed = 0;
        int ran = 0;
        out.println();
        for (Result r : results) {
            out.printf(Locale.ROOT, "%-10s %-20s passed %4d  failed %4d  skipped %4d%n", r.name,
                    r.contract.getSuperclass().getSimpleName(), r.passed, r.failures.size(), r.skipped);
            failed += r.failures.size();
            ran += r.passed + r.failures.size();
            int shown = 0;
            for (Map.Entry<String, Integer> reason : r.skipReasons.entrySet()) {
                if (shown++ == MAX_REASONS) {
                    out.println("           ... and " + (r.skipReasons.size() - MAX_REASONS) + " more skip reasons");
                    break;
                }
                out.println("           skipped " + reason.getValue() + "x: " + reason.getKey());
            }
        }
        for (Result r : results) {
            for (String f : r.failures) {
                out.println();
                out.println("FAILED " + r.name + ": " + f.replace("\n", "\n  "));
            }
        }
        out.println();
        if (ran == 0 && failed == 0) {
            out.println("no test ran (is the JUnit Jupiter engine on the class path?)");
            return CliException.FAILED;
        }
        if (failed == 0) {
            out.println("conformance: all passed");
        } else {
            // the kit's own "rerun:" lines are Maven commands for a backend's test suite; this is the CLI's
            String contracts = String.join(",", results.stream().filter(r -> !r.failures.isEmpty())
                    .map(r -> r.name).toList());
            out.println("conformance: " + failed + " failed; rerun with: mempipe conformance --backend "
                    + provider.name() + " --contract " + contracts + " --seed " + seed
                    + (effectiveScale == 1 ? "" : " --scale " + effectiveScale));
        }
        return failed == 0 ? 0 : CliException.FAILED;
    }

    private static List<String> contracts(String list) throws CliException {
        if (list == null || list.equals("all")) {
            return List.copyOf(CONTRACTS.keySet());
        }
        Set<String> chosen = new LinkedHashSet<>();
        for (String part : list.split(",")) {
            String name = part.strip().toLowerCase(Locale.ROOT);
            if (!CONTRACTS.containsKey(name)) {
                throw CliException.usage("unknown contract '" + part.strip() + "' in --contract (choose from "
                        + String.join(",", CONTRACTS.keySet()) + " or all)");
            }
            chosen.add(name);
        }
        return List.copyOf(chosen);
    }

    private static Integer scale(String value) throws CliException {
        if (value == null) {
            return null;
        }
        try {
            int scale = Integer.parseInt(value.strip());
            if (scale >= 1) {
                return scale;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw CliException.usage("--scale must be an integer >= 1, got '" + value + "'");
    }

    /** What one contract class reported. */
    private static final class Result {
        final String name;
        final Class<?> contract;
        int passed;
        int skipped;
        final List<String> failures = new ArrayList<>();
        final Map<String, Integer> skipReasons = new LinkedHashMap<>();

        Result(String name, Class<?> contract) {
            this.name = name;
            this.contract = contract;
        }
    }

    private static Result launch(String name, Class<?> contract) {
        Result result = new Result(name, contract);
        Launcher launcher = LauncherFactory.create();
        launcher.execute(request().selectors(selectClass(contract)).build(), new TestExecutionListener() {
            private TestPlan plan;

            @Override
            public void testPlanExecutionStarted(TestPlan testPlan) {
                plan = testPlan;
            }

            @Override
            public void executionSkipped(TestIdentifier id, String reason) {
                result.skipped++;
                result.skipReasons.merge(CliException.oneLine(reason), 1, Integer::sum);
            }

            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult outcome) {
                Throwable error = outcome.getThrowable().orElse(null);
                switch (outcome.getStatus()) {
                    case SUCCESSFUL -> {
                        if (id.isTest()) {
                            result.passed++;
                        }
                    }
                    case ABORTED -> {
                        // an assumption: an op or element type the backend does not declare
                        result.skipped++;
                        String reason = error == null ? "aborted" : String.valueOf(error.getMessage());
                        result.skipReasons.merge(CliException.oneLine(reason.replaceFirst("^Assumption failed: ", "")),
                                1, Integer::sum);
                    }
                    case FAILED -> result.failures.add(label(plan, id) + ": " + describe(error));
                }
            }
        });
        return result;
    }

    /**
     * {@code method [display name]}: the method says which property, the display name which parameters or
     * golden case. Dynamic tests (the golden cases) carry no source of their own, so the method comes from the
     * nearest ancestor that has one.
     */
    private static String label(TestPlan plan, TestIdentifier id) {
        String display = id.getDisplayName();
        TestIdentifier at = id;
        while (at != null) {
            if (at.getSource().orElse(null) instanceof MethodSource m) {
                String method = m.getMethodName();
                return display.startsWith(method) ? method : method + " [" + display + "]";
            }
            at = plan == null ? null : plan.getParent(at).orElse(null);
        }
        return display;
    }

    private static String describe(Throwable error) {
        if (error == null) {
            return "failed without an exception";
        }
        String message = error.getMessage();
        // an assertion's message is the diagnosis; anything else is better named by its class
        return error instanceof AssertionError && message != null ? message.strip() : String.valueOf(error);
    }
}
