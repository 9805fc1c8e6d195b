package dev.mempipe.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.query.Predicates;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.filter.Filter;
import dev.mempipe.langchain4j.MempipeEmbeddingStore;
import dev.mempipe.spi.ElementType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A member's copy of its partitions' store entries: a single-node {@link MempipeEmbeddingStore} (off-heap rows,
 * exact SIMD scan, filters tested on each entry's metadata) holding them in the order they were added to the cluster,
 * so its ties (the entry added first) are the cluster's, and each entry's sequence number for the merge.
 *
 * <p>Thread-safety: the store is; the sequence map is read-only once built.
 */
final class StoreReplica implements AutoCloseable {
    private final MempipeEmbeddingStore store; // null when the member holds no entries
    private final Map<String, Long> sequences;

    private StoreReplica(MempipeEmbeddingStore store, Map<String, Long> sequences) {
        this.store = store;
        this.sequences = sequences;
    }

    static StoreReplica build(HazelcastInstance hz, String rowsMap, int[] partitions, ElementType storage) {
        List<Map.Entry<String, EntryCodec.Entry>> entries = new ArrayList<>();
        if (partitions.length > 0) {
            IMap<String, byte[]> rows = hz.getMap(rowsMap);
            for (Map.Entry<String, byte[]> e : rows.entrySet(Predicates.multiPartitionPredicate(
                    Partitions.routingKeys(hz, partitions), Predicates.alwaysTrue()))) {
                entries.add(Map.entry(e.getKey(), EntryCodec.decode(e.getValue())));
            }
        }
        if (entries.isEmpty()) {
            return new StoreReplica(null, Map.of());
        }
        entries.sort(Comparator.comparingLong(e -> e.getValue().sequence()));
        MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().storage(storage).engine(MemberEngine.of(hz))
                .build();
        Map<String, Long> sequences = new HashMap<>(2 * entries.size());
        try {
            // runs of entries with and without segments, in order (addAll takes segments for all or none)
            for (int from = 0; from < entries.size(); ) {
                boolean withSegment = entries.get(from).getValue().segment() != null;
                int to = from;
                List<String> ids = new ArrayList<>();
                List<Embedding> vectors = new ArrayList<>();
                List<TextSegment> segments = new ArrayList<>();
                while (to < entries.size() && (entries.get(to).getValue().segment() != null) == withSegment) {
                    Map.Entry<String, EntryCodec.Entry> e = entries.get(to);
                    ids.add(e.getKey());
                    vectors.add(new Embedding(e.getValue().vector()));
                    segments.add(e.getValue().segment());
                    sequences.put(e.getKey(), e.getValue().sequence());
                    to++;
                }
                store.addAll(ids, vectors, withSegment ? segments : null);
                from = to;
            }
            return new StoreReplica(store, sequences);
        } catch (RuntimeException | Error e) {
            store.close();
            throw e;
        }
    }

    /** This member's best matches for the request, best first, encoded for the caller's merge. */
    StoreAnswer search(float[] query, int maxResults, double minScore, byte[] filter, Coverage coverage) {
        if (store == null) {
            return new StoreAnswer(coverage, List.of());
        }
        Filter decoded = FilterCodec.decode(filter);
        EmbeddingSearchRequest request = EmbeddingSearchRequest.builder().queryEmbedding(new Embedding(query))
                .maxResults(maxResults).minScore(minScore).filter(decoded).build();
        List<StoreAnswer.Match> matches = new ArrayList<>();
        for (EmbeddingMatch<TextSegment> match : store.search(request).matches()) {
            long sequence = sequences.get(match.embeddingId());
            matches.add(new StoreAnswer.Match(match.score(), match.embeddingId(),
                    EntryCodec.encode(sequence, match.embedding().vector(), match.embedded())));
        }
        return new StoreAnswer(coverage, matches);
    }

    @Override
    public void close() {
        if (store != null) {
            store.close();
        }
    }
}
