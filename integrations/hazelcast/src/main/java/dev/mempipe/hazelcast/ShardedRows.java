package dev.mempipe.hazelcast;

import com.hazelcast.cluster.Member;
import com.hazelcast.config.MapConfig;
import com.hazelcast.core.HazelcastException;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import com.hazelcast.core.HazelcastInstanceNotActiveException;
import com.hazelcast.core.IExecutorService;
import com.hazelcast.core.MemberLeftException;
import com.hazelcast.map.IMap;
import com.hazelcast.spi.exception.RetryableException;
import com.hazelcast.spi.exception.RetryableHazelcastException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * The cluster side of one distributed memory, shared by its kinds (embeddings, BM25 documents, store entries):
 * <ul>
 *   <li>{@code mempipe.<name>.rows}: an {@link IMap} of the rows, partitioned by Hazelcast by key, with
 *       {@code backupCount} synchronous backups, so a write returns only once every backup holds it;</li>
 *   <li>{@code mempipe.<name>.meta}: the memory's shape, the next row id, and one version per partition;</li>
 *   <li>queries sent to every member through the {@code mempipe.query} executor, each member answering for the
 *       partitions it owns from its {@link MemberReplica}; the answers must cover every partition exactly once,
 *       otherwise (a member left, partitions migrating) the query is sent again until {@code queryTimeout}.</li>
 * </ul>
 *
 * <p>Thread-safety: safe for concurrent use; the Hazelcast proxies it holds are.
 */
final class ShardedRows<K, V> {
    static final String EXECUTOR = "mempipe.query";
    private static final String SHAPE = "shape"; // keys of the meta map; callers add their own
    private static final String NEXT_ID = "nextId";
    private static final String VERSIONS = "versions";
    private static final long FIRST_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    private static final long MAX_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

    private final HazelcastInstance hz;
    private final String name;
    private final IMap<K, V> rows;
    private final IMap<String, long[]> meta;
    private final IExecutorService executor;
    private final int partitionCount;
    private final Duration queryTimeout;
    private final long[] shape;
    private volatile long[] lastVersions;

    /**
     * Opens memory {@code name}, creating it with {@code shape} when it does not exist.
     *
     * @param shape what the memory holds ({@code {kind, dimension, storage}}); an existing memory must match
     * @throws IllegalArgumentException when the memory exists with another shape, or its maps are configured with
     *                                  another backup count
     */
    ShardedRows(HazelcastInstance hz, String name, long[] shape, int backupCount, Duration queryTimeout) {
        this.hz = Objects.requireNonNull(hz, "hazelcastInstance");
        this.name = checkName(name);
        this.queryTimeout = Objects.requireNonNull(queryTimeout, "queryTimeout");
        if (queryTimeout.isNegative() || queryTimeout.isZero()) {
            throw new IllegalArgumentException("queryTimeout must be positive, got " + queryTimeout);
        }
        if (backupCount < 0 || backupCount > MapConfig.MAX_BACKUP_COUNT) {
            throw new IllegalArgumentException("backupCount must be in [0, " + MapConfig.MAX_BACKUP_COUNT + "], got "
                    + backupCount);
        }
        configureBackups(hz, rowsMap(name), backupCount);
        configureBackups(hz, metaMap(name), backupCount);
        this.rows = hz.getMap(rowsMap(name));
        this.meta = hz.getMap(metaMap(name));
        this.executor = hz.getExecutorService(EXECUTOR);
        this.partitionCount = Partitions.count(hz);
        long[] withIncarnation = Arrays.copyOf(shape, shape.length + 1);
        withIncarnation[shape.length] = System.nanoTime() ^ Double.doubleToLongBits(Math.random());
        long[] existing = meta.putIfAbsent(SHAPE, withIncarnation);
        if (existing != null && !Arrays.equals(Arrays.copyOf(existing, shape.length), shape)) {
            throw new IllegalArgumentException("memory '" + name + "' exists with shape "
                    + Arrays.toString(Arrays.copyOf(existing, existing.length - 1)) + " but "
                    + Arrays.toString(shape) + " was asked for");
        }
        this.shape = existing != null ? existing : withIncarnation;
    }

    static String rowsMap(String name) {
        return "mempipe." + name + ".rows";
    }

    static String metaMap(String name) {
        return "mempipe." + name + ".meta";
    }

