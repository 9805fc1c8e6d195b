package dev.mempipe.langchain4j;

import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.filter.Filter;
import dev.mempipe.core.memory.HnswSettings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.langchain4j.store.embedding.filter.MetadataFilterBuilder.metadataKey;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Recall@10 of the HNSW store against the exact store with metadata filters of decreasing selectivity, and with
 * removed entries: filters are applied during the graph walk (Lucene's accept bits), and a filter that would make
 * the walk cost more than a scan of the accepted rows falls back to the exact scan, so restrictive filters never
 * lose recall. The measured figures are printed (and quoted in the module README).
 */
class HnswRecallTest {
    private static final int N = 4000;
    private static final int D = 96;
    private static final int QUERIES = 60;
    private static final int K = 10;
    private static MempipeEmbeddingStore exact;
    private static MempipeEmbeddingStore hnsw;
    private static List<Embedding> vectors;
    private static List<Embedding> queries;
    private static List<TextSegment> segments;
    private static List<String> ids;

    @BeforeAll
    static void fill() {
        vectors = SyntheticEmbeddings.clustered(3, N, D, 40, 0.8);
        queries = SyntheticEmbeddings.clustered(4, QUERIES, D, 40, 0.8);
        segments = new ArrayList<>();
        ids = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            // bucket is independent of the cluster, so a filter keeps a random share of every neighbourhood
            segments.add(TextSegment.from("doc " + i, new Metadata().put("bucket", (i * 7919) % 100)));
            ids.add("doc-" + i);
        }
        exact = MempipeEmbeddingStore.builder().build();
        hnsw = MempipeEmbeddingStore.builder().approximate(HnswSettings.DEFAULT).build();
        exact.addAll(ids, vectors, segments);
        hnsw.addAll(ids, vectors, segments);
    }

    @AfterAll
    static void close() {
        exact.close();
        hnsw.close();
    }

    private static double recall(MempipeEmbeddingStore approximate, Filter filter) {
        int found = 0;
        int wanted = 0;
        for (Embedding q : queries) {
            var request = EmbeddingSearchRequest.builder().queryEmbedding(q).maxResults(K).filter(filter).build();
            Set<String> truth = new HashSet<>();
            exact.search(request).matches().forEach(m -> truth.add(m.embeddingId()));
            List<EmbeddingMatch<TextSegment>> got = approximate.search(request).matches();
            assertThat(got).hasSameSizeAs(truth);
            for (EmbeddingMatch<TextSegment> m : got) {
                assertThat(filter == null || filter.test(m.embedded().metadata())).isTrue();
                found += truth.contains(m.embeddingId()) ? 1 : 0;
            }
            wanted += truth.size();
        }
        return (double) found / wanted;
    }

    /**
     * Measured on this data (4000 x 96, 40 clusters, noise 0.8: a hard case, neighbours are close), recall@10 with
     * search beam 100 / 200: no filter 0.947 / 0.990, 50% 0.978 / 0.992, 20% 0.975 / 0.988, 10% 0.947 / 0.982,
     * 5% 0.990 / 1.0, 2% and 1% 1.0 (exact fallback).
     */
    @ParameterizedTest
    @ValueSource(ints = {100, 200})
    void should_keep_recall_with_filters_of_any_selectivity(int searchBeam) {
        double bar = searchBeam >= 200 ? 0.97 : 0.93;
        try (MempipeEmbeddingStore approximate = MempipeEmbeddingStore.builder()
                .approximate(new HnswSettings(16, 100, searchBeam, 42)).build()) {
            approximate.addAll(ids, vectors, segments);
            Filter[] filters = {null, metadataKey("bucket").isLessThan(50), metadataKey("bucket").isLessThan(20),
                    metadataKey("bucket").isLessThan(10), metadataKey("bucket").isLessThan(5),
                    metadataKey("bucket").isLessThan(2), metadataKey("bucket").isLessThan(1)};
            String[] labels = {"no filter", "filter 50%", "filter 20%", "filter 10%", "filter 5%", "filter 2%",
                    "filter 1%"};
            for (int f = 0; f < filters.length; f++) {
                long[] before = approximate.graphCounters();
                double recall = recall(approximate, filters[f]);
                long[] after = approximate.graphCounters();
                System.out.printf("hnsw searchBeam=%d %s: recall@10 = %.4f (graph %d, exact fallback %d of %d"
                                + " searches)%n", searchBeam, labels[f], recall, after[0] - before[0],
                        after[1] - before[1], QUERIES);
                assertThat(recall).as(labels[f]).isGreaterThanOrEqualTo(bar);
            }
        }
    }

    @Test
    void should_answer_restrictive_filters_exactly_and_broad_ones_through_the_graph() {
        long[] before = hnsw.graphCounters();
        assertThat(recall(hnsw, metadataKey("bucket").isLessThan(1))).isEqualTo(1.0); // 40 rows accepted
        long[] after = hnsw.graphCounters();
        assertThat(after[1] - before[1]).isPositive();
        recall(hnsw, null);
        long[] later = hnsw.graphCounters();
        assertThat(later[0] - after[0]).isEqualTo(QUERIES);
        assertThat(later[1] - after[1]).isZero();
    }

    @Test
    void should_never_return_removed_entries_and_keep_recall() {
        try (MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().approximate(HnswSettings.DEFAULT).build();
             MempipeEmbeddingStore reference = MempipeEmbeddingStore.builder().build()) {
            List<Embedding> pool = SyntheticEmbeddings.clustered(5, 2000, 32, 20, 0.8);
            List<String> poolIds = store.addAll(pool);
            reference.addAll(poolIds, pool, null);
            store.search(EmbeddingSearchRequest.builder().queryEmbedding(pool.getFirst()).build()); // builds graph
            List<String> removed = new ArrayList<>();
            for (int i = 0; i < poolIds.size(); i += 3) {
                removed.add(poolIds.get(i)); // a third: tombstones, no compaction
            }
            store.removeAll(removed);
            reference.removeAll(removed);
            Set<String> gone = new HashSet<>(removed);
            int found = 0;
            for (int q = 0; q < 50; q++) {
                var request = EmbeddingSearchRequest.builder().queryEmbedding(pool.get(q * 37)).maxResults(K).build();
                Set<String> truth = new HashSet<>();
                reference.search(request).matches().forEach(m -> truth.add(m.embeddingId()));
                for (var m : store.search(request).matches()) {
                    assertThat(gone).doesNotContain(m.embeddingId());
                    found += truth.contains(m.embeddingId()) ? 1 : 0;
                }
            }
            double recall = found / (50.0 * K);
            System.out.printf("hnsw with a third removed: recall@10 = %.4f%n", recall);
            assertThat(recall).isGreaterThanOrEqualTo(0.95);

            List<String> more = new ArrayList<>();
            for (int i = 1; i < poolIds.size(); i += 3) {
                more.add(poolIds.get(i)); // now two thirds dead: compaction renumbers, the graph is rebuilt
            }
            store.removeAll(more);
            reference.removeAll(more);
            var request = EmbeddingSearchRequest.builder().queryEmbedding(pool.get(2)).maxResults(K).build();
            assertThat(store.search(request).matches()).extracting(EmbeddingMatch::embeddingId)
                    .isEqualTo(reference.search(request).matches().stream().map(EmbeddingMatch::embeddingId).toList());
        }
    }
}
