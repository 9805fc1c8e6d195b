package dev.mempipe.langchain4j;

import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.rag.content.Content;
import dev.langchain4j.rag.content.ContentMetadata;
import dev.langchain4j.rag.query.Query;
import dev.langchain4j.store.embedding.CosineSimilarity;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.EmbeddingSearchResult;
import dev.langchain4j.store.embedding.EmbeddingStore;
import dev.langchain4j.store.embedding.RelevanceScore;
import dev.mempipe.langchain4j.rag.MiniLm;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import static dev.langchain4j.store.embedding.filter.MetadataFilterBuilder.metadataKey;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DenseRetrieverTest {
    private static final EmbeddingModel MODEL = MiniLm.model();
    private static final List<TextSegment> SEGMENTS = List.of(
            TextSegment.from("The cat sleeps on the warm windowsill.", Metadata.from("kind", "pets")),
            TextSegment.from("Puppies need to be walked several times a day.", Metadata.from("kind", "pets")),
            TextSegment.from("Stock markets fell sharply after the announcement.", Metadata.from("kind", "news")),
            TextSegment.from("The orchestra played Beethoven's ninth symphony.", Metadata.from("kind", "music")));
    private static MempipeEmbeddingStore store;
    private static List<String> ids;

    @BeforeAll
    static void fillStore() {
        store = MempipeEmbeddingStore.builder().build();
        List<Embedding> embeddings = MODEL.embedAll(SEGMENTS).content();
        ids = store.addAll(embeddings, SEGMENTS);
    }

    @AfterAll
    static void closeStore() {
        store.close();
    }

    private static List<String> texts(List<Content> contents) {
        return contents.stream().map(c -> c.textSegment().text()).toList();
    }

    @Test
    void should_return_the_closest_segments_with_score_and_embedding_id() {
        List<Content> found = DenseRetriever.builder(store, MODEL).maxResults(2).build()
                .retrieve(Query.from("Where does my kitten like to nap?"));

        assertThat(found).hasSize(2);
        assertThat(found.getFirst().textSegment()).isEqualTo(SEGMENTS.getFirst());
        assertThat(found.getFirst().metadata()).containsEntry(ContentMetadata.EMBEDDING_ID, ids.getFirst());
        double first = (Double) found.get(0).metadata().get(ContentMetadata.SCORE);
        double second = (Double) found.get(1).metadata().get(ContentMetadata.SCORE);
        assertThat(first).isGreaterThan(second).isLessThanOrEqualTo(1.0);
    }

    @Test
    void should_apply_the_filter_and_the_score_threshold() {
        DenseRetriever music = DenseRetriever.builder(store, MODEL).filter(metadataKey("kind").isEqualTo("music"))
                .build();
        assertThat(texts(music.retrieve(Query.from("Where does my kitten like to nap?"))))
                .containsExactly(SEGMENTS.get(3).text());

        DenseRetriever strict = DenseRetriever.builder(store, MODEL).minScore(0.99).build();
        assertThat(strict.retrieve(Query.from("Where does my kitten like to nap?"))).isEmpty();
    }

    @Test
    void should_work_over_any_embedding_store() {
        ListStore other = new ListStore();
        other.addAll(MODEL.embedAll(SEGMENTS).content(), SEGMENTS);
        List<Content> found = DenseRetriever.builder(other, MODEL).maxResults(1).build()
                .retrieve(Query.from("share prices dropped"));
        assertThat(texts(found)).containsExactly(SEGMENTS.get(2).text());
    }

    @Test
    void should_reject_bad_settings_naming_the_argument() {
        assertThatThrownBy(() -> DenseRetriever.builder(store, MODEL).maxResults(0))
                .hasMessage("maxResults must be >= 1, got 0");
        assertThatThrownBy(() -> DenseRetriever.builder(store, MODEL).minScore(1.5))
                .hasMessage("minScore must be in [0, 1], got 1.5");
        assertThatThrownBy(() -> DenseRetriever.builder(null, MODEL)).hasMessage("store");
    }

    /** The smallest other {@link EmbeddingStore}: a list scanned by cosine; it knows nothing of mempipe. */
    private static final class ListStore implements EmbeddingStore<TextSegment> {
        private final List<EmbeddingMatch<TextSegment>> entries = new ArrayList<>();

        @Override
        public List<String> addAll(List<Embedding> embeddings, List<TextSegment> segments) {
            List<String> added = new ArrayList<>();
            for (int i = 0; i < embeddings.size(); i++) {
                String id = "e" + entries.size();
                entries.add(new EmbeddingMatch<>(0.0, id, embeddings.get(i), segments.get(i)));
                added.add(id);
            }
            return added;
        }

        @Override
        public EmbeddingSearchResult<TextSegment> search(EmbeddingSearchRequest request) {
            return new EmbeddingSearchResult<>(entries.stream()
                    .map(e -> new EmbeddingMatch<>(RelevanceScore.fromCosineSimilarity(
                            CosineSimilarity.between(e.embedding(), request.queryEmbedding())),
                            e.embeddingId(), e.embedding(), e.embedded()))
                    .filter(m -> m.score() >= request.minScore())
                    .sorted(Comparator.comparingDouble(m -> -m.score()))
                    .limit(request.maxResults())
                    .toList());
        }

        @Override
        public String add(Embedding embedding) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void add(String id, Embedding embedding) {
            throw new UnsupportedOperationException();
        }

        @Override
        public String add(Embedding embedding, TextSegment segment) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<String> addAll(List<Embedding> embeddings) {
            throw new UnsupportedOperationException();
        }
    }
}