    private static String checkName(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isBlank() || name.length() > 200) {
            throw new IllegalArgumentException("name must be 1 to 200 characters and not blank, got '" + name + "'");
        }
        return name;
    }

    /**
     * Adds the maps' backup configuration (synchronous backups only: an asynchronous backup would acknowledge a
     * write before a backup holds it). An existing configuration of the same name must agree.
     */
    private static void configureBackups(HazelcastInstance hz, String map, int backupCount) {
        MapConfig existing = null;
        try {
            existing = hz.getConfig().getMapConfigOrNull(map);
        } catch (UnsupportedOperationException e) {
            // a client cannot read the members' configuration: adding it below lets the members check
        }
        if (existing != null) {
            if (existing.getBackupCount() != backupCount || existing.getAsyncBackupCount() != 0) {
                throw new IllegalArgumentException("map '" + map + "' is configured with " + existing.getBackupCount()
                        + " synchronous and " + existing.getAsyncBackupCount() + " asynchronous backups, not "
                        + backupCount + " synchronous and none asynchronous");
            }
            return;
        }
        MapConfig config = new MapConfig(map).setBackupCount(backupCount).setAsyncBackupCount(0);
        try {
            hz.getConfig().addMapConfig(config);
        } catch (HazelcastException | UnsupportedOperationException e) {
            throw new IllegalArgumentException("map '" + map + "' is already configured differently from "
                    + backupCount + " synchronous backups and no asynchronous ones: " + e.getMessage(), e);
        }
    }

    String name() {
        return name;
    }

    IMap<K, V> rows() {
        return rows;
    }

    HazelcastInstance instance() {
        return hz;
    }

    Duration queryTimeout() {
        return queryTimeout;
    }

    int partitionCount() {
        return partitionCount;
    }

    /** The shape this memory was created with. */
    long[] shape() {
        return Arrays.copyOf(shape, shape.length - 1);
    }

    /** Names the member replicas of this incarnation of the memory (a destroyed and re-created one gets a new key). */
    String replicaKey() {
        return name + "#" + shape[shape.length - 1];
    }

    /** The meta value under {@code key}, or null. */
    long[] meta(String key) {
        return meta.get(key);
    }

    /** Stores {@code value} under {@code key} unless a value is there; returns the value that is there now. */
    long[] metaIfAbsent(String key, long[] value) {
        long[] existing = meta.putIfAbsent(key, value);
        return existing != null ? existing : value;
    }

    /** Reserves {@code count} consecutive row ids (backed up before this returns); returns the first. */
    long reserveIds(int count) {
        return meta.executeOnKey(NEXT_ID, new MetaUpdates.ReserveIds(count));
    }

    /** Marks the partitions of {@code keys} changed; call after their writes returned. */
    void changed(Collection<?> keys) {
        TreeSet<Integer> partitions = new TreeSet<>();
        for (Object key : keys) {
            partitions.add(hz.getPartitionService().getPartition(key).getPartitionId());
        }
        bump(partitions.stream().mapToInt(Integer::intValue).toArray());
    }

    /** Marks every partition changed (after a clear). */
    void changedAll() {
        int[] all = new int[partitionCount];
        Arrays.setAll(all, p -> p);
        bump(all);
    }

    private void bump(int[] partitions) {
        if (partitions.length > 0) {
            meta.executeOnKey(VERSIONS, new MetaUpdates.BumpVersions(partitionCount, partitions));
        }
    }

    /**
     * Sends the task to every member and returns their answers, which together cover every partition exactly once,
     * each from a member copy that holds every write acknowledged before this call. Retries while members leave or
     * partitions move.
     *
     * <p>The versions the task carries are a guess (the newest this handle has seen), read again from the cluster at
     * the same time as the members work: when a member's copy turns out older than what the cluster holds now, the
     * task is sent again with the versions just read. Without writes, a query costs one round trip, not two. The
     * calling member (when the caller is one) answers for its own partitions in the calling thread.
     *
     * @throws ShardsUnavailableException when no complete answer came within the query timeout
     * @throws IllegalArgumentException   (and other unchecked exceptions) thrown by a member's task, as thrown
     */
    <R extends MemberAnswer> List<R> askEveryMember(Function<long[], Callable<R>> task) {
        return ask(task, null);
    }

    /**
     * {@link #askEveryMember(Function)} for a second pass over the copies an earlier pass read: the task carries
     * {@code required}, the versions that pass used, and copies are accepted when at least that new.
     */
    <R extends MemberAnswer> List<R> askEveryMember(Function<long[], Callable<R>> task, long[] required) {
        return ask(task, Objects.requireNonNull(required, "required"));
    }

    private <R extends MemberAnswer> List<R> ask(Function<long[], Callable<R>> task, long[] required) {
        long deadline = System.nanoTime() + queryTimeout.toNanos();
        long backoff = FIRST_BACKOFF_NANOS;
        long[] guess = required != null ? required : lastVersions;
        String problem;
        Throwable cause = null;
        while (true) {
            CompletableFuture<long[]> current = required != null ? CompletableFuture.completedFuture(required)
                    : meta.getAsync(VERSIONS).toCompletableFuture();
            long[] sent = guess != null ? guess : versionsOrZero(current.join());
            try {
                List<R> answers = attempt(task.apply(sent), deadline);
                long[] now = versionsOrZero(current.join());
                problem = coverageProblem(answers);
                if (problem == null) {
                    if (answers.stream().allMatch(a -> a.coverage().atLeast(now))) {
                        if (required == null) {
                            lastVersions = now;
                        }
                        return answers;
                    }
                    // a write landed since the guess: ask again, at once, with the versions read just now
                    problem = "member copies were older than the cluster's versions";
                    if (System.nanoTime() < deadline) {
                        guess = now;
                        continue;
                    }
                }
                guess = now;
            } catch (ExecutionException e) {
                Throwable failure = e instanceof MemberLeftException || e.getCause() == null ? e : e.getCause();
                if (!retryable(failure)) {
                    throw rethrow(failure);
                }
                problem = "a member failed: " + failure;
                cause = failure;
            } catch (TimeoutException e) {
                problem = "a member did not answer";
                cause = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ShardsUnavailableException("interrupted while querying memory '" + name + "'", e);
            } catch (CompletionException | RetryableHazelcastException e) {
                // the versions read, or a submission to a member that just left; anything else is not ours to retry
                Throwable failure = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                if (!(failure instanceof RetryableException)) {
                    throw rethrow(failure);
                }
                problem = "the cluster is changing: " + failure;
                cause = failure;
            }
            if (System.nanoTime() + backoff > deadline) {
                throw new ShardsUnavailableException("memory '" + name + "' could not be queried within "
                        + queryTimeout + ": " + problem, cause);
            }
            sleep(backoff);
            backoff = Math.min(MAX_BACKOFF_NANOS, 2 * backoff);
        }
    }

    private long[] versionsOrZero(long[] versions) {
        return versions != null ? versions : new long[partitionCount];
    }

    /** Runs {@code task} on every member: the others through the executor, this member (if the caller is one) here. */
    private <R extends MemberAnswer> List<R> attempt(Callable<R> task, long deadline)
            throws ExecutionException, InterruptedException, TimeoutException {
        Set<Member> members = hz.getCluster().getMembers();
        Member self = hz.getLocalEndpoint() instanceof Member m && members.contains(m) ? m : null;
        List<Member> others = new ArrayList<>(members.size());
        for (Member member : members) {
            if (!member.equals(self)) {
                others.add(member);
            }
        }
        Map<Member, Future<R>> futures = others.isEmpty() ? Map.of() : executor.submitToMembers(task, others);
        List<R> answers = new ArrayList<>(members.size());
        if (self != null) {
            if (task instanceof HazelcastInstanceAware aware) {
                aware.setHazelcastInstance(hz); // a transient field: the copies sent to the others are already made
            }
            try {
                answers.add(task.call());
            } catch (Exception e) { // as a remote member's failure arrives
                throw new ExecutionException(e);
            }
        }
        for (Future<R> future : futures.values()) {
            answers.add(future.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
        }
        return answers;
    }

    /** Null when the answers cover each partition exactly once, else what is wrong. */
    private String coverageProblem(List<? extends MemberAnswer> answers) {
        int[] times = new int[partitionCount];
        for (MemberAnswer answer : answers) {
            for (int p : answer.coverage().partitions()) {
                times[p]++;
            }
        }
        List<Integer> missing = new ArrayList<>();
        List<Integer> twice = new ArrayList<>();
        for (int p = 0; p < partitionCount; p++) {
            if (times[p] == 0) {
                missing.add(p);
            } else if (times[p] > 1) {
                twice.add(p);
            }
        }
        if (missing.isEmpty() && twice.isEmpty()) {
            return null;
        }
        return "partitions " + missing + " had no owner and " + twice + " were answered twice (migrating)";
    }

    private static boolean retryable(Throwable t) {
        return t instanceof RetryableException || t instanceof MemberLeftException
                || t instanceof HazelcastInstanceNotActiveException || t instanceof ReplicaClosedException;
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new HazelcastException(t);
    }

    private static void sleep(long nanos) {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShardsUnavailableException("interrupted while waiting to retry a query", e);
        }
    }

    /** Removes every row and the memory's metadata, and closes every member's replica. */
    void destroy() {
        String key = replicaKey();
        executor.submitToAllMembers(new DropReplica(key)).values().forEach(f -> {
            try {
                f.get();
            } catch (ExecutionException e) {
                // a member that left has no replica to drop
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        rows.destroy();
        meta.destroy();
    }
}
