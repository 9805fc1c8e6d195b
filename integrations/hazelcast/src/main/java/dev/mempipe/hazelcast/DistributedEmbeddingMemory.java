package dev.mempipe.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import dev.mempipe.core.memory.EmbeddingMemory;
import dev.mempipe.spi.ElementType;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An embedding memory for dense RAG sharded over a Hazelcast cluster: the distributed form of {@link EmbeddingMemory},
 * answering the same exact cosine search with the same result, index for index, as one {@code EmbeddingMemory} holding
 * the same rows in id order.
 *
 * <p><b>Where things are.</b> Rows live in the {@code IMap} {@code mempipe.<name>.rows} (key: the row id, value: the
 * raw f32 vector), partitioned by Hazelcast, with {@code backupCount} synchronous backups. Each member keeps an
 * off-heap {@link EmbeddingMemory} of the partitions it owns, stored as {@link #storage()} by the same ops as on one
 * node; a search sends the query to every member, each scores only its own copy and returns its
 * top k, and the caller merges them in the contract's total order (score descending, then id ascending). No row
 * travels to the caller, only k ids and scores per member.
 *
 * <p><b>Consistency.</b> A search sees every append that returned before it started. Appends that run concurrently
 * with a search may be seen in part. After a write, the next search rebuilds the member copies of the partitions
 * that changed from the members' map data (cost: one read of each changed member's rows).
 *
 * <p><b>Failures.</b> An append returns once every backup holds its rows. A search whose member left, or that ran
 * while partitions were migrating, is sent again (with backoff) until every partition is answered by exactly one
 * member, or fails with {@link ShardsUnavailableException} after the query timeout.
 *
 * <p>Thread-safety: safe for concurrent use by many threads and many cluster clients. Row ids are handed out by the
 * cluster, so concurrent appenders get disjoint ranges; rows of one append are consecutive.
 */
public final class DistributedEmbeddingMemory {
    static final long KIND = 1;
    /** Rows per {@code putAll}: bounds one operation's message size. */
    private static final int WRITE_BATCH = 1024;

    private final ShardedRows<Long, byte[]> shards;
    private final int dimension;
    private final ElementType storage;

    private DistributedEmbeddingMemory(Builder b) {
        if (b.dimension < 1) {
            throw new IllegalArgumentException("dimension must be set and >= 1, got " + b.dimension);
        }
        this.shards = new ShardedRows<>(b.hz, b.name, new long[] {KIND, b.dimension, b.storage.ordinal()},
                b.backupCount, b.queryTimeout);
        this.dimension = b.dimension;
        this.storage = b.storage;
    }

    /** Opens (or creates) the memory {@code name} of the cluster that {@code hz} (a member or a client) belongs to. */
    public static Builder builder(HazelcastInstance hz, String name) {
        return new Builder(hz, name);
    }

    /**
     * Appends vectors (need not be normalized: cosines divide by the norms, as {@link EmbeddingMemory} does).
     * Returns once every backup holds them.
     *
     * @param vectors each of {@link #dimension()} finite elements
     * @return the id of the first vector, the others following consecutively; -1 when {@code vectors} is empty
     * @throws IllegalArgumentException naming the position of a vector of the wrong dimension or a non-finite
     *                                  element; nothing is appended then
     */
    public long append(float[][] vectors) {
        Objects.requireNonNull(vectors, "vectors");
        for (int i = 0; i < vectors.length; i++) {
            checkVector("vectors[" + i + "]", vectors[i]);
        }
        if (vectors.length == 0) {
            return -1;
        }
        long first = shards.reserveIds(vectors.length);
        List<Long> keys = new ArrayList<>(vectors.length);
        for (int from = 0; from < vectors.length; from += WRITE_BATCH) {
            int to = Math.min(vectors.length, from + WRITE_BATCH);
            Map<Long, byte[]> batch = new HashMap<>(2 * (to - from));
            for (int i = from; i < to; i++) {
                batch.put(first + i, RowCodec.encode(vectors[i]));
                keys.add(first + i);
            }
            shards.rows().putAll(batch);
        }
        shards.changed(keys);
        return first;
    }

    /**
     * The k rows of highest cosine with {@code query}, exactly: the same ids, order and scores as
     * {@link EmbeddingMemory#search} on one node holding the same rows in id order.
     *
     * @param query {@link #dimension()} finite elements; need not be normalized
     * @throws ShardsUnavailableException when partitions stayed without an owner for the query timeout
     */
    public ClusterHits search(float[] query, int k) {
        checkVector("query", query);
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1, got " + k);
        }
        float[] q = query.clone();
        List<RankedAnswer> answers = shards.askEveryMember(versions -> new EmbeddingSearchTask(
                ShardedRows.rowsMap(shards.name()), shards.replicaKey(), dimension, storage, versions, q, k));
        List<HitMerge.Ranked> lists = new ArrayList<>(answers.size());
        answers.forEach(a -> lists.add(a.ranked()));
        return HitMerge.merge(lists, k);
    }

    /** Rows held by the cluster. */
    public long size() {
        return shards.rows().size();
    }

    public int dimension() {
        return dimension;
    }

    public ElementType storage() {
        return storage;
    }

    public String name() {
        return shards.name();
    }

    /** Removes every row and the memory itself from the cluster and frees the members' copies. */
    public void destroy() {
        shards.destroy();
    }

    private void checkVector(String name, float[] v) {
        if (v == null) {
            throw new IllegalArgumentException(name + " is null");
        }
        if (v.length != dimension) {
            throw new IllegalArgumentException(name + " has " + v.length + " elements but memory '" + shards.name()
                    + "' holds " + dimension + "-dimensional vectors");
        }
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                throw new IllegalArgumentException(name + " holds " + v[i] + " at element " + i
                        + "; vectors must be finite");
            }
        }
    }

    /**
     * Settings of a distributed embedding memory: the dimension (required), the storage type (F32 by default; F16,
     * BF16, I8, I16 as {@link EmbeddingMemory} stores them), the backup count (1), the query timeout (60 s).
     */
    public static final class Builder {
        private final HazelcastInstance hz;
        private final String name;
        private int dimension;
        private ElementType storage = ElementType.F32;
        private int backupCount = 1;
        private Duration queryTimeout = Duration.ofSeconds(60);

        private Builder(HazelcastInstance hz, String name) {
            this.hz = Objects.requireNonNull(hz, "hazelcastInstance");
            this.name = Objects.requireNonNull(name, "name");
        }

        public Builder dimension(int dimension) {
            if (dimension < 1) {
                throw new IllegalArgumentException("dimension must be >= 1, got " + dimension);
            }
            this.dimension = dimension;
            return this;
        }

        public Builder storage(ElementType storage) {
            this.storage = Objects.requireNonNull(storage, "storage");
            return this;
        }

        /**
         * Synchronous backups of every row (default 1): an append returns once this many other members hold it, so
         * the cluster survives losing that many members at once. 0 keeps one copy (a lost member loses its rows).
         */
        public Builder backupCount(int backupCount) {
            this.backupCount = backupCount;
            return this;
        }

        /** How long a search keeps retrying while members leave or partitions move (default 60 s). */
        public Builder queryTimeout(Duration queryTimeout) {
            this.queryTimeout = Objects.requireNonNull(queryTimeout, "queryTimeout");
            return this;
        }

        /**
         * @throws IllegalArgumentException when the memory exists with another dimension or storage, or its maps are
         *                                  configured with another backup count
         */
        public DistributedEmbeddingMemory build() {
            return new DistributedEmbeddingMemory(this);
        }
    }
}
