package dev.mempipe.langchain4j;

import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.rag.content.Content;
import dev.langchain4j.rag.content.ContentMetadata;
import dev.langchain4j.rag.content.retriever.ContentRetriever;
import dev.langchain4j.rag.query.Query;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class HybridRetrieverTest {
    private static final Query QUERY = Query.from("anything");

    /** A retriever that always returns {@code texts} in that order. */
    private static ContentRetriever returning(String... texts) {
        List<Content> contents = Arrays.stream(texts).map(Content::from).toList();
        return query -> contents;
    }

    private static List<String> texts(List<Content> contents) {
        return contents.stream().map(c -> c.textSegment().text()).toList();
    }

    private static double score(Content c) {
        return (Double) c.metadata().get(ContentMetadata.SCORE);
    }

    @Test
    void should_rank_by_summed_reciprocal_ranks_with_k_60() {
        HybridRetriever hybrid = HybridRetriever.builder(List.of(returning("x", "y", "z"), returning("y", "w")))
                .maxResults(10).build();

        List<Content> fused = hybrid.retrieve(QUERY);

        assertThat(texts(fused)).containsExactly("y", "x", "w", "z");
        assertThat(score(fused.get(0))).isCloseTo(1.0 / 62 + 1.0 / 61, within(1e-12));
        assertThat(score(fused.get(1))).isCloseTo(1.0 / 61, within(1e-12));
        assertThat(score(fused.get(2))).isCloseTo(1.0 / 62, within(1e-12));
        assertThat(score(fused.get(3))).isCloseTo(1.0 / 63, within(1e-12));
    }

    @Test
    void should_use_the_given_k() {
        HybridRetriever hybrid = HybridRetriever.builder(List.of(returning("x", "y"))).k(0).build();
        List<Content> fused = hybrid.retrieve(QUERY);
        assertThat(score(fused.get(0))).isEqualTo(1.0);
        assertThat(score(fused.get(1))).isEqualTo(0.5);
    }

    @Test
    void should_break_ties_by_first_appearance() {
        HybridRetriever hybrid = HybridRetriever.of(returning("b", "a"), returning("a", "b"), returning("c"));
        assertThat(texts(hybrid.retrieve(QUERY))).containsExactly("b", "a", "c");
    }

    @Test
    void should_count_a_text_repeated_in_one_list_once_at_its_best_rank() {
        HybridRetriever hybrid = HybridRetriever.builder(List.of(returning("x", "x", "y"))).build();
        List<Content> fused = hybrid.retrieve(QUERY);
        assertThat(texts(fused)).containsExactly("x", "y");
        assertThat(score(fused.get(0))).isCloseTo(1.0 / 61, within(1e-12));
        assertThat(score(fused.get(1))).isCloseTo(1.0 / 63, within(1e-12));
    }

    @Test
    void should_merge_equal_texts_keeping_the_first_segment_and_its_embedding_id() {
        TextSegment dense = TextSegment.from("same text", Metadata.from("source", "store"));
        TextSegment lexical = TextSegment.from("same text", Metadata.from("source", "bm25"));
        ContentRetriever first = query -> List.of(Content.from(dense,
                Map.of(ContentMetadata.SCORE, 0.9, ContentMetadata.EMBEDDING_ID, "id-1")));
        ContentRetriever second = query -> List.of(Content.from(lexical, Map.of(ContentMetadata.SCORE, 7.5)));

        List<Content> fused = HybridRetriever.of(first, second).retrieve(QUERY);

        assertThat(fused).hasSize(1);
        assertThat(fused.getFirst().textSegment()).isEqualTo(dense);
        assertThat(fused.getFirst().metadata()).containsEntry(ContentMetadata.EMBEDDING_ID, "id-1");
        assertThat(score(fused.getFirst())).isCloseTo(2.0 / 61, within(1e-12));
    }

    @Test
    void should_return_at_most_max_results_and_nothing_when_no_retriever_finds_anything() {
        assertThat(HybridRetriever.of(returning("a", "b", "c", "d")).retrieve(QUERY)).hasSize(3);
        assertThat(HybridRetriever.of(returning(), returning()).retrieve(QUERY)).isEmpty();
    }

    @Test
    void should_reject_bad_settings_naming_the_argument() {
        assertThatThrownBy(() -> HybridRetriever.builder(List.of())).hasMessage("retrievers must not be empty");
        assertThatThrownBy(() -> HybridRetriever.builder(Arrays.asList(returning("a"), null)))
                .hasMessage("retrievers[1] is null");
        assertThatThrownBy(() -> HybridRetriever.of(returning("a")).retrieve(null)).hasMessage("query");
        assertThatThrownBy(() -> HybridRetriever.builder(List.of(returning("a"))).k(-1))
                .hasMessage("k must be >= 0, got -1");
        assertThatThrownBy(() -> HybridRetriever.builder(List.of(returning("a"))).maxResults(0))
                .hasMessage("maxResults must be >= 1, got 0");
    }
}
