package dev.mempipe.langchain4j.rag;

import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.rag.AugmentationRequest;
import dev.langchain4j.rag.AugmentationResult;
import dev.langchain4j.rag.DefaultRetrievalAugmentor;
import dev.langchain4j.rag.RetrievalAugmentor;
import dev.langchain4j.rag.content.Content;
import dev.langchain4j.rag.content.ContentMetadata;
import dev.langchain4j.rag.query.Metadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The offline RAG example end to end: the checked-in corpus, the real all-MiniLM-L6-v2 model, mempipe's store. */
class RagIndexTest {
    private static RagIndex index;

    /** The ten one-paragraph files of distinct topics under src/test/resources/rag/docs. */
    static Path docs() {
        try {
            return Path.of(RagIndexTest.class.getResource("/rag/docs").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @BeforeAll
    static void buildIndex() throws Exception {
        index = RagIndex.build(TextFolder.passages(docs()), MiniLm.model());
    }

    @AfterAll
    static void closeIndex() {
        index.close();
    }

    private static String file(Content content) {
        return content.textSegment().metadata().getString(TextFolder.FILE);
    }

    @Test
    void should_index_every_passage_of_the_corpus() {
        assertThat(index.size()).isEqualTo(10);
    }

    /** Paraphrases that share few words with their passage: what the embedding model is for. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            How do plants make food out of sunlight?                      | photosynthesis.txt
            Why does a mountain explode and throw out ash?                | volcanoes.txt
            How do bees tell each other where the flowers are?            | honeybees.txt
            How did ancient Rome bring water into the city?               | aqueducts.txt
            Why does some bread taste sour?                               | sourdough.txt
            How does Java clean up objects that are no longer used?       | garbage-collection.txt
            What happens to reefs when the ocean gets too hot?            | coral-reefs.txt
            How should I start a game of chess?                           | chess-openings.txt
            How many times a day do astronauts see the sun rise?          | space-station.txt
            What is the difference between green and black tea?           | tea.txt
            """)
    void should_rank_the_right_passage_first_by_dense_and_hybrid_retrieval(String query, String expected) {
        for (RetrievalMode mode : List.of(RetrievalMode.DENSE, RetrievalMode.HYBRID)) {
            List<Content> top = index.search(query, mode, 3);
            assertThat(top).as("%s: %s", mode, query).hasSize(3);
            assertThat(file(top.getFirst())).as("%s: %s -> %s", mode, query, top).isEqualTo(expected);
        }
    }

    /** Rare exact words: what BM25 is for. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            Calvin cycle chlorophyll      | photosynthesis.txt
            waggle dance                  | honeybees.txt
            ZGC G1 pause times            | garbage-collection.txt
            Ruy Lopez Sicilian Defence    | chess-openings.txt
            Camellia sinensis oolong      | tea.txt
            """)
    void should_rank_the_passage_with_the_rare_words_first_by_bm25(String query, String expected) {
        List<Content> top = index.search(query, RetrievalMode.BM25, 3);
        assertThat(file(top.getFirst())).as("%s -> %s", query, top).isEqualTo(expected);
    }

    @Test
    void should_give_scores_best_first() {
        for (RetrievalMode mode : RetrievalMode.values()) {
            List<Double> scores = index.search("coral bleaching in warm seas", mode, 5).stream()
                    .map(c -> (Double) c.metadata().get(ContentMetadata.SCORE)).toList();
            assertThat(scores).as("%s", mode).isNotEmpty().isSortedAccordingTo((a, b) -> Double.compare(b, a));
        }
    }

    @Test
    void should_augment_a_user_message_through_langchain4j_default_retrieval_augmentor() {
        RetrievalAugmentor augmentor = DefaultRetrievalAugmentor.builder()
                .contentRetriever(index.retriever(RetrievalMode.HYBRID, 2))
                .build();
        UserMessage question = UserMessage.from("How do bees tell each other where the flowers are?");

        AugmentationResult result = augmentor.augment(new AugmentationRequest(question,
                Metadata.from(question, "chat-1", List.<ChatMessage>of())));

        assertThat(result.contents()).hasSize(2);
        assertThat(file(result.contents().getFirst())).isEqualTo("honeybees.txt");
        String augmented = ((UserMessage) result.chatMessage()).singleText();
        assertThat(augmented).contains(question.singleText()).contains("waggle dance");
    }

    @Test
    void should_reject_an_empty_corpus() {
        assertThatThrownBy(() -> RagIndex.build(List.<TextSegment>of(), MiniLm.model()))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("passages must not be empty");
    }
}
