package dev.mempipe.goldentests;

/**
 * A property's failing case, as the report a hardware team reads: the op, the backend, the case seed, the
 * shapes and element types, the parameters, the first difference with both values and the allowed tolerance,
 * how far the case was shrunk, and a one-line command that reruns just this case.
 */
public final class Counterexample extends AssertionError {
    private static final long serialVersionUID = 1L;

    private final long seed;
    private final String rerun;

    Counterexample(String op, String backend, long seed, int trial, int trials, Trial.Outcome smallest,
                   Trial.Outcome original, String rerun) {
        super(message(op, backend, seed, trial, trials, smallest, original, rerun), smallest.failure());
        this.seed = seed;
        this.rerun = rerun;
    }

    /** The seed that reproduces the case ({@code -Dmempipe.kit.case=}). */
    public long seed() {
        return seed;
    }

    /** The one-line command that reruns just this case. */
    public String rerunCommand() {
        return rerun;
    }

    private static String message(String op, String backend, long seed, int trial, int trials, Trial.Outcome small,
                                  Trial.Outcome original, String rerun) {
        StringBuilder m = new StringBuilder();
        m.append(op).append(" on ").append(backend).append(": ").append(describe(small.failure()));
        m.append("\n  case:    seed=").append(seed).append(" (trial ").append(trial + 1).append(" of ").append(trials)
                .append(", base seed ").append(PropertyHarness.baseSeed()).append(", scale ")
                .append(PropertyHarness.scale()).append(')');
        m.append("\n  shapes:  ").append(small.shapes().isEmpty() ? "-" : small.shapes());
        if (!small.params().isEmpty()) {
            m.append("\n  params:  ").append(small.params());
        }
        if (small != original) {
            m.append("\n  shrunk:  rows halved ").append(small.rowShrink()).append("x, d halved ")
                    .append(small.colShrink()).append("x from ").append(original.shapes());
            if (!original.params().equals(small.params())) {
                m.append(" (").append(original.params()).append(')');
            }
            m.append("\n           which failed with: ").append(describe(original.failure()));
        }
        m.append("\n  rerun:   ").append(rerun);
        return m.toString();
    }

    private static String describe(Throwable failure) {
        if (failure instanceof AssertionError && failure.getMessage() != null) {
            return firstLine(failure.getMessage());
        }
        return "the call threw " + failure.getClass().getName()
                + (failure.getMessage() == null ? "" : ": " + firstLine(failure.getMessage()))
                + " on valid input";
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
