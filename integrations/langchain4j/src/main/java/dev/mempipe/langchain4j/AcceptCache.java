package dev.mempipe.langchain4j;

import dev.langchain4j.store.embedding.filter.Filter;
import dev.langchain4j.store.embedding.filter.logical.And;
import dev.langchain4j.store.embedding.filter.logical.Not;
import dev.langchain4j.store.embedding.filter.logical.Or;
import org.apache.lucene.util.FixedBitSet;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The rows that recently used filters accept, so that a filter repeated across searches (a tenant, a category, a
 * date range) is tested against the metadata of every row once per change of the store, not once per search.
 * Testing a LangChain4j filter against 100k rows takes about 9 ms ({@code IsEqualTo.test} copies each row's
 * metadata map), several times the search it restricts.
 *
 * <p>Only LangChain4j's own filters are cached, and logical ones only when every operand is one: their
 * {@code test} is a pure function of the metadata and they are value objects ({@code equals}, {@code hashCode}).
 * Any other {@link Filter} may depend on state this cache cannot see, so it is tested on every search. An entry
 * records the {@link Entries#version()} it was computed at and is ignored once the store has changed.
 *
 * <p>Holds at most {@link #CAPACITY} bit sets (one bit per row each), least recently used out first. Thread-safe:
 * searches under the store's read lock use it concurrently. The bit sets it returns are shared: callers only read.
 */
final class AcceptCache {
    static final int CAPACITY = 16;
    private static final String FILTER_PACKAGE = Filter.class.getPackageName();

    private record Accepted(long version, FixedBitSet rows) {
    }

    private final Map<Filter, Accepted> recent = new LinkedHashMap<>(CAPACITY, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Filter, Accepted> eldest) {
            return size() > CAPACITY;
        }
    };

    /**
     * The rows {@code filter} accepts at store version {@code version}: cached when the filter is cacheable and the
     * store has not changed since, else computed by {@code compute} (and cached when cacheable).
     */
    FixedBitSet accepted(Filter filter, long version, Supplier<FixedBitSet> compute) {
        if (!cacheable(filter)) {
            return compute.get();
        }
        synchronized (recent) {
            Accepted hit = recent.get(filter);
            if (hit != null && hit.version() == version) {
                return hit.rows();
            }
        }
        FixedBitSet rows = compute.get(); // outside the lock: another search may compute the same filter meanwhile
        synchronized (recent) {
            recent.put(filter, new Accepted(version, rows));
        }
        return rows;
    }

    /** Entries held now (stale ones included until they are replaced or pushed out). */
    int size() {
        synchronized (recent) {
            return recent.size();
        }
    }

    /** Whether {@code filter} is one of LangChain4j's own filters, or a logical filter over only those. */
    static boolean cacheable(Filter filter) {
        return switch (filter) {
            case null -> false;
            case And and when and.getClass() == And.class -> cacheable(and.left()) && cacheable(and.right());
            case Or or when or.getClass() == Or.class -> cacheable(or.left()) && cacheable(or.right());
            case Not not when not.getClass() == Not.class -> cacheable(not.expression());
            case And and -> false; // a subclass: its test may be anything
            case Or or -> false;
            case Not not -> false;
            default -> filter.getClass().getPackageName().equals(FILTER_PACKAGE + ".comparison");
        };
    }
}
