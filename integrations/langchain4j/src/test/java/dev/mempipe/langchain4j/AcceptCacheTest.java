package dev.mempipe.langchain4j;

import static dev.langchain4j.store.embedding.filter.MetadataFilterBuilder.metadataKey;
import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.filter.Filter;
import dev.langchain4j.store.embedding.filter.logical.And;
import dev.langchain4j.store.embedding.filter.logical.Not;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.lucene.util.FixedBitSet;
import org.junit.jupiter.api.Test;

/** {@link AcceptCache}: which filters it keeps, when it recomputes, and that a store never answers from stale bits. */
class AcceptCacheTest {
    private static final Filter RED = metadataKey("colour").isEqualTo("red");

    @Test
    void should_cache_langchain4j_filters_and_logical_filters_over_them_only() {
        assertThat(AcceptCache.cacheable(RED)).isTrue();
        assertThat(AcceptCache.cacheable(metadataKey("n").isIn(1, 2, 3))).isTrue();
        assertThat(AcceptCache.cacheable(RED.and(metadataKey("n").isGreaterThan(2)).or(Filter.not(RED)))).isTrue();
        Filter custom = object -> true; // may depend on anything: tested every time
        assertThat(AcceptCache.cacheable(custom)).isFalse();
        assertThat(AcceptCache.cacheable(new And(RED, custom))).isFalse();
        assertThat(AcceptCache.cacheable(new Not(custom))).isFalse();
        assertThat(AcceptCache.cacheable(new And(RED, RED) { })).isFalse(); // a subclass may override test
        assertThat(AcceptCache.cacheable(null)).isFalse();
    }

    @Test
    void should_compute_once_per_version_and_equal_filter_and_evict_the_least_recent() {
        AcceptCache cache = new AcceptCache();
        AtomicInteger computed = new AtomicInteger();
        FixedBitSet bits = new FixedBitSet(8);
        cache.accepted(RED, 1, () -> count(computed, bits));
        FixedBitSet again = cache.accepted(metadataKey("colour").isEqualTo("red"), 1, () -> count(computed, bits));
        assertThat(again).isSameAs(bits);
        assertThat(computed).hasValue(1);
        cache.accepted(RED, 2, () -> count(computed, bits)); // the store changed
        assertThat(computed).hasValue(2);
        for (int i = 0; i < AcceptCache.CAPACITY; i++) {
            cache.accepted(metadataKey("n").isEqualTo(i), 2, () -> count(computed, bits));
        }
        assertThat(cache.size()).isEqualTo(AcceptCache.CAPACITY);
        cache.accepted(RED, 2, () -> count(computed, bits)); // pushed out by the 16 newer filters
        assertThat(computed).hasValue(2 + AcceptCache.CAPACITY + 1);
        Filter custom = object -> true;
        cache.accepted(custom, 2, () -> count(computed, bits));
        cache.accepted(custom, 2, () -> count(computed, bits));
        assertThat(computed).hasValue(2 + AcceptCache.CAPACITY + 3);
    }

    @Test
    void should_see_every_add_and_removal_after_a_cached_filtered_search() {
        try (MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().dimension(2).build()) {
            store.addAll(List.of("a"), List.of(new Embedding(new float[] {1, 0})), List.of(segment("red")));
            store.addAll(List.of("b"), List.of(new Embedding(new float[] {0, 1})), List.of(segment("blue")));
            assertThat(ids(store)).containsExactly("a");
            store.addAll(List.of("c"), List.of(new Embedding(new float[] {1, 0.1f})), List.of(segment("red")));
            assertThat(ids(store)).containsExactly("a", "c");
            store.remove("a");
            assertThat(ids(store)).containsExactly("c");
            store.removeAll(metadataKey("colour").isEqualTo("blue"));
            store.addAll(List.of("d"), List.of(new Embedding(new float[] {1, 0.2f})), List.of(segment("red")));
            assertThat(ids(store)).containsExactly("c", "d");
            store.removeAll();
            assertThat(ids(store)).isEmpty();
        }
    }

    @Test
    void should_test_a_custom_filter_on_every_search() {
        try (MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().dimension(2).build()) {
            store.addAll(List.of("a"), List.of(new Embedding(new float[] {1, 0})), List.of(segment("red")));
            AtomicLong calls = new AtomicLong();
            Filter counting = metadata -> {
                calls.incrementAndGet();
                return true;
            };
            EmbeddingSearchRequest request = EmbeddingSearchRequest.builder()
                    .queryEmbedding(new Embedding(new float[] {1, 0})).filter(counting).build();
            store.search(request);
            store.search(request);
            assertThat(calls).hasValue(2);
        }
    }

    private static FixedBitSet count(AtomicInteger computed, FixedBitSet bits) {
        computed.incrementAndGet();
        return bits;
    }

    private static TextSegment segment(String colour) {
        return TextSegment.from(colour + " thing", Metadata.from("colour", colour));
    }

    private static List<String> ids(MempipeEmbeddingStore store) {
        EmbeddingSearchRequest request = EmbeddingSearchRequest.builder().queryEmbedding(new Embedding(new float[] {1, 0}))
                .maxResults(10).filter(RED).build();
        return store.search(request).matches().stream().map(EmbeddingMatch::embeddingId).sorted().toList();
    }
}
