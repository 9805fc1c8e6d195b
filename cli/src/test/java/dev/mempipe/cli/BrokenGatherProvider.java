package dev.mempipe.cli;

import dev.mempipe.goldentests.ForwardingBackend;
import dev.mempipe.goldentests.ScalarBackend;
import dev.mempipe.spi.Availability;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.BackendProvider;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.RetrievalOps;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;

/**
 * A test-only backend, registered through ServiceLoader from the test resources, that the conformance command
 * must fail: the scalar oracle, through the kit's {@link ForwardingBackend}, with a gather that copies row 0 for
 * every index. Its priority is far below the CPU backend's, so it is used only when asked for by name.
 */
public final class BrokenGatherProvider implements BackendProvider {
    public static final String NAME = "test-broken-gather";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return -1000;
    }

    @Override
    public Availability availability() {
        return Availability.available("test backend");
    }

    @Override
    public Backend create() {
        return new ForwardingBackend(NAME, new ScalarBackend()) {
            @Override
            public RetrievalOps retrieval() {
                return new Retrieval(super.retrieval()) {
                    @Override
                    public void gather(Tensor x, Indices idx, Tensor y) {
                        try (Arena arena = Arena.ofConfined()) {
                            delegate.gather(x, Indices.allocate(arena, idx.length()), y); // the bug: every index reads row 0
                        }
                    }
                };
            }
        };
    }
}
