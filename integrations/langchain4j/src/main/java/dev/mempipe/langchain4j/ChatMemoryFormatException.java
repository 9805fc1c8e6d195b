package dev.mempipe.langchain4j;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A chat-memory file that {@link CompressedChatMemory#load} or {@link MemAgentChatMemory#load} refuses: not a mempipe
 * chat-memory file, a version this code does not read, a file of the other kind of memory, damaged (a checksum that
 * does not match, a truncated section, a message that does not decode), or one that does not fit the memory loading
 * it (summaries of another dimension). Nothing of the file was loaded: the memory is as it was.
 */
public final class ChatMemoryFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;

    public ChatMemoryFormatException(Path file, String problem) {
        super("mempipe chat-memory file " + file + ": " + problem);
        this.file = file;
    }

    /** The file that was refused. */
    public Path file() {
        return file;
    }
}
