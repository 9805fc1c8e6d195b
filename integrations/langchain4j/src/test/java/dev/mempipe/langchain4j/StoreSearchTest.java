package dev.mempipe.langchain4j;

import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.filter.Filter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static dev.langchain4j.store.embedding.filter.MetadataFilterBuilder.metadataKey;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Exact search: the score convention, order, ties, minScore, filters, growth and removal, against an oracle. */
class StoreSearchTest {
    private static final long SEED = Long.getLong("mempipe.test.seed", 20261128L);

    private static Embedding e(float... v) {
        return new Embedding(v);
    }

    private static List<EmbeddingMatch<TextSegment>> search(MempipeEmbeddingStore store, Embedding query, int k,
                                                            double minScore, Filter filter) {
        return store.search(EmbeddingSearchRequest.builder().queryEmbedding(query).maxResults(k).minScore(minScore)
                .filter(filter).build()).matches();
    }

    @Test
    void should_score_as_langchain4j_does_cos_plus_one_over_two() {
        try (MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().build()) {
            store.add("same", e(2, 0, 0, 0));
            store.add("orthogonal", e(0, 3, 0, 0));
            store.add("opposite", e(-1, 0, 0, 0));
            store.add("diagonal", e(1, 1, 0, 0));
            store.add("zero", e(0, 0, 0, 0));
            List<EmbeddingMatch<TextSegment>> matches = search(store, e(5, 0, 0, 0), 10, 0, null);
            assertThat(matches).extracting(EmbeddingMatch::embeddingId)
                    .containsExactly("same", "diagonal", "orthogonal", "zero", "opposite");
            assertThat(matches.get(0).score()).isCloseTo(1.0, within(1e-7));
            assertThat(matches.get(1).score()).isCloseTo((Math.sqrt(0.5) + 1) / 2, within(1e-7));
            assertThat(matches.get(2).score()).isCloseTo(0.5, within(1e-7));
            assertThat(matches.get(3).score()).isEqualTo(0.5); // a zero vector has cosine 0 with everything
            assertThat(matches.get(4).score()).isCloseTo(0.0, within(1e-7));
        }
    }

    @Test
    void should_return_the_embedding_bit_for_bit_from_an_f32_store() {
        try (MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().build()) {
            Embedding odd = e(0.1f, -3.3e-7f, 1234.5f, Float.MIN_NORMAL);
            store.add(odd);
            assertThat(search(store, odd, 1, 0, null).getFirst().embedding()).isEqualTo(odd);
        }
    }

    @Test
    void should_break_ties_by_insertion_order_also_after_compaction() {
        try (MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().build()) {
            for (String id : List.of("a", "b", "c", "d", "e")) {
                store.add(id, e(1, 1, 0));
            }
            assertThat(search(store, e(1, 1, 0), 10, 0, null)).extracting(EmbeddingMatch::embeddingId)
                    .containsExactly("a", "b", "c", "d", "e");
            store.removeAll(List.of("a", "c", "d")); // 3 of 5 dead: compacts
            store.add("f", e(1, 1, 0));
            assertThat(search(store, e(1, 1, 0), 10, 0, null)).extracting(EmbeddingMatch::embeddingId)
                    .containsExactly("b", "e", "f");
        }
    }

    @Test
    void should_treat_min_score_as_inclusive() {
        try (MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().build()) {
            store.add("one", e(1, 0));
            store.add("half", e(0, 1));
            assertThat(search(store, e(1, 0), 10, 0.5, null)).hasSize(2);
            assertThat(search(store, e(1, 0), 10, Math.nextUp(0.5), null)).hasSize(1);
            assertThat(search(store, e(1, 0), 10, 1.0, null)).extracting(EmbeddingMatch::embeddingId)
                    .containsExactly("one");
        }
    }

    @Test
    void should_test_entries_without_a_segment_as_empty_metadata() {
        try (MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().build()) {
            store.add("bare", e(1, 0));
            store.add(e(1, 0), TextSegment.from("x", new Metadata().put("k", 1)));
            assertThat(search(store, e(1, 0), 10, 0, metadataKey("k").isEqualTo(1))).hasSize(1);
            assertThat(search(store, e(1, 0), 10, 0, Filter.not(metadataKey("k").isEqualTo(1))))
                    .extracting(EmbeddingMatch::embeddingId).containsExactly("bare");
            store.removeAll(metadataKey("k").isNotEqualTo(1));
            assertThat(store.size()).isOne();
        }
    }

