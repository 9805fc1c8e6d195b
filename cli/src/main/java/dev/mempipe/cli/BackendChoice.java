package dev.mempipe.cli;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.BackendProvider;
import dev.mempipe.spi.Backends;

/**
 * The backend a command runs on: the one named by {@code --backend}, else by {@code -Dmempipe.backend}, else
 * the automatic choice of {@link Backends}. Selection goes through {@link Backends#select} so that the rules
 * (an unavailable requested backend is an error listing every provider's reason, never a silent fallback)
 * are the library's; the command only turns that error into a one-line message.
 */
public final class BackendChoice {
    private BackendChoice() {
    }

    /**
     * The provider to use.
     *
     * @param requested the {@code --backend} value, or null for the system property or automatic choice
     * @throws CliException when the requested backend is unknown or unavailable, or none is available
     */
    public static BackendProvider provider(String requested) throws CliException {
        String name = requested != null ? requested : System.getProperty(Backends.BACKEND_PROPERTY);
        try {
            return Backends.select(Backends.providers(), name).chosen();
        } catch (IllegalStateException e) {
            throw CliException.usage(e.getMessage(), e);
        }
    }

    /** A new backend from {@link #provider}; the caller closes it. */
    public static Backend open(String requested) throws CliException {
        BackendProvider provider = provider(requested);
        try {
            return provider.create();
        } catch (IllegalStateException e) {
            throw CliException.usage("backend " + provider.name() + " cannot start: " + e.getMessage(), e);
        }
    }

    /** The names of the providers on the class path, for help texts. */
    public static String knownNames() {
        return String.join(", ", Backends.providers().stream().map(BackendProvider::name).toList());
    }
}
