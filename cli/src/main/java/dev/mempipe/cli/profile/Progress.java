package dev.mempipe.cli.profile;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The progress display of {@code mempipe profile} on stderr: {@code [3/18] quest @ 16k: relevancy...}, one
 * line per update, or, when stderr is a terminal, a single line rewritten in place. stdout is left to the
 * results so that it can be piped.
 *
 * <p>Java cannot ask whether stderr is a terminal, so the launcher script, which can ({@code [ -t 2 ]}), passes
 * {@code -Dmempipe.progress=line}; {@link #detect()} reads it. Thread-safe: updates may come from worker threads.
 */
public final class Progress {
    /** System property choosing the display: {@code line}, {@code lines} or {@code off}. */
    public static final String MODE_PROPERTY = "mempipe.progress";

    /** How progress is shown. */
    public enum Mode {
        /** One line rewritten in place (a terminal). */
        LINE,
        /** One line per update (a log file, a pipe, CI). */
        LINES,
        /** Nothing. */
        OFF
    }

    private final PrintStream err;
    private final Mode mode;
    private final int total;
    private String shown = "";

    /**
     * @param err   where progress goes
     * @param mode  how it is shown
     * @param total how many runs the counter counts to
     */
    public Progress(PrintStream err, Mode mode, int total) {
        this.err = err;
        this.mode = mode;
        this.total = total;
    }

    /** A display that shows nothing, for tests and callers that report progress their own way. */
    public static Progress silent() {
        return new Progress(System.err, Mode.OFF, 0);
    }

    /** The mode {@code -Dmempipe.progress} asks for; {@link Mode#LINES} when unset or unknown. */
    public static Mode detect() {
        String value = System.getProperty(MODE_PROPERTY, "lines").strip().toLowerCase(Locale.ROOT);
        return switch (value) {
            case "line" -> Mode.LINE;
            case "off", "none" -> Mode.OFF;
            default -> Mode.LINES;
        };
    }

    /**
     * Shows that run {@code run} (1-based, of the total) is in {@code phase}.
     *
     * @param phase what is running, e.g. {@code prepare}, {@code relevancy}, {@code decode model}
     */
    public synchronized void update(int run, String workload, int contextLength, String phase) {
        String line = "[" + run + "/" + total + "] " + workload + " @ " + contextLabel(contextLength) + ": " + phase
                + "...";
        switch (mode) {
            case OFF -> {
            }
            case LINES -> {
                if (!line.equals(shown)) {
                    err.println(line);
                }
            }
            case LINE -> {
                // \r returns to the start of the line, ESC[K clears what a longer previous line left
                err.print("\r" + line + "\u001b[K");
                err.flush();
            }
        }
        shown = line;
    }

    /** A message that stays visible (a warning, a skipped workload), printed above the progress line. */
    public synchronized void note(String message) {
        if (mode == Mode.OFF) {
            return;
        }
        if (mode == Mode.LINE && !shown.isEmpty()) {
            err.print("\r\u001b[K" + message + "\n" + shown + "\u001b[K");
            err.flush();
        } else {
            err.println(message);
        }
    }

    /** Ends the display: the in-place line is cleared, so that what follows starts on a clean line. */
    public synchronized void done() {
        if (mode == Mode.LINE && !shown.isEmpty()) {
            err.print("\r\u001b[K");
            err.flush();
        }
        shown = "";
    }

    /** {@code 4096} as {@code 4k}, {@code 65536} as {@code 64k}; other lengths as plain numbers. */
    public static String contextLabel(int contextLength) {
        return contextLength >= 1024 && contextLength % 1024 == 0 ? contextLength / 1024 + "k"
                : Integer.toString(contextLength);
    }
}
