package dev.mempipe.core.memory;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The memories (or other resources) one owner made and closes together: {@link #close()} closes every one, the
 * last added first, even when one fails (the first failure is thrown, the others suppressed in it).
 *
 * <p>Not thread-safe: the owner adds and closes from one thread.
 */
public final class OwnedMemories implements AutoCloseable {
    private final List<AutoCloseable> owned = new ArrayList<>();

    /** Takes {@code memory} into this group and returns it. */
    public <T extends AutoCloseable> T add(T memory) {
        owned.add(Objects.requireNonNull(memory, "memory"));
        return memory;
    }

    /** Closes everything added, last first; the group is empty afterwards. */
    @Override
    public void close() {
        RuntimeException failure = null;
        for (int i = owned.size() - 1; i >= 0; i--) {
            AutoCloseable c = owned.get(i);
            try {
                c.close();
            } catch (Exception e) {
                RuntimeException r = e instanceof RuntimeException re ? re
                        : new IllegalStateException("closing " + c + " failed", e);
                if (failure == null) {
                    failure = r;
                } else {
                    failure.addSuppressed(r);
                }
            }
        }
        owned.clear();
        if (failure != null) {
            throw failure;
        }
    }
}
