package dev.mempipe.langchain4j;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.EmbeddingSearchResult;
import dev.langchain4j.store.embedding.filter.Filter;

import java.util.Collection;
import java.util.List;

/**
 * Where a {@link MempipeEmbeddingStore} built with {@link MempipeEmbeddingStore.Builder#backedBy} keeps its entries
 * instead of its own off-heap rows: for example a cluster (the {@code mempipe-hazelcast} module's
 * {@code ClusterEmbeddingStore} shards them over Hazelcast members, each searching its share with a store of its
 * own). The store still checks every argument as it does on one node (ids, dimensions, finite vectors, null
 * segments) and hands the backing only well-formed input; the backing owns the rest of the contract: ids unique
 * across everything it holds, ties in the order entries were added, scores as {@link MempipeEmbeddingStore} computes
 * them, {@code minScore} inclusive, filters tested on each entry's metadata (empty for an entry without a segment).
 *
 * <p>Implementations must be safe for concurrent use.
 */
public interface EmbeddingStoreBacking extends AutoCloseable {
    /** The dimension fixed by the first add (0 while there was none). */
    int dimension();

    /**
     * Adds entries, all or nothing.
     *
     * @param ids      non-blank, distinct within the call
     * @param vectors  finite, all of one dimension, norms in range (checked by the store)
     * @param segments the entries' segments, or null when none has one
     * @throws IllegalArgumentException when an id is already held (naming {@code ids[i]}) or the dimension differs
     *                                  from the one fixed before; nothing is added then
     */
    void add(List<String> ids, List<float[]> vectors, List<TextSegment> segments);

    /** Removes the entries with these ids; ids not held are ignored. */
    void remove(Collection<String> ids);

    /** Removes every entry whose metadata {@code filter} accepts; if testing an entry throws, removes nothing. */
    void removeAll(Filter filter);

    /** Removes every entry; the dimension stays fixed. */
    void removeAll();

    /** The request's best matches, best first (the query has the backing's dimension and is finite). */
    EmbeddingSearchResult<TextSegment> search(EmbeddingSearchRequest request);

    /** Entries held. */
    int size();

    /** Releases what this handle holds; the entries stay where they are. */
    @Override
    void close();
}
