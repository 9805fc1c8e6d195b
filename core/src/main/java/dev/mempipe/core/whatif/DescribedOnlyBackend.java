package dev.mempipe.core.whatif;

import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.DeviceDescription;
import dev.mempipe.spi.PartialBackend;

/**
 * A device known only by its description, for the what-if planner: it declares the ops the real device runs
 * (so the planner's feasibility checks apply) and runs none of them (every op throws
 * {@link UnsupportedOperationException}). Immutable.
 */
final class DescribedOnlyBackend extends PartialBackend {
    private final DeviceDescription description;

    DescribedOnlyBackend(String name, Capabilities capabilities, DeviceDescription description) {
        super(name, capabilities);
        this.description = description;
    }

    @Override
    public String description() {
        return name() + " (described only: runs no op)";
    }

    @Override
    public DeviceDescription deviceDescription() {
        return description;
    }
}
