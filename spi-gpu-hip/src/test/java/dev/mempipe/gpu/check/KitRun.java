package dev.mempipe.gpu.check;

import dev.mempipe.goldentests.ApplyContract;
import dev.mempipe.goldentests.DeviceContract;
import dev.mempipe.goldentests.PrepareContract;
import dev.mempipe.goldentests.RelevancyContract;
import dev.mempipe.goldentests.RetrievalContract;
import dev.mempipe.spi.Backend;
import org.junit.platform.engine.FilterResult;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.TestSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.PostDiscoveryFilter;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request;

/**
 * Runs the conformance kit's contracts on the device through the JUnit Platform Launcher, as the backend's own
 * test suite does, and sums the results per op (the part of each test's name before {@code _should_}):
 * passed, failed (with the first messages) and skipped (ops the backend does not declare). The contracts are
 * the nested classes below; they take the backend from {@link #use}.
 *
 * <p>Not thread-safe: one run at a time per JVM (the backend is a static hand-off, as JUnit instantiates the
 * contracts itself).
 */
final class KitRun {
    private static final int MAX_MESSAGES = 3;
    private static volatile Supplier<Backend> backend;

    private KitRun() {
    }

    /** The contracts run per op, without and with pins. */
    static final List<Class<?>> OP_CONTRACTS = List.of(Prepare.class, Relevancy.class, Retrieval.class, Apply.class);

    /** Makes the contracts run on backends from {@code factory}. */
    static void use(Supplier<Backend> factory) {
        backend = factory;
    }

    /**
     * Runs {@code contracts}, keeping only tests whose op is in {@code ops} (all when empty).
     *
     * @return per op: passed, failed, skipped and the first failure messages
     */
    static Map<String, Object> run(List<Class<?>> contracts, Set<String> ops) {
        Map<String, int[]> counts = new LinkedHashMap<>();
        Map<String, List<String>> messages = new LinkedHashMap<>();
        TestExecutionListener listener = new TestExecutionListener() {
            @Override
            public void executionSkipped(TestIdentifier id, String reason) {
                if (id.isTest() || id.getSource().filter(MethodSource.class::isInstance).isPresent()) {
                    counts.computeIfAbsent(op(id.getSource().orElse(null)), k -> new int[3])[2]++;
                }
            }

            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (!id.isTest()) {
                    if (result.getStatus() != TestExecutionResult.Status.SUCCESSFUL) { // a class that failed to start
                        String key = "(" + id.getDisplayName() + ")";
                        counts.computeIfAbsent(key, k -> new int[3])[1]++;
                        messages.computeIfAbsent(key, k -> new ArrayList<>()).add(message(result));
                    }
                    return;
                }
                String op = op(id.getSource().orElse(null));
                int[] c = counts.computeIfAbsent(op, k -> new int[3]);
                switch (result.getStatus()) {
                    case SUCCESSFUL -> c[0]++;
                    case ABORTED -> c[2]++;
                    case FAILED -> {
                        c[1]++;
                        List<String> list = messages.computeIfAbsent(op, k -> new ArrayList<>());
                        if (list.size() < MAX_MESSAGES) {
                            list.add(id.getDisplayName() + ": " + message(result));
                        }
                    }
                }
            }
        };
        var builder = request().configurationParameter("junit.jupiter.extensions.autodetection.enabled", "false");
        for (Class<?> c : contracts) {
            builder.selectors(selectClass(c));
        }
        if (!ops.isEmpty()) {
            builder.filters((PostDiscoveryFilter) descriptor -> {
                TestSource source = descriptor.getSource().orElse(null);
                boolean keep = !(source instanceof MethodSource) || ops.contains(op(source));
                return FilterResult.includedIf(keep);
            });
        }
        LauncherDiscoveryRequest request = builder.build();
        Launcher launcher = LauncherFactory.create();
        launcher.execute(request, listener);
        Map<String, Object> result = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> e : counts.entrySet()) {
            Map<String, Object> op = new LinkedHashMap<>();
            op.put("passed", e.getValue()[0]);
            op.put("failed", e.getValue()[1]);
            op.put("skipped", e.getValue()[2]);
            if (messages.containsKey(e.getKey())) {
                op.put("failures", messages.get(e.getKey()));
            }
            result.put(e.getKey(), op);
        }
        return result;
    }

    /** Total failures in a {@link #run} result. */
    static int failures(Map<String, Object> result) {
        int failed = 0;
        for (Object op : result.values()) {
            failed += (Integer) ((Map<?, ?>) op).get("failed");
        }
        return failed;
    }

    /** Total passes in a {@link #run} result. */
    static int passes(Map<String, Object> result) {
        int passed = 0;
        for (Object op : result.values()) {
            passed += (Integer) ((Map<?, ?>) op).get("passed");
        }
        return passed;
    }

    private static String op(TestSource source) {
        if (!(source instanceof MethodSource m)) {
            return "(other)";
        }
        String name = m.getMethodName();
        int at = name.indexOf("_should_");
        return at > 0 ? name.substring(0, at) : name;
    }

    private static String message(TestExecutionResult result) {
        return result.getThrowable().map(t -> t.getClass().getSimpleName() + ": " + t.getMessage()).orElse("(no message)");
    }


    private static Backend backend() {
        Supplier<Backend> factory = backend;
        if (factory == null) {
            throw new IllegalStateException("KitRun.use(...) was not called before the kit ran");
        }
        return factory.get();
    }

    /** PrepareContract on the device (its one GPU op is project; the rest skip as undeclared). */
    public static class Prepare extends PrepareContract {
        @Override
        protected Backend backend() {
            return KitRun.backend();
        }
    }

    public static class Relevancy extends RelevancyContract {
        @Override
        protected Backend backend() {
            return KitRun.backend();
        }
    }

    public static class Retrieval extends RetrievalContract {
        @Override
        protected Backend backend() {
            return KitRun.backend();
        }
    }

    public static class Apply extends ApplyContract {
        @Override
        protected Backend backend() {
            return KitRun.backend();
        }
    }

    /** Residency: pins, views of pins, refresh, fused ops over pinned keys, declared limits. */
    public static class Device extends DeviceContract {
        @Override
        protected Backend backend() {
            return KitRun.backend();
        }
    }
}
