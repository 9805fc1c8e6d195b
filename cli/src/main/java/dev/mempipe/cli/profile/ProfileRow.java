package dev.mempipe.cli.profile;

import dev.mempipe.spi.Step;

import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * One workload at one context length: the four steps' costs per decode step, the whole decode step's time and
 * its memory-processing part, and how close the workload's answer is to dense attention.
 *
 * @param workload           the workload name as {@code --workload} writes it ({@code quest}, {@code dsa}, ...;
 *                           a dense-attention baseline row may use its own name)
 * @param contextLength      tokens of context
 * @param steps              the steps that ran (in pipeline order), with their costs; a step a workload does
 *                           not have is absent
 * @param decodeStepSeconds  one whole decode step: the memory processing plus the rest of the step
 *                           (projections, MLP)
 * @param memorySeconds      the memory-processing part of the decode step (the four steps, as the measurement
 *                           loop attributes them); the rest, {@code decodeStepSeconds - memorySeconds}, is
 *                           drawn as "other"
 * @param relativeError      relative L2 error of the attention output against dense attention; empty for dense
 *                           attention itself and for workloads with no dense reference
 * @param softmaxMassCovered fraction of dense attention's softmax mass on the selected tokens; empty as above
 * @param energy             the energy figure as the report shows it ({@code "1.23 J (rapl: package-0)"}), or
 *                           why there is none ({@code "unavailable (no readable RAPL counter)"})
 * @param figures            the workload's own figures with their basis (empty for most workloads)
 */
public record ProfileRow(String workload, int contextLength, Map<Step, StepStats> steps, double decodeStepSeconds,
                         double memorySeconds, OptionalDouble relativeError, OptionalDouble softmaxMassCovered,
                         String energy, List<ProfileFigure> figures) {

    public ProfileRow {
        Objects.requireNonNull(workload, "workload");
        Objects.requireNonNull(steps, "steps");
        Objects.requireNonNull(relativeError, "relativeError");
        Objects.requireNonNull(softmaxMassCovered, "softmaxMassCovered");
        Objects.requireNonNull(energy, "energy");
        if (contextLength < 0) {
            throw new IllegalArgumentException("contextLength must be >= 0, got " + contextLength);
        }
        steps = steps.isEmpty() ? Map.of() : Collections.unmodifiableMap(new EnumMap<>(steps));
        figures = List.copyOf(figures);
    }

    /** A row without figures of the workload's own. */
    public ProfileRow(String workload, int contextLength, Map<Step, StepStats> steps, double decodeStepSeconds,
                      double memorySeconds, OptionalDouble relativeError, OptionalDouble softmaxMassCovered,
                      String energy) {
        this(workload, contextLength, steps, decodeStepSeconds, memorySeconds, relativeError, softmaxMassCovered,
                energy, List.of());
    }

    /** The part of the decode step that is not memory processing (projections, MLP); never negative. */
    public double otherSeconds() {
        return Math.max(0, decodeStepSeconds - memorySeconds);
    }

    /** Memory processing as a fraction of the decode step; NaN when the decode step took no time. */
    public double memoryShare() {
        return decodeStepSeconds > 0 ? memorySeconds / decodeStepSeconds : Double.NaN;
    }

    /** Whether any step fell back from a device to the CPU. */
    public boolean anyFallback() {
        return steps.values().stream().anyMatch(StepStats::fellBack);
    }
}
