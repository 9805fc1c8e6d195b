package dev.mempipe.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.EmbeddingSearchResult;
import dev.langchain4j.store.embedding.filter.Filter;
import dev.mempipe.langchain4j.EmbeddingStoreBacking;
import dev.mempipe.langchain4j.MempipeEmbeddingStore;
import dev.mempipe.spi.ElementType;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The entries of a {@link MempipeEmbeddingStore} sharded over a Hazelcast cluster: the backing behind
 * {@code MempipeEmbeddingStore.builder().backedBy(ClusterEmbeddingStore.builder(hz, "docs").build())}.
 *
 * <p>Entries live in the {@code IMap} {@code mempipe.<name>.rows} (key: the entry's id; value: its sequence number,
 * vector and segment), with synchronous backups. Each member keeps a single-node {@link MempipeEmbeddingStore} of the
 * partitions it owns (off-heap rows, exact SIMD scan); a search sends the query, {@code maxResults}, {@code minScore}
 * and the filter (encoded: filters run on the members, where the metadata is) to every member and merges their best
 * matches by score, ties in the order the entries were added, so the result is what one store holding every entry
 * returns. {@link #removeAll(Filter)} tests the filter on the members too. Search is exact; storage is F32 (default),
 * BF16 or I8 as in the single-node store.
 *
 * <p>Adds are all or nothing within one caller: ids already held fail the add before anything is written; an id
 * taken concurrently by another caller makes the add undo what it wrote and fail. Consistency, failures and
 * thread-safety are those of {@link DistributedEmbeddingMemory}. {@link #close()} releases nothing on the cluster;
 * {@link #destroy()} removes the entries.
 */
public final class ClusterEmbeddingStore implements EmbeddingStoreBacking {
    static final long KIND = 3;
    private static final String DIMENSION = "dimension";

    private final ShardedRows<String, byte[]> shards;
    private final ElementType storage;

    private ClusterEmbeddingStore(Builder b) {
        this.shards = new ShardedRows<>(b.hz, b.name, new long[] {KIND, b.storage.ordinal()}, b.backupCount,
                b.queryTimeout);
        this.storage = b.storage;
    }

    /** A backing for the store {@code name} of the cluster {@code hz} (a member or a client) belongs to. */
    public static Builder builder(HazelcastInstance hz, String name) {
        return new Builder(hz, name);
    }

    @Override
    public int dimension() {
        long[] d = shards.meta(DIMENSION);
        return d == null ? 0 : (int) d[0];
    }

    @Override
    public void add(List<String> ids, List<float[]> vectors, List<TextSegment> segments) {
        int d = vectors.getFirst().length;
        int fixed = (int) shards.metaIfAbsent(DIMENSION, new long[] {d})[0];
        if (fixed != d) {
            throw new IllegalArgumentException("embeddings have dimension " + d + " but store '" + shards.name()
                    + "' holds " + fixed + "-dimensional embeddings");
        }
        Map<String, byte[]> held = shards.rows().getAll(new HashSet<>(ids));
        for (int i = 0; i < ids.size(); i++) {
            if (held.containsKey(ids.get(i))) {
                throw alreadyHeld(i, ids.get(i));
            }
        }
        long first = shards.reserveIds(ids.size());
        List<CompletableFuture<Boolean>> inserts = new ArrayList<>(ids.size());
        for (int i = 0; i < ids.size(); i++) {
            byte[] entry = EntryCodec.encode(first + i, vectors.get(i), segments == null ? null : segments.get(i));
            inserts.add(shards.rows().submitToKey(ids.get(i), new StoreUpdates.InsertIfAbsent(entry))
                    .toCompletableFuture());
        }
        Set<String> written = new LinkedHashSet<>();
        int taken = -1;
        for (int i = 0; i < ids.size(); i++) {
            if (inserts.get(i).join()) {
                written.add(ids.get(i));
            } else if (taken < 0) {
                taken = i;
            }
        }
        if (taken >= 0) { // another caller added one of these ids meanwhile: undo ours
            if (!written.isEmpty()) {
                shards.rows().executeOnKeys(written, new StoreUpdates.Delete());
                shards.changed(written);
            }
            throw alreadyHeld(taken, ids.get(taken));
        }
        shards.changed(ids);
    }

    private static IllegalArgumentException alreadyHeld(int position, String id) {
        return new IllegalArgumentException("ids[" + position + "] '" + id + "' is already in the store; remove it"
                + " first to replace it");
    }

    @Override
    public void remove(Collection<String> ids) {
        Set<String> keys = new HashSet<>(ids);
        if (!keys.isEmpty()) {
            shards.rows().executeOnKeys(keys, new StoreUpdates.Delete());
            shards.changed(keys);
        }
    }

    @Override
    public void removeAll(Filter filter) {
        byte[] encoded = FilterCodec.encode(filter);
        // tested on every member first: a filter that throws removes nothing
        Set<String> matching = shards.rows().keySet(new StoreUpdates.Matching(encoded));
        if (!matching.isEmpty()) {
            shards.rows().executeOnKeys(matching, new StoreUpdates.Delete());
            shards.changed(matching);
        }
    }

    @Override
    public void removeAll() {
        shards.rows().clear();
        shards.changedAll();
    }

    @Override
    public EmbeddingSearchResult<TextSegment> search(EmbeddingSearchRequest request) {
        float[] query = request.queryEmbedding().vector().clone();
        int maxResults = request.maxResults();
        double minScore = request.minScore();
        byte[] filter = FilterCodec.encode(request.filter());
        String rowsMap = ShardedRows.rowsMap(shards.name());
        List<StoreAnswer> answers = shards.askEveryMember(versions -> new StoreSearchTask(rowsMap,
                shards.replicaKey(), storage, versions, query, maxResults, minScore, filter));
        List<Ranked> all = new ArrayList<>();
        for (StoreAnswer answer : answers) {
            for (StoreAnswer.Match match : answer.matches()) {
                all.add(new Ranked(match, EntryCodec.decode(match.entry())));
            }
        }
        // score descending, then the entry added first: each member's list is in this order already
        all.sort(Comparator.comparingDouble((Ranked r) -> -r.match().score())
                .thenComparingLong(r -> r.entry().sequence()));
        List<EmbeddingMatch<TextSegment>> matches = new ArrayList<>(Math.min(maxResults, all.size()));
        for (Ranked r : all.subList(0, Math.min(maxResults, all.size()))) {
            matches.add(new EmbeddingMatch<>(r.match().score(), r.match().id(), new Embedding(r.entry().vector()),
                    r.entry().segment()));
        }
        return new EmbeddingSearchResult<>(matches);
    }

    private record Ranked(StoreAnswer.Match match, EntryCodec.Entry entry) {
    }

    @Override
    public int size() {
        return shards.rows().size();
    }

    public String name() {
        return shards.name();
    }

    public ElementType storage() {
        return storage;
    }

    /** Removes every entry and the store itself from the cluster and frees the members' copies. */
    public void destroy() {
        shards.destroy();
    }

    /** Nothing to release: the entries stay on the cluster (see {@link #destroy()}). */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "ClusterEmbeddingStore[" + shards.name() + ", " + storage + "]";
    }

    /** Settings: storage (F32; BF16 or I8 as the single-node store), backups (1), query timeout (60 s). */
    public static final class Builder {
        private final HazelcastInstance hz;
        private final String name;
        private ElementType storage = ElementType.F32;
        private int backupCount = 1;
        private Duration queryTimeout = Duration.ofSeconds(60);

        private Builder(HazelcastInstance hz, String name) {
            this.hz = Objects.requireNonNull(hz, "hazelcastInstance");
            this.name = Objects.requireNonNull(name, "name");
        }

        /** How the members store vectors (see {@code MempipeEmbeddingStore.Builder#storage}). */
        public Builder storage(ElementType storage) {
            this.storage = Objects.requireNonNull(storage, "storage");
            return this;
        }

        /** Synchronous backups of every entry (default 1). */
        public Builder backupCount(int backupCount) {
            this.backupCount = backupCount;
            return this;
        }

        /** How long a search keeps retrying while members leave or partitions move (default 60 s). */
        public Builder queryTimeout(Duration queryTimeout) {
            this.queryTimeout = Objects.requireNonNull(queryTimeout, "queryTimeout");
            return this;
        }

        public ClusterEmbeddingStore build() {
            return new ClusterEmbeddingStore(this);
        }
    }
}
