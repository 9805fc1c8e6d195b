package dev.mempipe.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;

import java.util.Arrays;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One member's off-heap copy of the rows of the partitions it owns, for one memory: the copy a query scores. It is
 * a cache of the member's partition data (Hazelcast's record store stays authoritative), stamped with the partition
 * versions it was read under and the set of partitions it covers. A query brings the versions its caller read just
 * before sending it; the copy is reused while it covers the partitions the member owns now and no partition has a
 * newer version, and rebuilt from the partitions' entries otherwise (after a write, a migration or a failover).
 *
 * <p>Reading the entries after the caller read the versions is what makes this exact: writers bump a partition's
 * version only after its rows were written and backed up, so entries read later hold every acknowledged write up to
 * that version.
 *
 * <p>Thread-safety: queries score under a shared lock and may run in parallel; a rebuild takes the exclusive lock,
 * swaps the copy and closes the old one once no query uses it.
 *
 * @param <C> the copy (an off-heap memory with its row ids)
 */
final class MemberReplica<C extends AutoCloseable> implements AutoCloseable {
    private static final String PREFIX = "dev.mempipe.hazelcast.replica:";
    private static final String SHUTDOWN_HOOK = "dev.mempipe.hazelcast.replicaShutdownHook";

    /** Builds a copy of the rows of {@code partitions} (reading their entries now). */
    interface Builder<C> {
        C build(int[] partitions);
    }

    /** Reads a current copy. */
    interface Reader<C, R> {
        R read(C copy, Coverage coverage);
    }

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private C copy;               // null until the first query
    private int[] partitions;     // what copy covers
    private long[] stamps;        // version of each partition copy was read under
    private long generation;      // increases with every rebuild
    private boolean closed;

    /**
     * The member's replica of memory {@code key} (created on first use), kept in the instance's user context and
     * closed when the instance shuts down.
     */
    @SuppressWarnings("unchecked")
    static <C extends AutoCloseable> MemberReplica<C> of(HazelcastInstance hz, String key) {
        ConcurrentMap<String, Object> context = hz.getUserContext();
        if (context.putIfAbsent(SHUTDOWN_HOOK, Boolean.TRUE) == null) {
            hz.getLifecycleService().addLifecycleListener(event -> {
                if (event.getState() == LifecycleEvent.LifecycleState.SHUTTING_DOWN) {
                    closeAll(context);
                }
            });
        }
        return (MemberReplica<C>) context.computeIfAbsent(PREFIX + key, k -> new MemberReplica<>());
    }

    /** Closes and forgets the member's replica of memory {@code key}, if it has one (when the memory is destroyed). */
    static void drop(HazelcastInstance hz, String key) {
        Object replica = hz.getUserContext().remove(PREFIX + key);
        if (replica instanceof MemberReplica<?> r) {
            r.close();
        }
    }

    private static void closeAll(ConcurrentMap<String, Object> context) {
        for (String key : context.keySet()) {
            if (key.startsWith(PREFIX) && context.remove(key) instanceof MemberReplica<?> r) {
                r.close();
            }
        }
    }

    /**
     * Runs {@code reader} on a copy that covers exactly {@code owned} and is at least as new as {@code versions},
     * rebuilding it first when needed.
     *
     * @throws ReplicaClosedException when the replica was closed (the member is shutting down)
     */
    <R> R read(int[] owned, long[] versions, Builder<C> builder, Reader<C, R> reader) {
        ReentrantReadWriteLock.ReadLock shared = lock.readLock();
        shared.lock();
        boolean holdsShared = true;
        try {
            if (!current(owned, versions)) {
                shared.unlock();
                holdsShared = false;
                lock.writeLock().lock();
                try {
                    if (!current(owned, versions)) {
                        rebuild(owned, versions, builder);
                    }
                    shared.lock(); // downgrade: a rebuild cannot slip in between
                    holdsShared = true;
                } finally {
                    lock.writeLock().unlock();
                }
            }
            long[] copyStamps = new long[partitions.length];
            for (int i = 0; i < partitions.length; i++) {
                copyStamps[i] = stamps[partitions[i]];
            }
            return reader.read(copy, new Coverage(partitions.clone(), copyStamps, generation));
        } finally {
            if (holdsShared) {
                shared.unlock();
            }
        }
    }

    private boolean current(int[] owned, long[] versions) {
        if (closed) {
            throw new ReplicaClosedException();
        }
        if (copy == null || !Arrays.equals(owned, partitions)) {
            return false;
        }
        for (int p : owned) {
            if (stamps[p] < versions[p]) { // stamps never decrease: a newer copy serves an older query too
                return false;
            }
        }
        return true;
    }

    private void rebuild(int[] owned, long[] versions, Builder<C> builder) {
        C next = builder.build(owned);
        C old = copy;
        copy = next;
        long[] newStamps = versions.clone();
        if (stamps != null) { // what this member read before stays true of the versions it read it under
            for (int p = 0; p < newStamps.length; p++) {
                newStamps[p] = Math.max(newStamps[p], stamps[p]);
            }
        }
        partitions = owned.clone();
        stamps = newStamps;
        generation++;
        closeCopy(old);
    }

    /** Closes the copy; queries after this fail. Idempotent. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            closed = true;
            C old = copy;
            copy = null;
            closeCopy(old);
        } finally {
            lock.writeLock().unlock();
        }
    }

    private static void closeCopy(AutoCloseable resource) {
        if (resource == null) {
            return;
        }
        try {
            resource.close();
        } catch (Exception e) {
            // The copies hold only off-heap memory; Arena.close does not throw checked exceptions.
            throw new IllegalStateException("closing a member copy failed", e);
        }
    }
}
