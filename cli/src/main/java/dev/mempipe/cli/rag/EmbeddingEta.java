package dev.mempipe.cli.rag;

import dev.mempipe.cli.profile.Progress;
import dev.mempipe.langchain4j.rag.RagIndex;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The progress of {@code mempipe rag}'s embedding on stderr, with an estimate of the time left from the rate so far:
 * {@code embedding: 1216/5000 passages (24%), 2:41 left}. Silent for the first {@value #QUIET_NANOS} ns (a small
 * folder embeds in a second), then at most one line per {@value #LINE_INTERVAL_NANOS} ns, or one line rewritten in
 * place on a terminal ({@code -Dmempipe.progress=line}, set by the launcher), and nothing with
 * {@code -Dmempipe.progress=off}.
 *
 * <p>Not thread-safe: the index reports from the thread that embeds.
 */
final class EmbeddingEta implements RagIndex.EmbeddingProgress {
    static final long QUIET_NANOS = 2_000_000_000L;
    static final long LINE_INTERVAL_NANOS = 5_000_000_000L;

    private final PrintStream err;
    private final Progress.Mode mode;
    private final LongSupplier clock;
    private final long start;
    private long lastShown = Long.MIN_VALUE;
    private boolean inPlace;

    EmbeddingEta(PrintStream err, Progress.Mode mode, LongSupplier clock) {
        this.err = err;
        this.mode = mode;
        this.clock = clock;
        this.start = clock.getAsLong();
    }

    @Override
    public void embedded(int done, int total) {
        long now = clock.getAsLong();
        long elapsed = now - start;
        if (mode == Progress.Mode.OFF || elapsed < QUIET_NANOS || done >= total) {
            return;
        }
        if (mode == Progress.Mode.LINES && lastShown != Long.MIN_VALUE && now - lastShown < LINE_INTERVAL_NANOS) {
            return;
        }
        lastShown = now;
        String line = line(done, total, elapsed);
        if (mode == Progress.Mode.LINE) {
            err.print("\r" + line + "\u001b[K");
            err.flush();
            inPlace = true;
        } else {
            err.println(line);
        }
    }

    /** Clears an in-place line, so that what follows starts on a clean line. */
    void done() {
        if (inPlace) {
            err.print("\r\u001b[K");
            err.flush();
            inPlace = false;
        }
    }

    /** {@code embedding: DONE/TOTAL passages (P%), M:SS left}, the time left at the rate so far. */
    static String line(int done, int total, long elapsedNanos) {
        long leftSeconds = done == 0 ? -1 : Math.round(elapsedNanos / 1e9 * (total - done) / done);
        return String.format(Locale.ROOT, "embedding: %d/%d passages (%d%%), %s", done, total,
                (int) (100L * done / total), leftSeconds < 0 ? "estimating time left"
                        : String.format(Locale.ROOT, "%d:%02d left", leftSeconds / 60, leftSeconds % 60));
    }
}
