package dev.mempipe.goldentests.npy;

import java.io.IOException;

/** A file is not a .npy file the kit can read; the message names the file and the problem. */
public final class NpyFormatException extends IOException {
    public NpyFormatException(String source, String problem) {
        super(source + ": " + problem);
    }
}
