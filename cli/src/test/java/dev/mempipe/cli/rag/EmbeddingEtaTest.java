package dev.mempipe.cli.rag;

import dev.mempipe.cli.profile.Progress;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

class EmbeddingEtaTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void should_estimate_the_time_left_from_the_rate_so_far() {
        assertEquals("embedding: 250/1000 passages (25%), 0:30 left", EmbeddingEta.line(250, 1000, 10 * SECOND));
        assertEquals("embedding: 32/5000 passages (0%), 16:49 left", EmbeddingEta.line(32, 5000, 6_500_000_000L));
        assertEquals("embedding: 0/10 passages (0%), estimating time left", EmbeddingEta.line(0, 10, SECOND));
    }

    @Test
    void should_stay_quiet_at_first_then_print_a_line_per_interval() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        AtomicLong now = new AtomicLong();
        EmbeddingEta eta = new EmbeddingEta(new PrintStream(bytes, true, StandardCharsets.UTF_8),
                Progress.Mode.LINES, now::get);
        now.set(SECOND);
        eta.embedded(100, 1000);                  // within the quiet start: nothing
        now.set(3 * SECOND);
        eta.embedded(300, 1000);                  // shown
        now.set(4 * SECOND);
        eta.embedded(400, 1000);                  // too soon after the last line
        now.set(9 * SECOND);
        eta.embedded(900, 1000);                  // shown
        eta.embedded(1000, 1000);                 // the end: the summary line follows instead
        assertEquals("embedding: 300/1000 passages (30%), 0:07 left\n"
                + "embedding: 900/1000 passages (90%), 0:01 left\n", bytes.toString(StandardCharsets.UTF_8));
    }
}