    @Test
    void should_accept_any_max_results_on_both_searches() {
        for (var builder : List.of(MempipeEmbeddingStore.builder(),
                MempipeEmbeddingStore.builder().approximate(dev.mempipe.core.memory.HnswSettings.DEFAULT))) {
            try (MempipeEmbeddingStore store = builder.build()) {
                store.addAll(SyntheticEmbeddings.clustered(3, 300, 8, 4));
                assertThat(search(store, e(1, 2, 3, 4, 5, 6, 7, 8), Integer.MAX_VALUE, 0, null)).hasSize(300);
                assertThat(search(store, e(1, 2, 3, 4, 5, 6, 7, 8), Integer.MAX_VALUE, 0,
                        Filter.not(metadataKey("k").isEqualTo(1)))).hasSize(300);
            }
        }
    }

    /** Awkward sizes around the growth doublings and the scan's blocks, on dimensions that leave vector tails. */
    @ParameterizedTest
    @ValueSource(ints = {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 129, 1025, 4097})
    void should_match_the_scalar_oracle_for_awkward_sizes(int n) {
        for (int d : new int[] {1, 3, 17, 384}) {
            List<Embedding> vectors = SyntheticEmbeddings.clustered(SEED + n * 31L + d, n, d, 5);
            List<Embedding> queries = SyntheticEmbeddings.clustered(SEED - n, 3, d, 5);
            try (MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().build()) {
                ScalarOracle oracle = new ScalarOracle();
                for (int i = 0; i < n; i++) {
                    String id = "r" + i;
                    store.add(id, vectors.get(i)); // one at a time: every doubling is crossed
                    oracle.add(id, vectors.get(i));
                }
                for (Embedding q : queries) {
                    assertSameAsOracle(store, oracle, q, Math.min(10, n),
                            "n=" + n + " d=" + d + " seed=" + SEED + " (-Dmempipe.test.seed=" + SEED + ")");
                }
            }
        }
    }

    @Test
    void should_match_the_oracle_through_random_adds_and_removals() {
        SplittableRandom random = new SplittableRandom(SEED);
        List<Embedding> pool = SyntheticEmbeddings.clustered(SEED, 3000, 24, 8);
        try (MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().build()) {
            ScalarOracle oracle = new ScalarOracle();
            List<String> ids = new ArrayList<>();
            int next = 0;
            for (int step = 0; step < 40; step++) {
                int adds = random.nextInt(120);
                List<String> batchIds = new ArrayList<>();
                List<Embedding> batch = new ArrayList<>();
                for (int i = 0; i < adds && next < pool.size(); i++, next++) {
                    batchIds.add("e" + next);
                    batch.add(pool.get(next));
                    oracle.add("e" + next, pool.get(next));
                }
                store.addAll(batchIds, batch, null);
                ids.addAll(batchIds);
                int removes = random.nextInt(100);
                List<String> gone = new ArrayList<>();
                for (int i = 0; i < removes && !ids.isEmpty(); i++) {
                    String id = ids.remove(random.nextInt(ids.size()));
                    gone.add(id);
                    oracle.remove(id);
                }
                store.removeAll(gone);
                assertThat(store.size()).isEqualTo(oracle.size());
                assertSameAsOracle(store, oracle, pool.get(random.nextInt(pool.size())), 7, "step " + step
                        + " seed=" + SEED);
            }
        }
    }

    static void assertSameAsOracle(MempipeEmbeddingStore store, ScalarOracle oracle, Embedding query, int k,
                                   String context) {
        List<EmbeddingMatch<TextSegment>> got = search(store, query, k, 0, null);
        List<ScalarOracle.Hit> want = oracle.search(query, k);
        assertThat(got).as(context).hasSize(want.size());
        for (int i = 0; i < want.size(); i++) {
            // scores agree within f32 rounding; ids agree unless two scores are that close
            assertThat(got.get(i).score()).as(context + " rank " + i).isCloseTo(want.get(i).score(), within(2e-6));
            boolean nearTie = (i > 0 && want.get(i - 1).score() - want.get(i).score() < 4e-6)
                    || (i + 1 < want.size() && want.get(i).score() - want.get(i + 1).score() < 4e-6);
            if (!nearTie) {
                assertThat(got.get(i).embeddingId()).as(context + " rank " + i).isEqualTo(want.get(i).id());
            }
        }
    }
}
