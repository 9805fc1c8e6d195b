package dev.mempipe.core.model;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;

/**
 * The JIT's total compilation time, which grows while compilations are still coming in: the profile's warm-up goes on
 * until it stops growing. A JVM without compiler monitoring reports a constant 0, so the warm-up then falls back on
 * stable step times alone.
 */
final class JitClock {
    private static final CompilationMXBean COMPILER = ManagementFactory.getCompilationMXBean();
    private static final boolean MONITORED = COMPILER != null && COMPILER.isCompilationTimeMonitoringSupported();

    private JitClock() {
    }

    /** Milliseconds the JIT has spent compiling since the JVM started (0 when not monitored). */
    static long compileMillis() {
        return MONITORED ? COMPILER.getTotalCompilationTime() : 0;
    }
}
