package dev.mempipe.goldentests;

import dev.mempipe.spi.ElementType;
import org.opentest4j.TestAbortedException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.Locale;

/**
 * Runs one property over seeded random cases, shrinks a failing case and reports it as a
 * {@link Counterexample} that says how to rerun exactly that case. Plain JUnit, no property-testing library
 * (see BUILD-NOTES.md on jqwik).
 *
 * <p>Knobs, all system properties (surefire passes {@code -D} options of the Maven command line on):
 * <ul>
 *   <li>{@value #SEED_PROPERTY}: base seed, decimal or {@code 0x} hex; {@code random} draws one from the clock
 *       (printed by every contract class). Default {@link #DEFAULT_SEED}, so CI runs are repeatable.</li>
 *   <li>{@value #SCALE_PROPERTY}: integer {@code >= 1}, default 1. Trials grow linearly with it, shapes
 *       with its square root: 1 keeps a whole contract well under ten seconds, a hardware lab's nightly run
 *       might use 10 to 100.</li>
 *   <li>{@value #TRIALS_PROPERTY}: overrides the number of trials of every property.</li>
 *   <li>{@value #CASE_PROPERTY}: runs exactly one case, with this case seed, in every property that runs
 *       (printed by a counterexample's rerun command).</li>
 *   <li>{@value #TYPE_PROPERTY}: runs only the invocations of parameterized properties whose name holds this
 *       element type (e.g. {@code I8}); invocations that name another type are skipped, with the reason.</li>
 *   <li>{@value #SHRINK_PROPERTY}: {@code rows,cols} halvings to apply from the start (printed by a
 *       counterexample so that a rerun starts at the shrunk case).</li>
 * </ul>
 *
 * <p>Trial i of a property uses a seed mixed from the base seed, the property's method, its invocation name
 * (which names the element type of a parameterized property, so each type sees its own cases) and i; the
 * seeds do not depend on the backend, so every backend sees the same cases.
 * Thread-safety: stateless; properties may run concurrently.
 */
public final class PropertyHarness {
    public static final String SEED_PROPERTY = "mempipe.kit.seed";
    public static final String SCALE_PROPERTY = "mempipe.kit.scale";
    public static final String TRIALS_PROPERTY = "mempipe.kit.trials";
    public static final String SHRINK_PROPERTY = "mempipe.kit.shrink";
    public static final String CASE_PROPERTY = "mempipe.kit.case";
    public static final String TYPE_PROPERTY = "mempipe.kit.type";

    /** "mempipe" in ASCII: a fixed default keeps CI repeatable; pass {@code random} to explore. */
    public static final long DEFAULT_SEED = 0x6D656D70697065L;

    /** Shrink attempts after a failure: enough to halve a 4097-row, 4097-wide case down to one element. */
    private static final int MAX_SHRINK_ATTEMPTS = 28;

    private static final long BASE_SEED = parseSeed(System.getProperty(SEED_PROPERTY));
    private static final int SCALE = parsePositive(SCALE_PROPERTY, System.getProperty(SCALE_PROPERTY), 1);

    private PropertyHarness() {
    }

    /** One trial's body: build a case from {@code trial}, run the backend and the oracle, compare. */
    @FunctionalInterface
    public interface Body {
        void run(Trial trial) throws Exception;
    }

    /**
     * Where a property runs, for the rerun command: the concrete test class (the backend's subclass) and the
     * test method.
     */
    public record Target(Class<?> testClass, String method, String invocation) {
        /** What trial seeds are mixed from besides the base seed: never the backend. */
        String salt() {
            return method + "/" + invocation;
        }
    }

    public static long baseSeed() {
        return BASE_SEED;
    }

    public static int scale() {
        return SCALE;
    }

    /** Trials for a property whose default is {@code base}: {@code base * scale}, or the trials override. */
    public static int trials(int base) {
        String override = System.getProperty(TRIALS_PROPERTY);
        if (override != null && !override.isBlank()) {
            return parsePositive(TRIALS_PROPERTY, override, 1);
        }
        return Math.max(1, base * SCALE);
    }

