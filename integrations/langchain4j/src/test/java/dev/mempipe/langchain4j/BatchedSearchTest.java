package dev.mempipe.langchain4j;

import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.EmbeddingSearchResult;
import dev.langchain4j.store.embedding.filter.Filter;
import dev.mempipe.core.memory.HnswSettings;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.langchain4j.store.embedding.filter.MetadataFilterBuilder.metadataKey;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** {@code searchAll} answers each request as {@code search} would on an exact store, in one pass. */
class BatchedSearchTest {

    private static MempipeEmbeddingStore filled(MempipeEmbeddingStore.Builder builder, List<Embedding> vectors) {
        MempipeEmbeddingStore store = builder.build();
        List<TextSegment> segments = new ArrayList<>();
        for (int i = 0; i < vectors.size(); i++) {
            segments.add(TextSegment.from("doc " + i, new Metadata().put("bucket", i % 10).put("even", i % 2 == 0
                    ? "yes" : "no")));
        }
        store.addAll(vectors, segments);
        return store;
    }

    @Test
    void should_answer_each_request_as_search_does() {
        List<Embedding> vectors = SyntheticEmbeddings.clustered(7, 2000, 48, 12);
        List<Embedding> queries = SyntheticEmbeddings.clustered(8, 150, 48, 12); // > 64: several query groups
        Filter[] filters = {null, metadataKey("bucket").isLessThan(3), metadataKey("even").isEqualTo("yes"), null};
        try (MempipeEmbeddingStore store = filled(MempipeEmbeddingStore.builder(), vectors)) {
            List<EmbeddingSearchRequest> requests = new ArrayList<>();
            for (int j = 0; j < queries.size(); j++) {
                requests.add(EmbeddingSearchRequest.builder().queryEmbedding(queries.get(j)).maxResults(1 + j % 17)
                        .minScore(j % 5 == 0 ? 0.8 : 0.0).filter(filters[j % filters.length]).build());
            }
            List<EmbeddingSearchResult<TextSegment>> batched = store.searchAll(requests);
            assertThat(batched).hasSize(requests.size());
            for (int j = 0; j < requests.size(); j++) {
                assertSameMatches(batched.get(j).matches(), store.search(requests.get(j)).matches(), "request " + j);
            }
        }
    }

    /**
     * Same entries, same order, scores equal within f32 rounding: the batched kernel scores four queries per pass
     * over a row and so adds the products in another order than the single-query kernel (a difference of an ulp).
     */
    private static void assertSameMatches(List<EmbeddingMatch<TextSegment>> got,
                                          List<EmbeddingMatch<TextSegment>> want, String context) {
        assertThat(got).as(context).hasSameSizeAs(want);
        for (int i = 0; i < want.size(); i++) {
            assertThat(got.get(i).score()).as(context).isCloseTo(want.get(i).score(), within(1e-6));
            boolean nearTie = (i > 0 && want.get(i - 1).score() - want.get(i).score() < 2e-6)
                    || (i + 1 < want.size() && want.get(i).score() - want.get(i + 1).score() < 2e-6);
            if (!nearTie) {
                assertThat(got.get(i).embeddingId()).as(context).isEqualTo(want.get(i).embeddingId());
                assertThat(got.get(i).embedded()).as(context).isEqualTo(want.get(i).embedded());
                assertThat(got.get(i).embedding()).as(context).isEqualTo(want.get(i).embedding());
            }
        }
    }

    @Test
    void should_merge_blocks_when_the_batch_splits_the_rows() {
        // 2000 requests: the score scratch holds 2^22 floats, so blocks of 4096 rows over 9000 rows: 3 blocks
        List<Embedding> vectors = SyntheticEmbeddings.clustered(9, 9000, 8, 20);
        List<Embedding> queries = SyntheticEmbeddings.clustered(10, 2000, 8, 20);
        try (MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().build()) {
            ScalarOracle oracle = new ScalarOracle();
            List<String> ids = store.addAll(vectors);
            for (int i = 0; i < ids.size(); i++) {
                oracle.add(ids.get(i), vectors.get(i));
            }
            List<EmbeddingSearchRequest> requests = queries.stream().map(q -> EmbeddingSearchRequest.builder()
                    .queryEmbedding(q).maxResults(5).build()).toList();
            List<EmbeddingSearchResult<TextSegment>> batched = store.searchAll(requests);
            for (int j = 0; j < requests.size(); j += 97) {
                var got = batched.get(j).matches();
                var want = oracle.search(queries.get(j), 5);
                for (int i = 0; i < want.size(); i++) {
                    assertThat(got.get(i).score()).isCloseTo(want.get(i).score(),
                            within(2e-6));
                }
            }
        }
    }

    @Test
    void should_search_exactly_also_on_an_approximate_store() {
        List<Embedding> vectors = SyntheticEmbeddings.clustered(11, 500, 16, 6);
        try (MempipeEmbeddingStore exact = filled(MempipeEmbeddingStore.builder(), vectors);
             MempipeEmbeddingStore approximate = filled(MempipeEmbeddingStore.builder()
                     .approximate(HnswSettings.DEFAULT), vectors)) {
            var request = EmbeddingSearchRequest.builder().queryEmbedding(vectors.get(3)).maxResults(20).build();
            var fromApproximate = approximate.searchAll(List.of(request)).getFirst().matches();
            var fromExact = exact.searchAll(List.of(request)).getFirst().matches();
            assertThat(fromApproximate).extracting(EmbeddingMatch::score)
                    .isEqualTo(fromExact.stream().map(EmbeddingMatch::score).toList());
            assertThat(fromApproximate).extracting(EmbeddingMatch::embedded)
                    .isEqualTo(fromExact.stream().map(EmbeddingMatch::embedded).toList());
        }
    }

    @Test
    void should_reject_a_null_request_naming_its_position() {
        try (MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().build()) {
            var ok = EmbeddingSearchRequest.builder().queryEmbedding(new Embedding(new float[] {1, 0})).build();
            List<EmbeddingSearchRequest> requests = new ArrayList<>();
            requests.add(ok);
            requests.add(null);
            assertThatThrownBy(() -> store.searchAll(requests)).hasMessage("requests[1] is null");
            assertThat(store.searchAll(List.of(ok, ok))).allSatisfy(r -> assertThat(r.matches()).isEmpty());
        }
    }
}
