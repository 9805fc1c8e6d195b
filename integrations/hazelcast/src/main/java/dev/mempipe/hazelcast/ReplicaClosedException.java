package dev.mempipe.hazelcast;

import java.io.Serial;

/** A query reached a member whose replica was closed (it is shutting down, or the memory was destroyed). */
final class ReplicaClosedException extends IllegalStateException {
    @Serial
    private static final long serialVersionUID = 1L;

    ReplicaClosedException() {
        super("this member's replica was closed: the member is shutting down or the memory was destroyed");
    }
}
