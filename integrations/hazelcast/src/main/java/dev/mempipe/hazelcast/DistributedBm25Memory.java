package dev.mempipe.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import dev.mempipe.core.memory.Bm25Memory;
import dev.mempipe.spi.Bm25Params;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A BM25 memory for lexical RAG sharded over a Hazelcast cluster: the distributed form of {@link Bm25Memory}, whose
 * search returns the same documents, order and scores, to the bit, as one {@code Bm25Memory} holding the same
 * documents in id order.
 *
 * <p><b>Where things are.</b> Documents (term id arrays) live in the {@code IMap} {@code mempipe.<name>.rows} (key:
 * the document id), partitioned by Hazelcast, with {@code backupCount} synchronous backups. Each member keeps an
 * off-heap {@link Bm25Memory} of the partitions it owns, indexed by the backend's {@code bm25Index}.
 *
 * <p><b>Search, in two passes.</b> BM25 scores depend on the whole corpus (N, the mean document length, each term's
 * document frequency), so a search first asks every member for its share of those statistics for the query's terms,
 * sums them, then asks every member for its top k scored with the cluster's statistics ({@link Bm25GlobalIndex}), and
 * merges the lists in the contract's order (score descending, then id ascending). Both passes read the same member
 * copies; should a copy change in between (a migration), the search starts again.
 *
 * <p><b>Term ids</b> are the caller's: tokenize with a vocabulary every writer and reader shares (for example one
 * {@code SimpleTokenizer} whose vocabulary was built up front and distributed, or a hash of each word).
 *
 * <p>Consistency, failures and thread-safety are those of {@link DistributedEmbeddingMemory}.
 */
public final class DistributedBm25Memory {
    static final long KIND = 2;
    /** Documents per {@code putAll}. */
    private static final int WRITE_BATCH = 1024;
    /** {@code Bm25Index} holds per-document arrays; the cluster's N must fit one (see {@link Bm25GlobalIndex}). */
    static final long MAX_DOCUMENTS = Integer.MAX_VALUE - 16;

    private final ShardedRows<Long, int[]> shards;

    private DistributedBm25Memory(Builder b) {
        this.shards = new ShardedRows<>(b.hz, b.name, new long[] {KIND}, b.backupCount, b.queryTimeout);
    }

    /** Opens (or creates) the memory {@code name} of the cluster that {@code hz} (a member or a client) belongs to. */
    public static Builder builder(HazelcastInstance hz, String name) {
        return new Builder(hz, name);
    }

    /**
     * Appends documents, each a list of term ids ({@code >= 0}; may be empty). Returns once every backup holds them.
     *
     * @return the id of the first document, the others following consecutively; -1 when {@code documents} is empty
     * @throws IllegalArgumentException naming the document and position of a negative term id (nothing is appended)
     */
    public long append(List<int[]> documents) {
        Objects.requireNonNull(documents, "documents");
        List<int[]> copies = new ArrayList<>(documents.size());
        for (int d = 0; d < documents.size(); d++) {
            int[] terms = documents.get(d);
            if (terms == null) {
                throw new IllegalArgumentException("documents[" + d + "] is null");
            }
            for (int i = 0; i < terms.length; i++) {
                if (terms[i] < 0) {
                    throw new IllegalArgumentException("documents[" + d + "] holds term id " + terms[i]
                            + " at position " + i + "; term ids must be >= 0");
                }
            }
            copies.add(terms.clone());
        }
        if (copies.isEmpty()) {
            return -1;
        }
        long first = shards.reserveIds(copies.size());
        List<Long> keys = new ArrayList<>(copies.size());
        for (int from = 0; from < copies.size(); from += WRITE_BATCH) {
            int to = Math.min(copies.size(), from + WRITE_BATCH);
            Map<Long, int[]> batch = new HashMap<>(2 * (to - from));
            for (int i = from; i < to; i++) {
                batch.put(first + i, copies.get(i));
                keys.add(first + i);
            }
            shards.rows().putAll(batch);
        }
        shards.changed(keys);
        return first;
    }

    /** {@link #search(int[], int, Bm25Params)} with {@link Bm25Params#DEFAULT}. */
    public ClusterHits search(int[] queryTerms, int k) {
        return search(queryTerms, k, Bm25Params.DEFAULT);
    }

