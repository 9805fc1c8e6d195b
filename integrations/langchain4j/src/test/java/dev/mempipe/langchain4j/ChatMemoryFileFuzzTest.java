package dev.mempipe.langchain4j;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The chat-memory file reader on arbitrary bytes: {@link CompressedChatMemory#load} and
 * {@link MemAgentChatMemory#load} each load the file, or throw {@link ChatMemoryFormatException} naming it, and
 * leave the memory as it was; nothing else (no out-of-memory error from a forged count or length, no out-of-bounds
 * read, no unchecked exception of LangChain4j's JSON codec, no memory built from part of a file). A memory that
 * loads saves and loads again to the same contents.
 *
 * <p>{@code ./mvnw verify} runs the checked-in inputs under {@code src/test/resources/.../ChatMemoryFileFuzzTestInputs}
 * ({@link ChatMemoryFileInputs} wrote the first ones); docs/RELIABILITY.md gives the long fuzzing run. Crashes found
 * become inputs there.
 */
class ChatMemoryFileFuzzTest {
    /** Small summaries keep the inputs small, so the fuzzer mutates structure rather than floats. */
    static final int D = 8;
    private static Path dir;

    @BeforeAll
    static void folder() throws IOException {
        dir = Files.createTempDirectory("chat-memory-fuzz");
    }

    @AfterAll
    static void removeFolder() throws IOException {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        Files.delete(dir);
    }

    static CompressedChatMemory compressed() {
        // a budget no file reaches: a load evicts nothing, so what loads is exactly the file
        return CompressedChatMemory.builder().embeddingModel(new WordHashChatMemoryModel(D)).maxTokens(1 << 30)
                .recallTokens(1 << 20).build();
    }

    static MemAgentChatMemory memAgent() {
        return MemAgentChatMemory.builder().chatModel(new MemAgentChatMemoryTest.ScriptedChatModel(r -> {
            throw new AssertionError("a load of a file must not rewrite: rewriteEvery is out of reach");
        })).rewriteEvery(Integer.MAX_VALUE).maxMemoryTokens(1 << 30).build();
    }

    @FuzzTest(maxDuration = "60s")
    void load_should_return_a_whole_memory_or_a_format_error(byte[] data) throws IOException {
        Path file = dir.resolve("fuzzed.mpcm");
        Files.write(file, data);

        CompressedChatMemory memory = compressed();
        boolean loadedCompressed = false;
        try {
            memory.load(file);
            loadedCompressed = true;
        } catch (ChatMemoryFormatException expected) {
            assertThat(expected.file()).isEqualTo(file);
            assertThat(memory.messages()).isEmpty();
            assertThat(memory.archivedMessages()).isZero();
        }
        if (loadedCompressed) {
            Path again = dir.resolve("again.mpcm");
            memory.save(again);
            CompressedChatMemory reloaded = compressed();
            reloaded.load(again);
            assertThat(reloaded.messages()).isEqualTo(memory.messages());
            assertThat(reloaded.recentMessages()).isEqualTo(memory.recentMessages());
            assertThat(reloaded.archivedMessages()).isEqualTo(memory.archivedMessages());
            assertThat(Files.readAllBytes(again)).as("saving what loaded writes the same bytes back")
                    .isEqualTo(Files.readAllBytes(reloadedFile(reloaded)));
        }

        MemAgentChatMemory agent = memAgent();
        boolean loadedAgent = false;
        try {
            agent.load(file);
            loadedAgent = true;
        } catch (ChatMemoryFormatException expected) {
            assertThat(expected.file()).isEqualTo(file);
            assertThat(agent.messages()).isEmpty();
        }
        if (loadedAgent) {
            Path again = dir.resolve("again.mpcm");
            agent.save(again);
            MemAgentChatMemory reloaded = memAgent();
            reloaded.load(again);
            assertThat(reloaded.memory()).isEqualTo(agent.memory());
            assertThat(reloaded.messages()).isEqualTo(agent.messages());
        }
        assertThat(loadedCompressed && loadedAgent).as("a file holds one kind of memory").isFalse();
    }

    private static Path reloadedFile(CompressedChatMemory reloaded) throws IOException {
        Path file = dir.resolve("reloaded.mpcm");
        reloaded.save(file);
        return file;
    }
}
