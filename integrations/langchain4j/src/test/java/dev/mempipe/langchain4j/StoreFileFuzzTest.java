package dev.mempipe.langchain4j;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The store file reader on arbitrary bytes: {@link MempipeEmbeddingStore#load} returns a store, or throws
 * {@link StoreFormatException} naming the file; nothing else (no out-of-memory from a forged count or length, no
 * out-of-bounds read, no store built from part of a file). A store that loads saves and loads again to the same
 * entries.
 *
 * <p>{@code ./mvnw verify} runs the checked-in inputs under {@code src/test/resources/.../StoreFileFuzzTestInputs};
 * docs/RELIABILITY.md gives the long fuzzing run. Crashes found become inputs there.
 */
class StoreFileFuzzTest {
    private static Path dir;

    @BeforeAll
    static void folder() throws IOException {
        dir = Files.createTempDirectory("store-fuzz");
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

    @FuzzTest(maxDuration = "60s")
    void load_should_return_a_whole_store_or_a_format_error(byte[] data) throws IOException {
        Path file = dir.resolve("fuzzed.mpes");
        Files.write(file, data);
        MempipeEmbeddingStore store;
        try {
            store = MempipeEmbeddingStore.load(file);
        } catch (StoreFormatException expected) {
            assertThat(expected.file()).isEqualTo(file);
            return;
        }
        try (store) {
            java.util.List<String> entries = StoreCrashTest.contents(store);
            Path again = dir.resolve("again.mpes");
            store.save(again);
            try (MempipeEmbeddingStore reloaded = MempipeEmbeddingStore.load(again)) {
                assertThat(StoreCrashTest.contents(reloaded)).isEqualTo(entries);
                assertThat(reloaded.storage()).isEqualTo(store.storage());
            }
        }
    }
}
