package dev.mempipe.goldentests;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request;

/** The leak check itself: it sees an arena's memory come and go, and fails a class that leaves some allocated. */
class NativeMemoryCheckTest {
    /** Configuration parameter that enables {@link Leaky} (surefire never sets it). */
    static final String LAUNCHED = "mempipe.nmt.selftest.launched";
    private static Arena leaked;

    @Test
    void should_count_an_arenas_memory_until_it_is_closed() {
        long before = NativeMemoryCheck.other();
        assertTrue(before >= 0, "the build runs tests with -XX:NativeMemoryTracking=summary");
        try (Arena arena = Arena.ofShared()) {
            arena.allocate(4 << 20);
            assertTrue(NativeMemoryCheck.other() >= before + (4 << 20), "4 MiB counted");
        }
        assertTrue(NativeMemoryCheck.other() < before + NativeMemoryCheck.SLACK_BYTES);
    }

    @Test
    void should_fail_a_class_that_leaves_an_arena_open() {
        LauncherDiscoveryRequest req = request().selectors(selectClass(Leaky.class))
                .configurationParameter(LAUNCHED, "true").build();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        try {
            LauncherFactory.create().execute(req, listener);
        } finally {
            leaked.close();
        }
        TestExecutionSummary summary = listener.getSummary();
        assertEquals(1, summary.getTestsSucceededCount());
        assertEquals(1, summary.getContainersFailedCount(), "the class fails after its test passed");
        String message = summary.getFailures().getFirst().getException().getMessage();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(" left (\\d+) KiB of native memory allocated")
                .matcher(message);
        assertTrue(m.find() && Long.parseLong(m.group(1)) >= 2048, message);
    }

    /** Leaves 2 MiB allocated; run only through the launcher above. */
    @ExtendWith(NativeMemoryCheck.class)
    @org.junit.jupiter.api.condition.EnabledIf("launched")
    static class Leaky {
        static boolean launched(org.junit.jupiter.api.extension.ExtensionContext context) {
            return context.getConfigurationParameter(LAUNCHED).isPresent();
        }

        @Test
        void leaks() {
            leaked = Arena.ofShared();
            leaked.allocate(2 << 20);
        }
    }
}
