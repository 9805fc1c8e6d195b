package dev.mempipe.hazelcast;

import java.io.Serial;

/**
 * A distributed query could not be answered within its timeout: members left and their partitions had not been
 * taken over yet, or partitions kept moving. Retrying later is safe; nothing was changed.
 */
public final class ShardsUnavailableException extends IllegalStateException {
    @Serial
    private static final long serialVersionUID = 1L;

    ShardsUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
