package dev.mempipe.core.placement;

import dev.mempipe.spi.Step;

import java.util.List;

/**
 * The steps of one pipeline run as the planner sees them, in pipeline order: data flows from each step to
 * the next. Usually the four steps; a workload whose memory is prepared once may leave Prepare out of the
 * per-query shape.
 *
 * @param steps distinct steps in {@link Step} order, at least one
 */
public record WorkloadShape(List<StepShape> steps) {
    public WorkloadShape {
        steps = List.copyOf(steps);
        if (steps.isEmpty()) {
            throw new IllegalArgumentException("a workload shape needs at least one step");
        }
        for (int i = 1; i < steps.size(); i++) {
            if (steps.get(i).step().ordinal() <= steps.get(i - 1).step().ordinal()) {
                throw new IllegalArgumentException("steps must be distinct and in pipeline order, got "
                        + steps.stream().map(StepShape::step).toList());
            }
        }
    }

    public static WorkloadShape of(StepShape... steps) {
        return new WorkloadShape(List.of(steps));
    }
}
