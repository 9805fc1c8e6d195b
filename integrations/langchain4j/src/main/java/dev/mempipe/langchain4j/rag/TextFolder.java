package dev.mempipe.langchain4j.rag;

import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.segment.TextSegment;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * The text files of a folder as passages for retrieval: every {@code .txt} and {@code .md} file under the folder
 * (subfolders included, in path order), read as UTF-8 and split into paragraphs at blank lines; each paragraph is
 * one {@link TextSegment}, its lines joined with spaces. A paragraph is the unit because it is usually about one
 * thing, and short enough for a sentence-embedding model's input window (all-MiniLM-L6-v2 reads 256 word pieces).
 *
 * <p>Metadata of each passage: {@value #FILE} (the path relative to the folder, with {@code /}) and
 * {@value #PARAGRAPH} (0 for the file's first paragraph).
 */
public final class TextFolder {
    /** Metadata key of the passage's file, relative to the folder. */
    public static final String FILE = "file";
    /** Metadata key of the passage's paragraph number within its file, from 0. */
    public static final String PARAGRAPH = "paragraph";

    private TextFolder() {
    }

    /**
     * The passages of every text file under {@code folder}.
     *
     * @throws IllegalArgumentException when {@code folder} is not a directory
     * @throws IOException              when a file cannot be read, or is not UTF-8
     */
    public static List<TextSegment> passages(Path folder) throws IOException {
        Objects.requireNonNull(folder, "folder");
        if (!Files.isDirectory(folder)) {
            throw new IllegalArgumentException("folder " + folder + " is not a directory");
        }
        List<Path> files;
        try (Stream<Path> walk = Files.walk(folder)) {
            files = walk.filter(Files::isRegularFile).filter(TextFolder::isText).sorted().toList();
        }
        List<TextSegment> passages = new ArrayList<>();
        for (Path file : files) {
            String name = folder.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
            List<String> paragraphs = paragraphs(Files.readString(file, StandardCharsets.UTF_8));
            for (int i = 0; i < paragraphs.size(); i++) {
                Metadata metadata = new Metadata().put(FILE, name).put(PARAGRAPH, i);
                passages.add(TextSegment.from(paragraphs.get(i), metadata));
            }
        }
        return passages;
    }

    /** The paragraphs of {@code text}: runs of non-blank lines, each joined with single spaces. */
    static List<String> paragraphs(String text) {
        List<String> paragraphs = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : text.split("\\R", -1)) {
            String stripped = line.strip();
            if (stripped.isEmpty()) {
                flush(current, paragraphs);
            } else {
                if (!current.isEmpty()) {
                    current.append(' ');
                }
                current.append(stripped);
            }
        }
        flush(current, paragraphs);
        return paragraphs;
    }

    private static void flush(StringBuilder current, List<String> paragraphs) {
        if (!current.isEmpty()) {
            paragraphs.add(current.toString());
            current.setLength(0);
        }
    }

    private static boolean isText(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".txt") || name.endsWith(".md");
    }
}
