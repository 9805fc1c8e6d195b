package dev.mempipe.langchain4j;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.ImageContent;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The chat memories' persisted form: what a save writes, a load gives back; what a load refuses, it leaves alone. */
class ChatMemoryFileTest {
    static final int D = 16;

    @TempDir
    Path dir;

    static CompressedChatMemory.Builder compressed() {
        return CompressedChatMemory.builder().embeddingModel(new WordHashChatMemoryModel(D)).maxTokens(120)
                .recallTokens(40);
    }

    /** A system message, then {@code exchanges} user/AI pairs, then a tool call: most leave the window. */
    static void converse(CompressedChatMemory memory, int exchanges) {
        memory.add(SystemMessage.from("You are terse."));
        for (int i = 0; i < exchanges; i++) {
            memory.add(UserMessage.from("Question " + i + " about topic" + i + " and the weather in city" + i));
            memory.add(AiMessage.from("Answer " + i + ": topic" + i + " is fine, city" + i + " is sunny"));
        }
        memory.add(UserMessage.from("Name", List.of(TextContent.from("What is in this picture?"),
                ImageContent.from("https://example.com/cat.png"))));
        ToolExecutionRequest call = ToolExecutionRequest.builder().id("c1").name("lookup").arguments("{\"q\":1}")
                .build();
        memory.add(AiMessage.from(call));
        memory.add(ToolExecutionResultMessage.from(call, "42"));
        memory.add(UserMessage.from("What was topic3 about?"));
    }

    @Test
    void compressed_memory_should_load_back_its_window_archive_and_recall() throws IOException {
        CompressedChatMemory memory = compressed().build();
        converse(memory, 12);
        assertThat(memory.archivedMessages()).as("the conversation overflowed into the archive").isGreaterThan(10);
        Path file = dir.resolve("chat.mpcm");
        memory.save(file);

        CompressedChatMemory loaded = compressed().build();
        loaded.load(file);

        assertThat(loaded.messages()).isEqualTo(memory.messages());
        assertThat(loaded.recentMessages()).isEqualTo(memory.recentMessages());
        assertThat(loaded.recalledMessages()).isEqualTo(memory.recalledMessages()).isNotEmpty();
        assertThat(loaded.archivedMessages()).isEqualTo(memory.archivedMessages());
        // and it goes on as the original does
        UserMessage next = UserMessage.from("And topic7 again?");
        memory.add(next);
        loaded.add(next);
        assertThat(loaded.messages()).isEqualTo(memory.messages());
    }

    @Test
    void compressed_memory_should_keep_the_newest_archived_messages_when_its_capacity_is_smaller() throws IOException {
        CompressedChatMemory memory = compressed().build();
        converse(memory, 12);
        Path file = dir.resolve("chat.mpcm");
        memory.save(file);
        List<ChatMessage> archived = ChatMemoryFile.loadCompressed(file, D).archived();

        CompressedChatMemory small = compressed().archiveCapacity(5).build();
        small.load(file);

        assertThat(small.archivedMessages()).isEqualTo(5);
        ChatMemoryFile.Compressed resaved = saveAndRead(small);
        assertThat(resaved.archived()).isEqualTo(archived.subList(archived.size() - 5, archived.size()));
    }

    @Test
    void compressed_memory_should_evict_a_window_over_a_smaller_budget_into_its_archive() throws IOException {
        CompressedChatMemory memory = compressed().build();
        converse(memory, 12);
        Path file = dir.resolve("chat.mpcm");
        memory.save(file);

        CompressedChatMemory tight = CompressedChatMemory.builder().embeddingModel(new WordHashChatMemoryModel(D))
                .maxTokens(60).recallTokens(20).build();
        tight.load(file);

        assertThat(new ChatMemoryTokenEstimator().estimateTokenCountInMessages(tight.messages()))
                .isLessThanOrEqualTo(60);
        assertThat(tight.archivedMessages()).isGreaterThan(memory.archivedMessages());
        assertThat(tight.recentMessages().getLast()).isEqualTo(memory.recentMessages().getLast());
    }

    @Test
    void mem_agent_memory_should_load_back_its_memory_and_waiting_messages() throws IOException {
        MemAgentChatMemoryTest.ScriptedChatModel model = new MemAgentChatMemoryTest.ScriptedChatModel(
                r -> "Ada lives in Porto.");
        MemAgentChatMemory memory = MemAgentChatMemory.builder().chatModel(model).rewriteEvery(4).build();
        memory.add(SystemMessage.from("Be brief."));
        for (int i = 0; i < 6; i++) {
            memory.add(i % 2 == 0 ? UserMessage.from("user " + i) : AiMessage.from("ai " + i));
        }
        assertThat(memory.memory()).isEqualTo("Ada lives in Porto.");
        Path file = dir.resolve("agent.mpcm");
        memory.save(file);

        MemAgentChatMemory loaded = MemAgentChatMemory.builder().chatModel(model).rewriteEvery(4).build();
        loaded.load(file);

        assertThat(loaded.memory()).isEqualTo(memory.memory());
        assertThat(loaded.waitingMessages()).isEqualTo(memory.waitingMessages()).hasSize(2);
        assertThat(loaded.messages()).isEqualTo(memory.messages());
    }

