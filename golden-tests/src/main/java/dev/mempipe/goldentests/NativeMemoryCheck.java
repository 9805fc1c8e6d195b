package dev.mempipe.goldentests;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import javax.management.JMException;
import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fails a test class that leaves native memory allocated: the JVM's own Native Memory Tracking counts every
 * off-heap allocation of {@code Arena}s and direct buffers in its "Other" category; this extension reads that count
 * before the class's first test and after its last, and fails when more than {@value #SLACK_BYTES} bytes are still
 * allocated once the garbage collector has freed what automatic arenas held (a few collections, up to
 * {@value #SETTLE_MILLIS} ms).
 *
 * <p>Needs {@code -XX:NativeMemoryTracking=summary} (the build's test JVMs have it) and
 * {@code -Djdk.nio.maxCachedBufferSize=0}, so that NIO's per-thread cache of temporary direct buffers, which is not a
 * leak, does not count. Without tracking the check does nothing, unless {@code -Dmempipe.nmt=required}, which the
 * build sets, makes that an error. Register it with {@code @ExtendWith(NativeMemoryCheck.class)} or, for every class
 * of a module, through JUnit's extension auto-detection (the build does so for the modules that allocate off-heap).
 */
public final class NativeMemoryCheck implements BeforeAllCallback, AfterAllCallback {
    /** Allowed growth per class: the JDK allocates a few small native structures lazily on first use. */
    static final long SLACK_BYTES = 64 * 1024;
    static final long SETTLE_MILLIS = 5000;
    private static final Pattern OTHER = Pattern.compile("Other \\(reserved=(\\d+)KB, committed=(\\d+)KB\\)");
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(NativeMemoryCheck.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        long before = settledOther(Long.MAX_VALUE);
        if (before >= 0) {
            context.getStore(NS).put("before", before);
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        Long before = context.getStore(NS).get("before", Long.class);
        if (before == null) {
            return;
        }
        long after = settledOther(before + SLACK_BYTES);
        if (after > before + SLACK_BYTES) {
            throw new AssertionError(context.getDisplayName() + " left " + (after - before) / 1024 + " KiB of native "
                    + "memory allocated (Native Memory Tracking, category Other: " + before / 1024 + " KiB before the "
                    + "class, " + after / 1024 + " KiB after it and " + SETTLE_MILLIS + " ms of garbage collection): an "
                    + "arena or a memory not closed?");
        }
    }

    /**
     * The committed bytes of NMT's Other category, after collecting garbage until it is at most {@code target} or
     * {@value #SETTLE_MILLIS} ms passed; -1 when tracking is off.
     */
    static long settledOther(long target) {
        long deadline = System.nanoTime() + SETTLE_MILLIS * 1_000_000;
        long now = other();
        while (now > target && now >= 0 && System.nanoTime() < deadline) {
            System.gc();
            try {
                Thread.sleep(20); // the Cleaner thread frees automatic arenas after the collection
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            now = other();
        }
        if (target == Long.MAX_VALUE && now >= 0) { // a baseline: settle what earlier classes left to the collector
            System.gc();
            now = other();
        }
        return now;
    }

    /** NMT's Other, committed, in bytes; -1 when tracking is off (an error when it is required). */
    static long other() {
        String summary;
        try {
            summary = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "vmNativeMemory",
                    new Object[] {new String[] {"summary"}}, new String[] {String[].class.getName()});
        } catch (JMException e) {
            return missing("the DiagnosticCommand MBean failed: " + e);
        }
        Matcher m = OTHER.matcher(summary);
        if (!m.find()) {
            return missing(summary.strip());
        }
        return Long.parseLong(m.group(2)) * 1024;
    }

    private static long missing(String why) {
        if ("required".equals(System.getProperty("mempipe.nmt"))) {
            throw new IllegalStateException("-Dmempipe.nmt=required but Native Memory Tracking is not available (run"
                    + " with -XX:NativeMemoryTracking=summary): " + why);
        }
        return -1;
    }
}
