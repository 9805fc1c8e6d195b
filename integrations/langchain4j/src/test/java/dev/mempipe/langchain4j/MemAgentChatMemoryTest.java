package dev.mempipe.langchain4j;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MemAgentChatMemoryTest {
    private static final ChatMemoryTokenEstimator TOKENS = new ChatMemoryTokenEstimator();

    /** A chat model whose answers the test writes; it keeps every request it receives. */
    static final class ScriptedChatModel implements ChatModel {
        final List<ChatRequest> requests = new CopyOnWriteArrayList<>();
        private final Function<ChatRequest, String> answer;

        ScriptedChatModel(Function<ChatRequest, String> answer) {
            this.answer = answer;
        }

        @Override
        public ChatResponse doChat(ChatRequest request) {
            requests.add(request);
            return ChatResponse.builder().aiMessage(AiMessage.from(answer.apply(request))).build();
        }
    }

    private static final List<ChatMessage> FIRST_CHUNK = List.of(
            UserMessage.from("My name is Ada and I live in Porto."),
            AiMessage.from("Nice to meet you, Ada!"),
            UserMessage.from("My flight to Oslo leaves on 12 March."),
            AiMessage.from("Noted: Oslo, 12 March."));

    @Test
    void should_send_the_model_the_instruction_the_memory_and_the_waiting_messages() {
        ScriptedChatModel model = new ScriptedChatModel(r -> "Ada lives in Porto; flight to Oslo on 12 March.");
        MemAgentChatMemory memory = MemAgentChatMemory.builder().chatModel(model).rewriteEvery(4).maxMemoryTokens(50)
                .build();
        memory.add(SystemMessage.from("Be brief."));
        FIRST_CHUNK.subList(0, 3).forEach(memory::add);
        assertThat(model.requests).as("3 of 4 messages: not due yet").isEmpty();
        memory.add(FIRST_CHUNK.get(3));

        assertThat(model.requests).hasSize(1);
        List<ChatMessage> prompt = model.requests.getFirst().messages();
        assertThat(prompt).hasSize(2);
        assertThat(((SystemMessage) prompt.get(0)).text()).contains("at most 50 tokens").contains("Rewrite the memory");
        assertThat(((UserMessage) prompt.get(1)).singleText()).isEqualTo("""
                Current memory:
                (empty)

                New messages:
                User: My name is Ada and I live in Porto.
                AI: Nice to meet you, Ada!
                User: My flight to Oslo leaves on 12 March.
                AI: Noted: Oslo, 12 March.

                Write the updated memory.""");
        assertThat(memory.memory()).isEqualTo("Ada lives in Porto; flight to Oslo on 12 March.");
        assertThat(memory.waitingMessages()).isEmpty();
        assertThat(memory.messages()).containsExactly(SystemMessage.from("Be brief.\n\n"
                + MemAgentChatMemory.MEMORY_HEADER + "\nAda lives in Porto; flight to Oslo on 12 March."));

        // the next rewrite starts from the memory the first one wrote
        UserMessage question = UserMessage.from("What should I pack?");
        memory.add(question);
        assertThat(memory.messages()).endsWith(question);
        for (int i = 0; i < 3; i++) {
            memory.add(AiMessage.from("reply " + i));
        }
        assertThat(model.requests).hasSize(2);
        assertThat(((UserMessage) model.requests.get(1).messages().get(1)).singleText())
                .startsWith("Current memory:\nAda lives in Porto; flight to Oslo on 12 March.\n\nNew messages:\n"
                        + "User: What should I pack?\nAI: reply 0\n");
        assertThat(memory.rewrites()).isEqualTo(2);
    }

    @Test
    void should_keep_the_memory_within_its_bound_cutting_at_a_word() {
        String longAnswer = "fact ".repeat(400).strip(); // about 500 estimated tokens
        ScriptedChatModel model = new ScriptedChatModel(r -> longAnswer);
        MemAgentChatMemory memory = MemAgentChatMemory.builder().chatModel(model).rewriteEvery(2).maxMemoryTokens(20)
                .build();
        for (int i = 0; i < 10; i++) {
            memory.add(UserMessage.from("message " + i));
            assertThat(TOKENS.estimateTokenCountInText(memory.memory())).isLessThanOrEqualTo(20);
        }
        assertThat(memory.memory()).isNotEmpty().matches("(fact ?)+").doesNotEndWith(" ");
        assertThat(memory.truncatedRewrites()).isEqualTo(5);
        assertThat(memory.waitingMessages()).isEmpty();
        assertThat(memory.messages()).hasSize(1).first().isInstanceOf(SystemMessage.class);
    }

    @Test
    void should_apply_a_rewrite_atomically_while_others_add_and_read() throws Exception {
        CountDownLatch inModel = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ScriptedChatModel model = new ScriptedChatModel(r -> {
            inModel.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "the new memory";
        });
        MemAgentChatMemory memory = MemAgentChatMemory.builder().chatModel(model).rewriteEvery(4).build();
        FIRST_CHUNK.subList(0, 3).forEach(memory::add);
        CompletableFuture<Void> rewriting = CompletableFuture.runAsync(() -> memory.add(FIRST_CHUNK.get(3)));
        assertThat(inModel.await(10, TimeUnit.SECONDS)).isTrue();

        // during the rewrite: the old state, whole, and adds are not lost
        assertThat(memory.messages()).containsExactlyElementsOf(FIRST_CHUNK);
        UserMessage late = UserMessage.from("Also, I am vegetarian.");
        memory.add(late);
        assertThat(memory.messages()).hasSize(5);
        assertThat(model.requests).as("no second rewrite while one runs").hasSize(1);

        release.countDown();
        rewriting.get(10, TimeUnit.SECONDS);
        assertThat(memory.memory()).isEqualTo("the new memory");
        assertThat(memory.waitingMessages()).containsExactly(late);
    }

    @Test
    void should_change_nothing_when_the_model_fails_and_retry_on_the_next_add() {
        int[] calls = {0};
        ScriptedChatModel model = new ScriptedChatModel(r -> {
            if (calls[0]++ == 0) {
                throw new IllegalStateException("model unavailable");
            }
            return "recovered memory";
        });
        MemAgentChatMemory memory = MemAgentChatMemory.builder().chatModel(model).rewriteEvery(4).build();
        FIRST_CHUNK.subList(0, 3).forEach(memory::add);
        assertThatThrownBy(() -> memory.add(FIRST_CHUNK.get(3))).hasMessage("model unavailable");
        assertThat(memory.memory()).isEmpty();
        assertThat(memory.waitingMessages()).containsExactlyElementsOf(FIRST_CHUNK);

        memory.add(UserMessage.from("Are you there?"));
        assertThat(memory.memory()).isEqualTo("recovered memory");
        assertThat(memory.waitingMessages()).containsExactly(UserMessage.from("Are you there?"));
    }

    @Test
    void should_discard_a_rewrite_that_a_clear_overtook() throws Exception {
        CountDownLatch inModel = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ScriptedChatModel model = new ScriptedChatModel(r -> {
            inModel.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "stale memory";
        });
        MemAgentChatMemory memory = MemAgentChatMemory.builder().chatModel(model).rewriteEvery(4).build();
        FIRST_CHUNK.subList(0, 3).forEach(memory::add);
        CompletableFuture<Void> rewriting = CompletableFuture.runAsync(() -> memory.add(FIRST_CHUNK.get(3)));
        assertThat(inModel.await(10, TimeUnit.SECONDS)).isTrue();
        memory.clear();
        release.countDown();
        rewriting.get(10, TimeUnit.SECONDS);
        assertThat(memory.memory()).isEmpty();
        assertThat(memory.messages()).isEmpty();
    }

    @Test
    void should_not_separate_a_tool_result_from_its_request() {
        ScriptedChatModel model = new ScriptedChatModel(r -> "m");
        MemAgentChatMemory memory = MemAgentChatMemory.builder().chatModel(model).rewriteEvery(2).build();
        ToolExecutionRequest call = ToolExecutionRequest.builder().id("1").name("weather").arguments("{}").build();
        memory.add(List.of(UserMessage.from("Weather?"), AiMessage.from(List.of(call)),
                ToolExecutionResultMessage.from(call, "sunny"), UserMessage.from("Thanks")));
        assertThat(((UserMessage) model.requests.getFirst().messages().get(1)).singleText())
                .contains("AI: weather({})\nTool: sunny\n");
        assertThat(memory.waitingMessages()).containsExactly(UserMessage.from("Thanks"));
    }

    @Test
    void should_require_a_model_and_sane_settings() {
        assertThatThrownBy(() -> MemAgentChatMemory.builder().build()).hasMessageContaining("chatModel");
        assertThatThrownBy(() -> MemAgentChatMemory.builder().rewriteEvery(0)).hasMessageContaining("rewriteEvery");
        assertThatThrownBy(() -> MemAgentChatMemory.builder().maxMemoryTokens(0)).hasMessageContaining("maxMemoryTokens");
    }
}