    /** A size limit whose default is {@code base}: grows with the square root of the scale. */
    public static int size(int base) {
        return (int) Math.min(1 << 22, Math.round(base * Math.sqrt(SCALE)));
    }

    /**
     * The seed of trial {@code i} of the property identified by {@code salt} (method and invocation name): every
     * trial, the first included, and every element-type invocation get their own.
     */
    public static long caseSeed(String salt, int i) {
        return mix(BASE_SEED ^ mix(salt.hashCode()) + (i + 1L) * 0x9E3779B97F4A7C15L) >>> 1;
    }

    /** The element type an invocation name holds as a word ({@code "M I8"} holds I8), or null. */
    static ElementType typeOf(String invocation) {
        for (String word : invocation.split("[^A-Za-z0-9]+")) {
            for (ElementType t : ElementType.values()) {
                if (t.name().equals(word)) {
                    return t;
                }
            }
        }
        return null;
    }

    /**
     * Runs {@code body} for every trial; on the first failure shrinks it and throws a {@link Counterexample}.
     * An aborted assumption (a capability the backend does not declare) propagates as a skip.
     *
     * @param op      the op's contract name, for the report
     * @param backend the backend's description, for the report
     */
    public static void check(Target target, String op, String backend, int baseTrials, Body body) {
        String onlyType = System.getProperty(TYPE_PROPERTY);
        ElementType type = typeOf(target.invocation());
        if (onlyType != null && !onlyType.isBlank() && type != null && !type.name().equals(onlyType.trim())) {
            throw new TestAbortedException("skipped: -D" + TYPE_PROPERTY + "=" + onlyType.trim()
                    + " reruns only that element type's invocation, not '" + target.invocation() + "'");
        }
        String fixedCase = System.getProperty(CASE_PROPERTY);
        boolean rerun = fixedCase != null && !fixedCase.isBlank();
        int trials = rerun ? 1 : trials(baseTrials);
        int[] start = parseShrink(System.getProperty(SHRINK_PROPERTY));
        for (int i = 0; i < trials; i++) {
            long seed = rerun ? parseCase(fixedCase) : caseSeed(target.salt(), i);
            Trial.Outcome first = attempt(seed, start[0], start[1], body);
            if (first == null) {
                continue;
            }
            Trial.Outcome smallest = shrink(seed, first, body);
            throw new Counterexample(op, backend, seed, i, trials, smallest, first, rerunCommand(target, seed,
                    smallest));
        }
    }

    private static Trial.Outcome shrink(long seed, Trial.Outcome failed, Body body) {
        Trial.Outcome best = failed;
        int attempts = 0;
        boolean progress = true;
        while (progress && attempts < MAX_SHRINK_ATTEMPTS) {
            progress = false;
            if (best.rowsReducible() && attempts++ < MAX_SHRINK_ATTEMPTS) {
                Trial.Outcome o = attempt(seed, best.rowShrink() + 1, best.colShrink(), body);
                if (o != null) {
                    best = o;
                    progress = true;
                }
            }
            if (best.colsReducible() && attempts++ < MAX_SHRINK_ATTEMPTS) {
                Trial.Outcome o = attempt(seed, best.rowShrink(), best.colShrink() + 1, body);
                if (o != null) {
                    best = o;
                    progress = true;
                }
            }
        }
        return best;
    }

    /** Runs one case; null when it passes, its description and failure otherwise. */
    private static Trial.Outcome attempt(long seed, int rowShrink, int colShrink, Body body) {
        try (Trial trial = new Trial(seed, rowShrink, colShrink)) {
            try {
                body.run(trial);
                trial.verifyUntouched();
                return null;
            } catch (TestAbortedException skip) {
                throw skip;
            } catch (AssertionError | Exception e) {
                return trial.outcome(e);
            }
        }
    }

