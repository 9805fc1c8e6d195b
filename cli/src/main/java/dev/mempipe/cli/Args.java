package dev.mempipe.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Hand-rolled GNU-style option parsing, small enough that the command needs no library: {@code --name value}
 * and {@code --name=value} for options with a value, {@code --name} for flags, {@code --} to end options;
 * everything else is a positional argument. Every mistake is a {@link CliException#usage} naming the option.
 *
 * <p>Immutable once parsed.
 */
public final class Args {
    private final Map<String, List<String>> values;
    private final Set<String> flags;
    private final List<String> positionals;

    private Args(Map<String, List<String>> values, Set<String> flags, List<String> positionals) {
        this.values = values;
        this.flags = flags;
        this.positionals = positionals;
    }

    /** The options a command accepts. Names are written with their dashes, e.g. {@code --out}. */
    public static final class Spec {
        private final Set<String> single = new LinkedHashSet<>();
        private final Set<String> repeatable = new LinkedHashSet<>();
        private final Set<String> flags = new LinkedHashSet<>();

        /** An option that takes one value and may be given once. */
        public Spec value(String name) {
            single.add(name);
            return this;
        }

        /** An option that takes one value and may be given several times ({@code --in A=a --in B=b}). */
        public Spec repeatable(String name) {
            repeatable.add(name);
            return this;
        }

        /** An option without a value. */
        public Spec flag(String name) {
            flags.add(name);
            return this;
        }

        private boolean takesValue(String name) {
            return single.contains(name) || repeatable.contains(name);
        }

        private boolean known(String name) {
            return takesValue(name) || flags.contains(name);
        }
    }

    /**
     * Parses {@code tokens} against {@code spec}.
     *
     * @param command names the command in messages, e.g. {@code mempipe op}
     * @throws CliException for an unknown option, a missing value, a value given to a flag, or an option
     *                      given twice that may be given once
     */
    public static Args parse(String command, Spec spec, List<String> tokens) throws CliException {
        Map<String, List<String>> values = new LinkedHashMap<>();
        Set<String> flags = new LinkedHashSet<>();
        List<String> positionals = new ArrayList<>();
        boolean optionsEnded = false;
        for (int i = 0; i < tokens.size(); i++) {
            String token = tokens.get(i);
            if (optionsEnded || !token.startsWith("-") || token.equals("-")) {
                positionals.add(token);
                continue;
            }
            if (token.equals("--")) {
                optionsEnded = true;
                continue;
            }
            int eq = token.indexOf('=');
            String name = eq < 0 ? token : token.substring(0, eq);
            if (!spec.known(name)) {
                throw CliException.usage("unknown option " + name + " (see " + command + " --help)");
            }
            if (!spec.takesValue(name)) {
                if (eq >= 0) {
                    throw CliException.usage("option " + name + " takes no value, got '" + token + "'");
                }
                flags.add(name);
                continue;
            }
            String value;
            if (eq >= 0) {
                value = token.substring(eq + 1);
            } else if (i + 1 < tokens.size()) {
                value = tokens.get(++i);
            } else {
                throw CliException.usage("option " + name + " needs a value");
            }
            List<String> list = values.computeIfAbsent(name, k -> new ArrayList<>());
            if (!list.isEmpty() && spec.single.contains(name)) {
                throw CliException.usage("option " + name + " is given twice ('" + list.getFirst() + "' and '"
                        + value + "')");
            }
            list.add(value);
        }
        return new Args(values, flags, List.copyOf(positionals));
    }

    /** The value of a single-valued option, or null when absent. */
    public String value(String name) {
        List<String> list = values.get(name);
        return list == null ? null : list.getFirst();
    }

    /** The value of a single-valued option, or {@code fallback} when absent. */
    public String value(String name, String fallback) {
        String v = value(name);
        return v == null ? fallback : v;
    }

    /** Every value of a repeatable option, in order; empty when absent. */
    public List<String> values(String name) {
        return values.getOrDefault(name, List.of());
    }

    public boolean flag(String name) {
        return flags.contains(name);
    }

    public List<String> positionals() {
        return positionals;
    }

    /** Whether {@code tokens} ask for help ({@code --help} or {@code -h} before any {@code --}). */
    public static boolean wantsHelp(List<String> tokens) {
        for (String t : tokens) {
            if (t.equals("--")) {
                return false;
            }
            if (t.equals("--help") || t.equals("-h")) {
                return true;
            }
        }
        return false;
    }
}
