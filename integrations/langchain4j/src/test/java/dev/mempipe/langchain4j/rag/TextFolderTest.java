package dev.mempipe.langchain4j.rag;

import dev.langchain4j.data.segment.TextSegment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TextFolderTest {

    @Test
    void should_split_files_into_paragraphs_at_blank_lines() {
        assertThat(TextFolder.paragraphs("one\ntwo\n\n\n  three  \r\n\r\nfour\n   \n"))
                .containsExactly("one two", "three", "four");
        assertThat(TextFolder.paragraphs("\n \n")).isEmpty();
    }

    @Test
    void should_read_text_files_in_path_order_with_their_file_and_paragraph(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("b.txt"), "B first.\n\nB second.");
        Files.writeString(dir.resolve("a.md"), "A only.");
        Files.writeString(dir.resolve("image.png"), "not text");
        Files.createDirectory(dir.resolve("sub"));
        Files.writeString(dir.resolve("sub/c.txt"), "C.");
        Files.writeString(dir.resolve("empty.txt"), "\n\n");

        List<TextSegment> passages = TextFolder.passages(dir);

        assertThat(passages).extracting(TextSegment::text).containsExactly("A only.", "B first.", "B second.", "C.");
        assertThat(passages.get(2).metadata().getString(TextFolder.FILE)).isEqualTo("b.txt");
        assertThat(passages.get(2).metadata().getInteger(TextFolder.PARAGRAPH)).isEqualTo(1);
        assertThat(passages.get(3).metadata().getString(TextFolder.FILE)).isEqualTo("sub/c.txt");
    }

    @Test
    void should_reject_a_path_that_is_not_a_directory(@TempDir Path dir) {
        Path missing = dir.resolve("missing");
        assertThatThrownBy(() -> TextFolder.passages(missing)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("folder " + missing + " is not a directory");
    }
}