    /** The one-line Maven command that reruns just this case (module found from the test class's location). */
    static String rerunCommand(Target target, long seed, Trial.Outcome outcome) {
        Class<?> outer = target.testClass();
        while (outer.getEnclosingClass() != null) {
            outer = outer.getEnclosingClass();
        }
        StringBuilder cmd = new StringBuilder();
        Path[] module = moduleAndRoot(target.testClass());
        if (module != null) {
            boolean wrapper = Files.exists(module[1].resolve("mvnw"));
            cmd.append(wrapper ? "./mvnw" : "mvn");
            String relative = module[1].relativize(module[0]).toString();
            if (!relative.isEmpty()) {
                cmd.append(" -pl ").append(relative);
            }
        } else {
            cmd.append("mvn");
        }
        cmd.append(" test -Dtest='").append(outer.getSimpleName()).append('#').append(target.method()).append('\'')
                .append(" -D").append(CASE_PROPERTY).append('=').append(seed);
        ElementType type = typeOf(target.invocation());
        if (type != null) {
            cmd.append(" -D").append(TYPE_PROPERTY).append('=').append(type.name());
        }
        if (outcome.rowShrink() > 0 || outcome.colShrink() > 0) {
            cmd.append(" -D").append(SHRINK_PROPERTY).append('=').append(outcome.rowShrink()).append(',')
                    .append(outcome.colShrink());
        }
        if (SCALE != 1) {
            cmd.append(" -D").append(SCALE_PROPERTY).append('=').append(SCALE);
        }
        return cmd.toString();
    }

    /** {module dir, build root} for a class loaded from {@code <module>/target/test-classes}, else null. */
    private static Path[] moduleAndRoot(Class<?> testClass) {
        try {
            CodeSource source = testClass.getProtectionDomain().getCodeSource();
            if (source == null) {
                return null;
            }
            Path classes = Path.of(source.getLocation().toURI());
            Path target = classes.getParent();
            if (target == null || !target.getFileName().toString().equals("target")) {
                return null;
            }
            Path module = target.getParent();
            Path root = module;
            while (root.getParent() != null && Files.exists(root.getParent().resolve("pom.xml"))) {
                root = root.getParent();
            }
            return new Path[] {module, root};
        } catch (java.net.URISyntaxException | RuntimeException e) {
            return null; // a jar or an unusual class loader: fall back to a plain command
        }
    }

    static long parseSeed(String value) {
        if (value == null || value.isBlank()) {
            return DEFAULT_SEED;
        }
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("random")) {
            return mix(System.nanoTime() ^ System.currentTimeMillis() * 31) >>> 1;
        }
        try {
            return v.startsWith("0x") ? Long.parseUnsignedLong(v.substring(2), 16) : Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + SEED_PROPERTY + " must be a long, 0x-hex or 'random', got '"
                    + value + "'", e);
        }
    }

    private static long parseCase(String value) {
        try {
            String v = value.trim().toLowerCase(Locale.ROOT);
            return v.startsWith("0x") ? Long.parseUnsignedLong(v.substring(2), 16) : Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + CASE_PROPERTY + " must be a case seed (a long), got '" + value
                    + "'", e);
        }
    }

    private static int parsePositive(String property, String value, int fallback) {
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            int v = Integer.parseInt(value.trim());
            if (v >= 1) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("-D" + property + " must be an integer >= 1, got '" + value + "'");
    }

    private static int[] parseShrink(String value) {
        if (value == null || value.isBlank()) {
            return new int[] {0, 0};
        }
        String[] parts = value.split(",");
        try {
            if (parts.length == 2) {
                int r = Integer.parseInt(parts[0].trim());
                int c = Integer.parseInt(parts[1].trim());
                if (r >= 0 && c >= 0 && r < 31 && c < 31) {
                    return new int[] {r, c};
                }
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("-D" + SHRINK_PROPERTY + " must be 'rows,cols' halvings, e.g. 2,1; got '"
                + value + "'");
    }

    /** SplitMix64's finalizer: a bijection that spreads every input bit over the output. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
