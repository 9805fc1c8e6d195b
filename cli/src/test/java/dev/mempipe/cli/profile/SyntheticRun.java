package dev.mempipe.cli.profile;

import dev.mempipe.core.profile.Bound;
import dev.mempipe.spi.Step;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * A made-up {@link ProfileRun} for the report tests: numbers of a plausible shape, not measurements. It
 * includes the awkward cases: a step that fell back to the CPU, a step with no FLOPs (no place on log axes),
 * a dense-attention row without accuracy figures, and text that needs escaping.
 */
final class SyntheticRun {
    static final String MACHINE = "Test <CPU> & \"friends\", 2 cores";

    private SyntheticRun() {
    }

    static ProfileRun run() {
        List<ProfileRow> rows = new ArrayList<>();
        for (String workload : List.of("quest", "dsa")) {
            for (int context : List.of(4096, 16384)) {
                rows.add(row(workload, context, workload.equals("dsa") && context == 16384));
            }
        }
        Map<Step, StepStats> dense = new EnumMap<>(Step.class);
        dense.put(Step.APPLY, stats(900_000, 16384L * 256 * 4, 512, 16384L * 256 * 4, false));
        rows.add(new ProfileRow("dense-attention", 16384, dense, 0.0021, 0.0009, OptionalDouble.empty(),
                OptionalDouble.empty(), "unavailable (no readable RAPL counter)"));
        return new ProfileRun(MACHINE, "cpu-simd(256-bit, 2 threads)", ModelSize.TINY.description(), 100e9, 20e9,
                "declared: synthetic test roofs", rows, "synthetic: no warm-up");
    }

    private static ProfileRow row(String workload, int context, boolean fallback) {
        Map<Step, StepStats> steps = new EnumMap<>(Step.class);
        long keys = (long) context * 128 * 2;
        steps.put(Step.PREPARE, stats(20_000 + context, keys, keys / 16, 0, false)); // a copy: no FLOPs
        steps.put(Step.RELEVANCY, stats(40L * context, keys / 16, context / 4, keys / 8, false));
        steps.put(Step.RETRIEVAL, stats(10L * context, context, 256, context, fallback));
        steps.put(Step.APPLY, stats(150_000, 2048L * 256 * 4, 512, 2048L * 256 * 4, false));
        double memory = steps.values().stream().mapToLong(StepStats::wallNanos).sum() / 1e9;
        return new ProfileRow(workload, context, steps, memory + 0.0012, memory,
                OptionalDouble.of(1.5e-3 * context / 4096), OptionalDouble.of(0.97), "0.012 J (rapl: package-0)");
    }

    private static StepStats stats(long nanos, long read, long written, long flops, boolean fellBack) {
        double intensity = read + written == 0 ? Double.NaN : (double) flops / (read + written);
        return new StepStats(nanos, read, written, flops, intensity, Bound.of(flops == 0 ? Double.NaN : intensity, 5),
                "cpu-simd", fellBack);
    }
}