    /**
     * The k best documents for {@code queryTerms}: the same ids, order and scores as {@link Bm25Memory#search} on
     * one node holding the same documents in id order (a repeated query term counts once; an unknown one adds 0).
     *
     * @throws ShardsUnavailableException when partitions stayed without an owner for the query timeout
     */
    public ClusterHits search(int[] queryTerms, int k, Bm25Params params) {
        Objects.requireNonNull(queryTerms, "queryTerms");
        Objects.requireNonNull(params, "params");
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1, got " + k);
        }
        int[] terms = queryTerms.clone();
        String rowsMap = ShardedRows.rowsMap(shards.name());
        String replicaKey = shards.replicaKey();
        long deadline = System.nanoTime() + shards.queryTimeout().toNanos();
        while (true) {
            List<Bm25Stats> stats = shards.askEveryMember(versions -> new Bm25Tasks.Stats(rowsMap, replicaKey,
                    versions, terms));
            long documents = 0;
            long tokens = 0;
            int[] docFreq = new int[terms.length];
            for (Bm25Stats member : stats) {
                documents += member.documents();
                tokens += member.tokens();
                for (int i = 0; i < terms.length; i++) {
                    docFreq[i] += member.docFreq()[i];
                }
            }
            if (documents == 0) {
                return ClusterHits.empty();
            }
            if (documents > MAX_DOCUMENTS) {
                throw new IllegalStateException("memory '" + shards.name() + "' holds " + documents
                        + " documents; a BM25 search scores at most " + MAX_DOCUMENTS);
            }
            int n = (int) documents;
            long total = tokens;
            // the versions of the copies the statistics pass counted: the members score those same copies
            long[] counted = new long[shards.partitionCount()];
            for (Bm25Stats member : stats) {
                Coverage c = member.coverage();
                for (int i = 0; i < c.partitions().length; i++) {
                    counted[c.partitions()[i]] = c.stamps()[i];
                }
            }
            List<RankedAnswer> answers = shards.askEveryMember(versions -> new Bm25Tasks.Score(rowsMap, replicaKey,
                    versions, terms, k, params, n, total, docFreq), counted);
            if (sameCopies(stats, answers)) {
                List<HitMerge.Ranked> lists = new ArrayList<>(answers.size());
                answers.forEach(a -> lists.add(a.ranked()));
                return HitMerge.merge(lists, k);
            }
            // a member's copy changed between the passes (partitions moved): count again
            if (System.nanoTime() > deadline) {
                throw new ShardsUnavailableException("memory '" + shards.name() + "': member copies kept changing"
                        + " between the statistics and the scoring pass for " + shards.queryTimeout(), null);
            }
        }
    }

    /** Whether every scoring answer came from the copy (partitions and generation) a statistics answer counted. */
    private static boolean sameCopies(List<Bm25Stats> stats, List<RankedAnswer> answers) {
        for (RankedAnswer answer : answers) {
            boolean counted = false;
            for (Bm25Stats s : stats) {
                if (s.coverage().generation() == answer.coverage().generation()
                        && Arrays.equals(s.coverage().partitions(), answer.coverage().partitions())) {
                    counted = true;
                    break;
                }
            }
            if (!counted) {
                return false;
            }
        }
        return true;
    }

    /** Documents held by the cluster. */
    public long size() {
        return shards.rows().size();
    }

    public String name() {
        return shards.name();
    }

    /** Removes every document and the memory itself from the cluster and frees the members' copies. */
    public void destroy() {
        shards.destroy();
    }

    /** Settings: the backup count (1) and the query timeout (60 s). */
    public static final class Builder {
        private final HazelcastInstance hz;
        private final String name;
        private int backupCount = 1;
        private Duration queryTimeout = Duration.ofSeconds(60);

        private Builder(HazelcastInstance hz, String name) {
            this.hz = Objects.requireNonNull(hz, "hazelcastInstance");
            this.name = Objects.requireNonNull(name, "name");
        }

        /** Synchronous backups of every document (default 1); see {@link DistributedEmbeddingMemory.Builder#backupCount}. */
        public Builder backupCount(int backupCount) {
            this.backupCount = backupCount;
            return this;
        }

        /** How long a search keeps retrying while members leave or partitions move (default 60 s). */
        public Builder queryTimeout(Duration queryTimeout) {
            this.queryTimeout = Objects.requireNonNull(queryTimeout, "queryTimeout");
            return this;
        }

        public DistributedBm25Memory build() {
            return new DistributedBm25Memory(this);
        }
    }
}
