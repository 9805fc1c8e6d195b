package dev.mempipe.goldentests;

/**
 * TEMPORARY SHIM for the cli tests: the kit's golden-case comparisons ({@link GoldenChecks}) are
 * package-private, so this class, in the kit's package, passes them through. The op command's round-trip test
 * compares its outputs with exactly the kit's tolerances instead of a second copy of them. Delete once
 * {@code GoldenChecks} and its {@code check} method are public.
 */
public final class KitChecks {
    private KitChecks() {
    }

    /** {@link GoldenChecks#check}: fails with the kit's message when an output is outside its tolerance. */
    public static void check(GoldenCase golden, GoldenCase.Outputs got) {
        GoldenChecks.check(golden, got);
    }
}
