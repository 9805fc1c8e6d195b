package dev.mempipe.core.memory;

import java.util.Locale;

/**
 * An allocation refused by a {@link MemoryBudget} before anything was allocated; nothing changed. The message gives
 * what was asked, what is in use and the limit, in bytes and in binary units.
 */
public final class MemoryBudgetExceededException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    private final long requested;
    private final long used;
    private final long limit;

    MemoryBudgetExceededException(String what, long requested, long used, long limit) {
        super(what + " needs " + size(requested) + " but the memory budget has " + size(Math.max(0, limit - used))
                + " left: " + size(used) + " of " + size(limit) + " in use (-D" + MemoryBudget.PROPERTY
                + " sets the process-wide budget)");
        this.requested = requested;
        this.used = used;
        this.limit = limit;
    }

    /** Bytes asked for. */
    public long requested() {
        return requested;
    }

    /** Bytes in use when it was refused. */
    public long used() {
        return used;
    }

    /** The budget's limit in bytes. */
    public long limit() {
        return limit;
    }

    /** {@code 1610612736 B (1.50 GiB)}. */
    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%d B (%.2f %s)", bytes, v, units[u]);
    }
}
