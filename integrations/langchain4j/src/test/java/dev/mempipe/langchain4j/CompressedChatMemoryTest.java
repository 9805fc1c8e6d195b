package dev.mempipe.langchain4j;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.mempipe.langchain4j.rag.MiniLm;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CompressedChatMemoryTest {
    private static final ChatMemoryTokenEstimator TOKENS = new ChatMemoryTokenEstimator();
    private static final int BUDGET = 300;

    private static final SystemMessage SYSTEM = SystemMessage.from("You are a friendly, concise assistant.");
    private static final UserMessage FACT = UserMessage.from("My dog's name is Biscuit.");
    private static final AiMessage FACT_REPLY = AiMessage.from("Biscuit is a lovely name for a dog!");

    /** Sixteen exchanges (32 messages) on topics that have nothing to do with the dog. */
    private static final List<List<String>> SMALL_TALK = List.of(
            List.of("Will it rain in Lisbon tomorrow?", "The forecast for Lisbon shows light showers after noon."),
            List.of("Can you suggest a quick pasta recipe?", "Try spaghetti aglio e olio: garlic, olive oil, chili."),
            List.of("When is the deadline for my tax return?", "In many countries it falls in spring; check your tax office."),
            List.of("I started learning the violin last year.", "Scales every day will help your intonation a lot."),
            List.of("What is the capital of Australia?", "The capital of Australia is Canberra."),
            List.of("How should I train for a marathon?", "Build up your weekly mileage slowly and add one long run."),
            List.of("Recommend a science fiction novel.", "The Left Hand of Darkness by Ursula K. Le Guin is a classic."),
            List.of("My laptop battery drains very fast.", "Lower the screen brightness and check which apps use power."),
            List.of("We are moving to a new flat next week.", "Label every box by room; it makes unpacking much easier."),
            List.of("How often should I water tomato plants?", "Water deeply two or three times a week in summer."),
            List.of("My Python script throws a KeyError.", "The key is missing from the dictionary; use dict.get."),
            List.of("Is Porto worth a weekend trip?", "Yes: the riverside, the port cellars and the tiled churches."),
            List.of("How do I descale a kettle?", "Boil a mix of water and white vinegar, then rinse well."),
            List.of("What's a good stretch for a stiff back?", "Try the cat-cow stretch slowly, ten times."),
            List.of("Explain compound interest briefly.", "You earn interest on the interest already added."),
            List.of("Which houseplants survive low light?", "Snake plants and pothos tolerate low light well."));

    private static CompressedChatMemory.Builder miniLmMemory() {
        return CompressedChatMemory.builder().embeddingModel(MiniLm.model()).maxTokens(BUDGET);
    }

    /** System message, the fact and its reply, then the small talk. */
    private static void converse(CompressedChatMemory memory) {
        memory.add(SYSTEM);
        memory.add(FACT);
        memory.add(FACT_REPLY);
        for (List<String> exchange : SMALL_TALK) {
            memory.add(UserMessage.from(exchange.get(0)));
            memory.add(AiMessage.from(exchange.get(1)));
        }
    }

    @Test
    void should_recall_a_fact_stated_early_when_asked_about_it_much_later() {
        CompressedChatMemory memory = miniLmMemory().build();
        converse(memory);
        UserMessage question = UserMessage.from("What is my dog called?");
        memory.add(question);

        List<ChatMessage> messages = memory.messages();

        assertThat(memory.recentMessages()).as("the fact left the window long ago").doesNotContain(FACT);
        assertThat(memory.recalledMessages()).contains(FACT);
        assertThat(memory.recalledMessages()).as("only the dog is relevant").isSubsetOf(FACT, FACT_REPLY);
        assertThat(messages.getFirst()).isEqualTo(SYSTEM);
        assertThat(messages.getLast()).isEqualTo(question);
        assertThat(messages).containsSubsequence(FACT, question);
        assertThat(TOKENS.estimateTokenCountInMessages(messages)).isLessThanOrEqualTo(BUDGET);
    }

    @Test
    void should_recall_nothing_when_no_older_message_is_relevant() {
        CompressedChatMemory memory = miniLmMemory().build();
        converse(memory);
        memory.add(UserMessage.from("How do I fix a flat bicycle tyre?"));

        assertThat(memory.archivedMessages()).isGreaterThan(20);
        assertThat(memory.recalledMessages()).isEmpty();
    }

    @Test
    void should_recall_the_fact_with_the_soft_read_too() {
        CompressedChatMemory memory = miniLmMemory().recall(ChatMemoryRecall.soft(4, 20f, 0.2)).build();
        converse(memory);
        memory.add(UserMessage.from("What is my dog called?"));

        assertThat(memory.recalledMessages()).contains(FACT).isSubsetOf(FACT, FACT_REPLY);
    }

    @Test
    void should_follow_the_newest_user_message_as_the_conversation_moves_on() {
        CompressedChatMemory memory = miniLmMemory().build();
        converse(memory);
        memory.add(UserMessage.from("What is my dog called?"));
        assertThat(memory.recalledMessages()).contains(FACT);

        memory.add(AiMessage.from("Your dog is called Biscuit."));
        assertThat(memory.recalledMessages()).as("an AI reply does not change the query").contains(FACT);

        memory.add(UserMessage.from("What's the capital city of Australia again?"));
        assertThat(memory.recalledMessages()).doesNotContain(FACT);
    }

    @Test
    void should_stay_within_the_budget_after_every_add() {
        int budget = 120;
        CompressedChatMemory memory = CompressedChatMemory.builder().embeddingModel(new WordHashChatMemoryModel())
                .maxTokens(budget).recallTokens(40).recall(ChatMemoryRecall.topK(8, 0.1)).build();
        memory.add(SystemMessage.from("Answer briefly."));
        for (int i = 0; i < 200; i++) {
            // lengths from 1 to 13 words, with words that recur so that recall has something to find
            String text = "note " + i + " about topic " + (i % 7) + " word".repeat(i % 11);
            memory.add(i % 2 == 0 ? UserMessage.from(text) : AiMessage.from(text));
            List<ChatMessage> messages = memory.messages();
            assertThat(TOKENS.estimateTokenCountInMessages(messages)).as("after add %d", i).isLessThanOrEqualTo(budget);
            assertThat(TOKENS.estimateTokenCountInMessages(memory.recalledMessages())).isLessThanOrEqualTo(40);
        }
        assertThat(memory.recalledMessages()).isNotEmpty();
    }

    @Test
    void should_keep_the_system_message_first_and_replace_it_when_a_new_one_comes() {
        CompressedChatMemory memory = memoryWithoutModelNeeds(200);
        memory.add(UserMessage.from("hello"));
        memory.add(SYSTEM);
        memory.add(AiMessage.from("hi"));
        memory.add(SYSTEM);
        assertThat(memory.messages()).containsExactly(SYSTEM, UserMessage.from("hello"), AiMessage.from("hi"));

        SystemMessage other = SystemMessage.from("Answer in French.");
        memory.add(other);
        assertThat(memory.messages()).containsExactly(other, UserMessage.from("hello"), AiMessage.from("hi"));
    }

    @Test
    void should_keep_the_newest_message_even_when_it_alone_exceeds_the_budget() {
        CompressedChatMemory memory = memoryWithoutModelNeeds(20);
        memory.add(UserMessage.from("short"));
        UserMessage huge = UserMessage.from("word ".repeat(200));
        memory.add(huge);
        assertThat(memory.recentMessages()).containsExactly(huge);
    }

    @Test
    void should_evict_tool_results_together_with_their_request_and_never_recall_them() {
        CompressedChatMemory memory = CompressedChatMemory.builder().embeddingModel(new WordHashChatMemoryModel())
                .maxTokens(60).recallTokens(20).recall(ChatMemoryRecall.topK(4, 0.0)).build();
        ToolExecutionRequest request = ToolExecutionRequest.builder().id("1").name("weather")
                .arguments("{\"city\":\"Oslo\"}").build();
        memory.add(UserMessage.from("weather in Oslo?"));
        memory.add(AiMessage.from(request));
        memory.add(ToolExecutionResultMessage.from(request, "Oslo: 3 degrees and snow"));
        memory.add(AiMessage.from("It is 3 degrees and snowing in Oslo."));
        memory.add(UserMessage.from("And the weather in Oslo tomorrow, will it snow for long? Please tell me more."));

        assertThat(memory.messages()).noneMatch(m -> m instanceof ToolExecutionResultMessage);
        assertThat(memory.messages()).noneMatch(m -> m instanceof AiMessage ai && ai.hasToolExecutionRequests());
        assertThat(memory.recalledMessages()).contains(UserMessage.from("weather in Oslo?"));
    }

    @Test
    void should_forget_the_oldest_messages_when_the_archive_is_full() {
        assertThat(zebraRecalled(100)).as("a large archive still holds the first message").isTrue();
        assertThat(zebraRecalled(3)).as("an archive of 3 has forgotten it").isFalse();
    }

    /** Says "zebra", then ten fillers, then "zebra" again: is the first one recalled? */
    private static boolean zebraRecalled(int archiveCapacity) {
        CompressedChatMemory memory = CompressedChatMemory.builder().embeddingModel(new WordHashChatMemoryModel())
                .maxTokens(40).recallTokens(20).archiveCapacity(archiveCapacity).recall(ChatMemoryRecall.topK(4, 0.3))
                .build();
        UserMessage zebra = UserMessage.from("zebra");
        memory.add(zebra);
        for (int i = 0; i < 10; i++) {
            memory.add(UserMessage.from("filler number " + i));
        }
        memory.add(UserMessage.from("zebra"));
        assertThat(memory.archivedMessages()).isEqualTo(Math.min(archiveCapacity, 10));
        return memory.recalledMessages().stream().anyMatch(m -> m == zebra);
    }

    @Test
    void should_forget_everything_on_clear() {
        CompressedChatMemory memory = miniLmMemory().build();
        converse(memory);
        memory.clear();
        assertThat(memory.messages()).isEmpty();
        assertThat(memory.archivedMessages()).isZero();

        memory.add(UserMessage.from("What is my dog called?"));
        assertThat(memory.messages()).containsExactly(UserMessage.from("What is my dog called?"));
    }

    @Test
    void should_implement_the_langchain4j_chat_memory_contract() {
        CompressedChatMemory memory = CompressedChatMemory.builder().id("user-7")
                .embeddingModel(new WordHashChatMemoryModel()).maxTokens(500).build();
        assertThat(memory.id()).isEqualTo("user-7");
        memory.add(UserMessage.from("a"), AiMessage.from("b"));
        memory.set(List.of(SYSTEM, UserMessage.from("c")));
        assertThat(memory.messages()).containsExactly(SYSTEM, UserMessage.from("c"));
    }

    @Test
    void should_reject_bad_settings_naming_the_argument() {
        EmbeddingModel model = new WordHashChatMemoryModel();
        assertThatThrownBy(() -> CompressedChatMemory.builder().maxTokens(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("maxTokens must be >= 1, got 0");
        assertThatThrownBy(() -> CompressedChatMemory.builder().embeddingModel(model).build())
                .isInstanceOf(IllegalStateException.class).hasMessage("maxTokens is required");
        assertThatThrownBy(() -> CompressedChatMemory.builder().maxTokens(10).build())
                .isInstanceOf(IllegalStateException.class).hasMessage("embeddingModel is required");
        assertThatThrownBy(() -> CompressedChatMemory.builder().embeddingModel(model).maxTokens(10).recallTokens(10)
                .build()).isInstanceOf(IllegalStateException.class)
                .hasMessage("recallTokens must be < maxTokens (10), got 10");
        assertThatThrownBy(() -> ChatMemoryRecall.topK(0, 0.5)).hasMessage("maxMessages must be >= 1, got 0");
        assertThatThrownBy(() -> ChatMemoryRecall.topK(1, 1.5)).hasMessage("minScore must be in [-1, 1], got 1.5");
        assertThatThrownBy(() -> ChatMemoryRecall.soft(1, 0f, 0.5)).hasMessage("scale must be finite and > 0, got 0.0");
        assertThatThrownBy(() -> ChatMemoryRecall.soft(1, 20f, 0)).hasMessage("minWeight must be in (0, 1], got 0.0");
    }

    @Test
    void should_estimate_four_characters_per_token_plus_the_message_overhead() {
        assertThat(TOKENS.estimateTokenCountInText("")).isZero();
        assertThat(TOKENS.estimateTokenCountInText("abcd")).isEqualTo(1);
        assertThat(TOKENS.estimateTokenCountInText("abcde")).isEqualTo(2);
        assertThat(TOKENS.estimateTokenCountInMessage(UserMessage.from("abcdefgh")))
                .isEqualTo(2 + ChatMemoryTokenEstimator.TOKENS_PER_MESSAGE);
    }

    private static CompressedChatMemory memoryWithoutModelNeeds(int maxTokens) {
        return CompressedChatMemory.builder().embeddingModel(new WordHashChatMemoryModel()).maxTokens(maxTokens).build();
    }
}
