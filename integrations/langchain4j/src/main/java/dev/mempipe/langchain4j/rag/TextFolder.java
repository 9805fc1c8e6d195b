package dev.mempipe.langchain4j.rag;

import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.segment.TextSegment;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;
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

    /** A file that was left out because it cannot be read as UTF-8 text, and why (without the file's name). */
    public record Skipped(Path file, String reason) {
    }

    /**
     * The passages of every text file under {@code folder}.
     *
     * @throws IllegalArgumentException when {@code folder} is not a directory
     * @throws IOException              when a file cannot be read, or is not UTF-8; the message names the file
     */
    public static List<TextSegment> passages(Path folder) throws IOException {
        return passages(folder, null);
    }

    /**
     * The passages of every text file under {@code folder}; with {@code skipped} non-null, a file that cannot be read
     * (not UTF-8, no permission) is reported there and left out instead of failing the whole folder.
     *
     * @throws IllegalArgumentException when {@code folder} is not a directory
     * @throws IOException              when a file cannot be read and {@code skipped} is null; the message names the
     *                                  file and, for text that is not UTF-8, the offset of the first bad byte
     */
    public static List<TextSegment> passages(Path folder, Consumer<Skipped> skipped) throws IOException {
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
            String text;
            try {
                text = readUtf8(file);
            } catch (IOException e) {
                if (skipped == null) {
                    throw e;
                }
                String prefix = "cannot read " + file + ": ";
                String message = String.valueOf(e.getMessage());
                skipped.accept(new Skipped(file, message.startsWith(prefix) ? message.substring(prefix.length())
                        : message));
                continue;
            }
            List<String> paragraphs = paragraphs(text);
            for (int i = 0; i < paragraphs.size(); i++) {
                Metadata metadata = new Metadata().put(FILE, name).put(PARAGRAPH, i);
                passages.add(TextSegment.from(paragraphs.get(i), metadata));
            }
        }
        return passages;
    }

    /** The file as UTF-8 text; an error names the file and, for bad bytes, where the first one is. */
    static String readUtf8(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IOException("cannot read " + file + ": " + reason(e), e);
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (!result.isError()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            int at = in.position();
            throw new IOException("cannot read " + file + ": not UTF-8 text (byte 0x"
                    + Integer.toHexString(bytes[at] & 0xFF) + " at offset " + at + " is not valid UTF-8)");
        }
        return out.flip().toString();
    }

    private static String reason(IOException e) {
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file";
        }
        return e instanceof java.nio.file.FileSystemException fse && fse.getReason() != null ? fse.getReason()
                : String.valueOf(e.getMessage());
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
