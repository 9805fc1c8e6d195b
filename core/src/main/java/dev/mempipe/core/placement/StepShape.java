package dev.mempipe.core.placement;

import dev.mempipe.core.profile.OpCost;
import dev.mempipe.spi.Step;

import java.util.List;
import java.util.Objects;

/**
 * What one pipeline step does, for the planner: its ops, the bytes it needs from the host each time it runs,
 * and the bytes it hands on.
 *
 * @param step           which step
 * @param ops            the ops it runs, in order (may be empty: a step with no device work, such as prompt
 *                       assembly, costs nothing anywhere)
 * @param hostInputBytes bytes of input that live in host memory and must reach the step's device (a query,
 *                       new tokens); 0 when everything it reads comes from the previous step or already
 *                       lives on the device (a memory prepared earlier)
 * @param outputBytes    bytes the step hands to the next step; for the last step, the result that returns to
 *                       the host
 * @param residentBytes  bytes the step's device must hold pinned (the memory it reads every time: keys, page
 *                       summaries, an index); a device with less {@link dev.mempipe.spi.Capabilities#deviceMemoryBytes()}
 *                       cannot take the step
 */
public record StepShape(Step step, List<OpWork> ops, long hostInputBytes, long outputBytes, long residentBytes) {
    public StepShape {
        Objects.requireNonNull(step, "step");
        ops = List.copyOf(ops);
        if (hostInputBytes < 0 || outputBytes < 0 || residentBytes < 0) {
            throw new IllegalArgumentException(step + ": byte counts must be >= 0, got hostInputBytes="
                    + hostInputBytes + ", outputBytes=" + outputBytes + ", residentBytes=" + residentBytes);
        }
    }

    public StepShape(Step step, List<OpWork> ops, long hostInputBytes, long outputBytes) {
        this(step, ops, hostInputBytes, outputBytes, 0);
    }

    /** This step, reading {@code bytes} of pinned memory on its device. */
    public StepShape withResidentBytes(long bytes) {
        return new StepShape(step, ops, hostInputBytes, outputBytes, bytes);
    }

    public static StepShape of(Step step, long hostInputBytes, long outputBytes, OpWork... ops) {
        return new StepShape(step, List.of(ops), hostInputBytes, outputBytes);
    }

    /** The summed cost of the step's ops. */
    public OpCost cost() {
        OpCost total = OpCost.ZERO;
        for (OpWork op : ops) {
            total = total.plus(op.cost());
        }
        return total;
    }
}
