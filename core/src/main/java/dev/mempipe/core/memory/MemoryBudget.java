package dev.mempipe.core.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A limit on the off-heap bytes that memories and stores hold, shared by everything given the same budget: an
 * allocation that would pass the limit is refused before anything is allocated, with a
 * {@link MemoryBudgetExceededException} that gives the numbers (what was asked, what is in use, the limit).
 *
 * <p>How memory is counted: memories allocate from an arena; an arena from {@link #arena()} counts every allocation
 * against this budget and gives it all back when closed. Memories that allocate several buffers first
 * {@link #claim} their whole size, so a memory too large for the budget is refused before its first buffer, not
 * halfway. The LangChain4j store counts its growth the same way. A search's scratch (its score rows and top-k
 * output) counts too, while the search runs: the exact embedding search {@link #reserve}s it from its engine's
 * budget before it allocates, and the reads of {@code CompressedMemory} and {@code Bm25Memory} take theirs from an
 * arena of the process-wide budget ({@link #shared()}). Bytes are the sizes asked for (alignment padding is not
 * counted).
 *
 * <p>One budget per process by default: {@link #shared()}, set with {@code -Dmempipe.memory.budget=SIZE}
 * ({@code 512m}, {@code 8g}, or bytes; unlimited when unset), is what the engine and the store use unless they are
 * given another.
 *
 * <p>Thread-safe.
 */
public final class MemoryBudget {
    /** System property: the limit of {@link #shared()}, e.g. {@code 8g}. */
    public static final String PROPERTY = "mempipe.memory.budget";

    private static final MemoryBudget SHARED = fromProperty(System.getProperty(PROPERTY));

    private final long limit;
    private final AtomicLong used = new AtomicLong();

    private MemoryBudget(long limit) {
        this.limit = limit;
    }

    /** A budget of {@code bytes}. */
    public static MemoryBudget of(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("a memory budget must be >= 0 bytes, got " + bytes);
        }
        return new MemoryBudget(bytes);
    }

    /** A budget that counts but never refuses. */
    public static MemoryBudget unlimited() {
        return new MemoryBudget(Long.MAX_VALUE);
    }

    /** The process-wide budget of {@code -Dmempipe.memory.budget} (unlimited when unset). */
    public static MemoryBudget shared() {
        return SHARED;
    }

    static MemoryBudget fromProperty(String value) {
        if (value == null || value.isBlank()) {
            return unlimited();
        }
        try {
            return of(parseSize(value));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("-D" + PROPERTY + "=" + value + " is not a size (bytes, or a number "
                    + "with k, m, g or t, e.g. 8g)", e);
        }
    }

    /** {@code 8g} as 8 GiB, {@code 512m}, {@code 64k}, {@code 1t}, or plain bytes. */
    static long parseSize(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        int shift = switch (t.isEmpty() ? ' ' : t.charAt(t.length() - 1)) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            case 't' -> 40;
            default -> 0;
        };
        long n = Long.parseLong(shift == 0 ? t : t.substring(0, t.length() - 1).strip());
        if (n < 0 || n > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("size out of range: " + text);
        }
        return n << shift;
    }

    /** The limit in bytes ({@link Long#MAX_VALUE} when unlimited). */
    public long limit() {
        return limit;
    }

    /** Bytes held now by arenas of this budget. */
    public long used() {
        return used.get();
    }

    /**
     * A new shared arena whose allocations count against this budget (each refused before it is made when it would
     * pass the limit); closing it gives its bytes back.
     */
    public Arena arena() {
        return new BudgetArena(this, null);
    }

    /**
     * Takes {@code bytes} from this budget until the reservation is closed: for an operation's scratch that it
     * allocates itself (on the heap, or off-heap), so that an operation that would pass the budget is refused before
     * it allocates, with the numbers.
     *
     * @param what names the operation in the message, e.g. {@code a search of 4 queries over 65536 rows}
     * @throws MemoryBudgetExceededException when {@code bytes} do not fit; nothing is taken
     */
    public Reservation reserve(long bytes, String what) {
        take(bytes, what);
        return new Reservation(this, bytes);
    }

    /** Bytes taken from a budget by {@link #reserve}; {@link #close()} gives them back (once). Thread-safe. */
    public static final class Reservation implements AutoCloseable {
        private final MemoryBudget budget;
        private final java.util.concurrent.atomic.AtomicLong bytes;

        private Reservation(MemoryBudget budget, long bytes) {
            this.budget = budget;
            this.bytes = new java.util.concurrent.atomic.AtomicLong(bytes);
        }

        @Override
        public void close() {
            budget.give(bytes.getAndSet(0));
        }
    }

    /**
     * A shared arena for one operation's scratch, counted against this budget, each allocation refused with the
     * numbers and {@code what} when it does not fit; closing it gives the bytes back.
     */
    Arena scratchArena(String what) {
        return new BudgetArena(this, what);
    }

    /**
     * Before a memory allocates {@code bytes} in several buffers from {@code arena}: when the arena counts against a
     * budget, the whole size is taken from it now (refused, with the numbers, when it does not fit) and the following
     * allocations draw on it. Any other arena is not limited and this does nothing.
     *
     * @param what names the memory in the message, e.g. {@code PagedKvMemory of 65536 tokens}
     */
    public static void claim(Arena arena, long bytes, String what) {
        if (arena instanceof BudgetArena counted) {
            counted.claim(bytes, what);
        }
    }

    void take(long bytes, String what) {
        if (bytes < 0) {
            throw new IllegalArgumentException("negative allocation " + bytes + " for " + what);
        }
        while (true) {
            long now = used.get();
            if (bytes > limit - now) {
                throw new MemoryBudgetExceededException(what, bytes, now, limit);
            }
            if (used.compareAndSet(now, now + bytes)) {
                return;
            }
        }
    }

    void give(long bytes) {
        used.addAndGet(-bytes);
    }

    @Override
    public String toString() {
        return "MemoryBudget[" + MemoryBudgetExceededException.size(used()) + " of "
                + (limit == Long.MAX_VALUE ? "unlimited" : MemoryBudgetExceededException.size(limit)) + " in use]";
    }

    /** A shared arena that takes its allocations from a budget first. */
    private static final class BudgetArena implements Arena {
        private final MemoryBudget budget;
        private final String purpose; // names the allocations in a refusal; null: a memory's arena
        private final Arena inner = Arena.ofShared();
        private long held;   // bytes taken from the budget and not given back; guarded by this
        private long credit; // part of held claimed ahead and not yet allocated; guarded by this
        private boolean closed;

        BudgetArena(MemoryBudget budget, String purpose) {
            this.budget = budget;
            this.purpose = purpose;
        }

        synchronized void claim(long bytes, String what) {
            if (bytes > credit) {
                budget.take(bytes - credit, what);
                held += bytes - credit;
                credit = bytes;
            }
        }

        @Override
        public MemorySegment allocate(long byteSize, long byteAlignment) {
            long taken;
            synchronized (this) {
                long fromCredit = Math.min(credit, Math.max(0, byteSize));
                taken = byteSize - fromCredit;
                if (taken > 0) {
                    budget.take(taken, (purpose == null ? "" : purpose + ": ") + "an allocation of " + byteSize
                            + " bytes");
                    held += taken;
                }
                credit -= fromCredit;
            }
            try {
                return inner.allocate(byteSize, byteAlignment);
            } catch (RuntimeException | Error e) {
                synchronized (this) {
                    held -= taken;
                }
                budget.give(taken);
                throw e;
            }
        }

        @Override
        public MemorySegment.Scope scope() {
            return inner.scope();
        }

        @Override
        public void close() {
            inner.close(); // throws (and gives nothing back) when the arena cannot be closed now
            long back;
            synchronized (this) {
                back = closed ? 0 : held;
                closed = true;
                held = 0;
                credit = 0;
            }
            budget.give(back);
        }
    }
}