    @Test
    void mem_agent_memory_should_refuse_a_memory_over_its_bound_and_stay_unchanged() throws IOException {
        MemAgentChatMemoryTest.ScriptedChatModel model = new MemAgentChatMemoryTest.ScriptedChatModel(
                r -> "one two three four five six seven eight nine ten eleven twelve");
        MemAgentChatMemory wide = MemAgentChatMemory.builder().chatModel(model).rewriteEvery(1).build();
        wide.add(UserMessage.from("hello"));
        Path file = dir.resolve("agent.mpcm");
        wide.save(file);

        MemAgentChatMemory narrow = MemAgentChatMemory.builder().chatModel(model).rewriteEvery(100)
                .maxMemoryTokens(3).build();
        narrow.add(UserMessage.from("kept"));
        assertThatThrownBy(() -> narrow.load(file)).isInstanceOf(ChatMemoryFormatException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("over this memory's bound of 3");
        assertThat(narrow.waitingMessages()).containsExactly(UserMessage.from("kept"));
    }

    @Test
    void load_should_refuse_a_file_of_the_other_kind_or_dimension_naming_it() throws IOException {
        CompressedChatMemory memory = compressed().build();
        converse(memory, 3);
        Path file = dir.resolve("chat.mpcm");
        memory.save(file);

        MemAgentChatMemory agent = MemAgentChatMemory.builder()
                .chatModel(new MemAgentChatMemoryTest.ScriptedChatModel(r -> "x")).build();
        assertThatThrownBy(() -> agent.load(file)).isInstanceOf(ChatMemoryFormatException.class)
                .hasMessage("mempipe chat-memory file " + file + ": it holds a CompressedChatMemory, not a "
                        + "MemAgentChatMemory");
        CompressedChatMemory other = CompressedChatMemory.builder().embeddingModel(new WordHashChatMemoryModel(32))
                .maxTokens(100).build();
        assertThatThrownBy(() -> other.load(file)).isInstanceOf(ChatMemoryFormatException.class)
                .hasMessageContaining("its summaries are 16-d, but this memory's embedding model makes 32-d ones");
        Path store = dir.resolve("store.mpes");
        try (MempipeEmbeddingStore s = MempipeEmbeddingStore.builder().build()) {
            s.save(store);
        }
        assertThatThrownBy(() -> other.load(store)).isInstanceOf(ChatMemoryFormatException.class)
                .hasMessageContaining("not a mempipe chat-memory file");
    }

    /**
     * One-bit changes (every byte of the header, then about 300 spread over the sections; {@code
     * -Dmempipe.chatfile.everyByte=true} tries every byte) and truncations: refused with the file named, and the
     * memory unchanged.
     */
    @Test
    void load_should_refuse_every_damaged_file_and_leave_the_memory_unchanged() throws IOException {
        CompressedChatMemory source = compressed().archiveCapacity(3).build();
        converse(source, 4);
        Path good = dir.resolve("good.mpcm");
        source.save(good);
        byte[] bytes = Files.readAllBytes(good);

        CompressedChatMemory target = compressed().build();
        target.add(UserMessage.from("before the load"));
        List<ChatMessage> before = target.messages();
        Path bad = dir.resolve("bad.mpcm");
        List<String> accepted = new ArrayList<>();
        int refused = 0;
        int tried = 0;
        int stride = Boolean.getBoolean("mempipe.chatfile.everyByte") ? 1 : Math.max(1, bytes.length / 300);
        for (int at = 0; at < bytes.length; at += at < ChatMemoryFile.HEADER_BYTES ? 1 : stride) {
            tried++;
            byte[] damaged = bytes.clone();
            damaged[at] ^= (byte) (1 << (at % 8));
            Files.write(bad, damaged);
            try {
                target.load(bad);
                accepted.add("flip at " + at);
            } catch (ChatMemoryFormatException e) {
                assertThat(e.file()).isEqualTo(bad);
                refused++;
            }
            assertThat(target.messages()).isEqualTo(before);
        }
        for (int length = 0; length < bytes.length; length += Math.max(1, length / 7)) {
            Files.write(bad, java.util.Arrays.copyOf(bytes, length));
            assertThatThrownBy(() -> target.load(bad)).isInstanceOf(ChatMemoryFormatException.class);
            assertThat(target.messages()).isEqualTo(before);
        }
        assertThat(accepted).as("every byte is under a CRC32").isEmpty();
        assertThat(refused).isEqualTo(tried);
    }

    @Test
    void a_failed_save_should_leave_the_previous_file_whole_and_no_temporary_file() throws IOException {
        CompressedChatMemory memory = compressed().build();
        converse(memory, 2);
        Path file = dir.resolve("chat.mpcm");
        memory.save(file);
        byte[] previous = Files.readAllBytes(file);
        converse(memory, 8);

        for (long budget : new long[]{0, 10, 40, 200, previous.length - 1L}) {
            assertThatThrownBy(() -> memory.save(file, new SectionWriter.WriteBudget(budget)))
                    .isInstanceOf(IOException.class).hasMessageContaining("byte budget");
            assertThat(Files.readAllBytes(file)).isEqualTo(previous);
            try (var files = Files.list(dir)) {
                assertThat(files.map(p -> p.getFileName().toString())).containsExactly("chat.mpcm");
            }
        }
    }

    private ChatMemoryFile.Compressed saveAndRead(CompressedChatMemory memory) throws IOException {
        Path file = dir.resolve("resaved.mpcm");
        memory.save(file);
        return ChatMemoryFile.loadCompressed(file, D);
    }
}
