package dev.mempipe.spi;

import java.util.Objects;

/**
 * Whether a {@link BackendProvider} can create its backend on this machine, and if not, why, in words a user
 * can act on ({@code "libamdhip64.so not found on java.library.path or LD_LIBRARY_PATH"}).
 *
 * @param available whether {@link BackendProvider#create()} will succeed
 * @param reason    why not, or a short description of what was found when available
 */
public record Availability(boolean available, String reason) {

    public Availability {
        Objects.requireNonNull(reason, "reason");
    }

    public static Availability available(String description) {
        return new Availability(true, description);
    }

    public static Availability unavailable(String reason) {
        return new Availability(false, reason);
    }
}
