package dev.mempipe.cli.conformance;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.BackendProvider;

import java.util.ArrayList;
import java.util.List;

/**
 * The backend the launched contracts test. JUnit instantiates the contract classes itself, so the choice made
 * on the command line reaches them through this holder; it is set before a launch and cleared after.
 *
 * <p>Thread-safe: the contract classes may run concurrently if JUnit is configured to.
 */
final class ConformanceTarget {
    private static BackendProvider provider;
    private static final List<Backend> created = new ArrayList<>();

    private ConformanceTarget() {
    }

    static synchronized void use(BackendProvider chosen) {
        provider = chosen;
    }

    /** A new backend from the chosen provider, remembered so that {@link #closeAll} releases it. */
    static synchronized Backend newBackend() {
        if (provider == null) {
            throw new IllegalStateException("no backend chosen: the conformance contracts run only from "
                    + "mempipe conformance");
        }
        Backend backend = provider.create();
        created.add(backend);
        return backend;
    }

    /**
     * Closes every backend created since {@link #use}, and forgets the provider. The contracts close their
     * backends themselves; this is a safety net, and closing twice is allowed.
     */
    static synchronized void closeAll() {
        for (Backend b : created) {
            b.close();
        }
        created.clear();
        provider = null;
    }
}
