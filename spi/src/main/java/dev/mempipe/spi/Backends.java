package dev.mempipe.spi;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Finds the backend to use, once: every {@link BackendProvider} on the class path is asked whether it is
 * available; the available one of highest priority wins, and one log line records the choice and every
 * skipped provider with its reason, for example
 * {@code backend=cpu-simd(256-bit, fma, 2 threads); skipped hip: libamdhip64.so not found}.
 *
 * <p>{@code -Dmempipe.backend=NAME} asks for a specific backend; if it is unavailable or unknown that is an
 * error listing every provider's reason, never a silent fallback. A provider that throws while probing is a
 * bug in that provider and propagates.
 *
 * <p>Thread-safe; the default backend is created lazily by the first caller and shared.
 */
public final class Backends {
    /** System property naming the backend to use instead of the automatic choice. */
    public static final String BACKEND_PROPERTY = "mempipe.backend";

    private static final System.Logger LOG = System.getLogger(Backends.class.getName());

    private Backends() {
    }

    /** The outcome of a selection: the chosen provider and the providers passed over, with reasons. */
    public record Selection(BackendProvider chosen, List<String> skipped) {
        /** The single line that {@link #select} logs. */
        public String logLine(Backend backend) {
            StringBuilder line = new StringBuilder("backend=").append(backend.description());
            if (!skipped.isEmpty()) {
                line.append("; skipped ").append(String.join("; ", skipped));
            }
            return line.toString();
        }
    }

    /** All providers on the class path, highest priority first. */
    public static List<BackendProvider> providers() {
        List<BackendProvider> all = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader()).forEach(all::add);
        all.sort(Comparator.comparingInt(BackendProvider::priority).reversed()
                .thenComparing(BackendProvider::name));
        return all;
    }

    /**
     * Chooses among {@code providers}: the named one if {@code requested} is non-null, else the available
     * one of highest priority.
     *
     * @throws IllegalStateException when the requested backend is unknown or unavailable, or when none is
     *                               available, listing every provider and its reason
     */
    public static Selection select(List<BackendProvider> providers, String requested) {
        List<String> reasons = new ArrayList<>();
        BackendProvider chosen = null;
        for (BackendProvider p : providers) {
            boolean wanted = requested == null || requested.equals(p.name());
            Availability a = p.availability();
            if (chosen == null && wanted && a.available()) {
                chosen = p;
            } else if (!a.available()) {
                reasons.add(p.name() + ": " + a.reason());
            } else if (!wanted) {
                reasons.add(p.name() + ": not requested (" + BACKEND_PROPERTY + "=" + requested + ")");
            } else {
                reasons.add(p.name() + ": lower priority than " + chosen.name());
            }
        }
        if (chosen == null) {
            String known = providers.stream().map(BackendProvider::name).toList().toString();
            throw new IllegalStateException((requested == null
                    ? "no mempipe backend is available"
                    : "backend '" + requested + "' (" + BACKEND_PROPERTY + ") is not available")
                    + "; providers " + known + (reasons.isEmpty() ? "" : "; reasons: " + String.join("; ", reasons)));
        }
        return new Selection(chosen, reasons);
    }

    /**
     * Creates a new backend as {@link #select} chooses it from the class path and the system property, and
     * logs the choice. The caller owns (and closes) the result.
     */
    public static Backend create() {
        Selection s = select(providers(), System.getProperty(BACKEND_PROPERTY));
        Backend backend = s.chosen().create();
        LOG.log(System.Logger.Level.INFO, s.logLine(backend));
        return backend;
    }

    /**
     * The process-wide default backend, created on first use and never closed.
     *
     * @throws IllegalStateException on every call, with {@link #create}'s message, when the choice failed (an
     *                               unavailable {@code -Dmempipe.backend}, or no backend at all)
     */
    public static Backend defaultBackend() {
        return Holder.get();
    }

    /** The choice, made once; a failure is kept too, so that every caller gets its message (not a class-init error). */
    private static final class Holder {
        private static final Backend INSTANCE;
        private static final IllegalStateException FAILURE;

        static {
            Backend chosen = null;
            IllegalStateException failure = null;
            try {
                chosen = create();
            } catch (IllegalStateException e) {
                failure = e;
            }
            INSTANCE = chosen;
            FAILURE = failure;
        }

        static Backend get() {
            if (FAILURE != null) {
                throw new IllegalStateException(FAILURE.getMessage(), FAILURE);
            }
            return INSTANCE;
        }
    }
}
