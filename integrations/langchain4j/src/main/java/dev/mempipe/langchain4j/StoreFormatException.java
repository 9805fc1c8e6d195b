package dev.mempipe.langchain4j;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A store file that {@link MempipeEmbeddingStore#load} refuses: not a mempipe store, a version this code does not
 * read, or damaged (a checksum that does not match, a truncated section, values that cannot be). Nothing of the file
 * was loaded.
 */
public final class StoreFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;

    public StoreFormatException(Path file, String problem) {
        super("mempipe store file " + file + ": " + problem);
        this.file = file;
    }

    /** The file that was refused. */
    public Path file() {
        return file;
    }
}
