package dev.mempipe.langchain4j;

import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.rag.content.Content;
import dev.langchain4j.rag.content.ContentMetadata;
import dev.langchain4j.rag.query.Query;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.langchain4j.store.embedding.filter.MetadataFilterBuilder.metadataKey;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class Bm25RetrieverTest {
    private static final List<TextSegment> SEGMENTS = List.of(
            TextSegment.from("The cat sat on the mat.", Metadata.from("lang", "en")),
            TextSegment.from("Dogs chase cats in the garden.", Metadata.from("lang", "en")),
            TextSegment.from("Le chat dort sur le canapé.", Metadata.from("lang", "fr")),
            TextSegment.from("Volcanoes erupt when magma rises.", Metadata.from("lang", "en")),
            TextSegment.from("A cat and a cat and a cat.", Metadata.from("lang", "en")));

    private static List<String> texts(List<Content> contents) {
        return contents.stream().map(c -> c.textSegment().text()).toList();
    }

    @Test
    void should_rank_segments_by_bm25_and_carry_the_score() {
        Bm25Retriever bm25 = Bm25Retriever.from(SEGMENTS);

        List<Content> found = bm25.retrieve(Query.from("cat"));

        assertThat(texts(found)).containsExactly("A cat and a cat and a cat.", "The cat sat on the mat.");
        double best = (Double) found.get(0).metadata().get(ContentMetadata.SCORE);
        double second = (Double) found.get(1).metadata().get(ContentMetadata.SCORE);
        assertThat(best).isGreaterThan(second).isGreaterThan(0);
    }

    @Test
    void should_return_nothing_for_a_query_without_indexed_words() {
        Bm25Retriever bm25 = Bm25Retriever.from(SEGMENTS);
        assertThat(bm25.retrieve(Query.from("quantum chromodynamics"))).isEmpty();
        assertThat(Bm25Retriever.builder().build().retrieve(Query.from("cat"))).isEmpty();
    }

    @Test
    void should_apply_the_filter_and_the_score_threshold() {
        Bm25Retriever french = Bm25Retriever.builder().filter(metadataKey("lang").isEqualTo("fr")).build();
        french.addAll(SEGMENTS);
        assertThat(texts(french.retrieve(Query.from("the cat le chat")))).containsExactly("Le chat dort sur le canapé.");

        Bm25Retriever strict = Bm25Retriever.builder().minScore(1000).build();
        strict.addAll(SEGMENTS);
        assertThat(strict.retrieve(Query.from("cat"))).isEmpty();
    }

    @Test
    void should_grow_past_its_initial_capacity() {
        Bm25Retriever bm25 = Bm25Retriever.builder().initialCapacity(2, 3).maxResults(1).build();
        for (int i = 0; i < 100; i++) {
            assertThat(bm25.add(TextSegment.from("segment number w" + i + " with several more words"))).isEqualTo(i);
        }
        assertThat(bm25.size()).isEqualTo(100);
        for (int i = 0; i < 100; i += 7) {
            assertThat(texts(bm25.retrieve(Query.from("w" + i))))
                    .containsExactly("segment number w" + i + " with several more words");
        }
    }

    @Test
    void should_share_the_index_with_views_of_other_settings() {
        Bm25Retriever one = Bm25Retriever.builder().maxResults(1).build();
        Bm25Retriever many = one.withMaxResults(10);
        one.addAll(SEGMENTS);
        assertThat(one.retrieve(Query.from("cat"))).hasSize(1);
        assertThat(many.retrieve(Query.from("cat"))).hasSize(2);
        many.add(TextSegment.from("cat"));
        assertThat(one.size()).isEqualTo(SEGMENTS.size() + 1);
    }

    @Test
    void should_search_while_another_thread_adds() throws Exception {
        Bm25Retriever bm25 = Bm25Retriever.builder().initialCapacity(4, 16).maxResults(5).build();
        bm25.add(TextSegment.from("anchor words"));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<?> writer = pool.submit(() -> {
                for (int i = 0; i < 500; i++) {
                    bm25.add(TextSegment.from("filler " + i + " anchor"));
                }
            });
            Future<List<Integer>> reader = pool.submit(() -> {
                List<Integer> sizes = new ArrayList<>();
                while (!writer.isDone()) {
                    sizes.add(bm25.retrieve(Query.from("anchor")).size());
                }
                return sizes;
            });
            writer.get();
            assertThat(reader.get()).allMatch(n -> n >= 1 && n <= 5);
        } finally {
            pool.shutdownNow();
        }
        assertThat(bm25.size()).isEqualTo(501);
    }

    @Test
    void should_reject_bad_settings_naming_the_argument() {
        assertThatThrownBy(() -> Bm25Retriever.builder().maxResults(0)).hasMessage("maxResults must be >= 1, got 0");
        assertThatThrownBy(() -> Bm25Retriever.builder().minScore(-1)).hasMessage("minScore must be finite and >= 0, got -1.0");
        assertThatThrownBy(() -> Bm25Retriever.builder().initialCapacity(0, 5))
                .hasMessage("initial capacity must be >= 1 segment and >= 1 word, got 0 segments, 5 words");
        assertThatThrownBy(() -> Bm25Retriever.builder().build().addAll(java.util.Arrays.asList(SEGMENTS.get(0), null)))
                .hasMessage("segments[1] is null");
    }
}
