package dev.mempipe.goldentests;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.OpArgs;
import dev.mempipe.spi.RelevancyOps;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherFactory;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request;

/**
 * Proof that the kit catches bugs: each contract runs, through the JUnit Platform Launcher, against backends
 * that wrap the scalar oracle and plant one realistic bug each; the kit must fail every one of them, with a
 * report that names the seed and the rerun command. On the same seeds the unbroken oracle must pass, and ops
 * or types a backend does not declare must be reported as skipped.
 */
class BrokenBackendsTest {
    /** Configuration parameter that enables the launched contract subclasses below (surefire never sets it). */
    static final String LAUNCHED = "mempipe.kit.selftest.launched";

    /** The backend the launched contract subclasses test; set around each launch. */
    private static volatile Supplier<Backend> current;

    private record Bug(String name, Class<? extends BackendContract> contract, Supplier<Backend> backend) {
    }

    private static List<Bug> bugs() {
        return List.of(
                new Bug("topK ties broken by descending index", LaunchedRetrieval.class,
                        BrokenBackends::topKTiesByDescendingIndex),
                new Bug("topK orders -0.0 below +0.0", LaunchedRetrieval.class,
                        BrokenBackends::topKNegativeZeroBelowPositiveZero),
                new Bug("topK passes NaN through", LaunchedRetrieval.class, BrokenBackends::topKPassesNaN),
                new Bug("pageMinMax skips a partial last page", LaunchedPrepare.class,
                        BrokenBackends::pageMinMaxSkipsPartialPage),
                new Bug("pagePool skips a partial last page", LaunchedPrepare.class,
                        BrokenBackends::pagePoolSkipsPartialPage),
                new Bug("MEAN pooling divides by P", LaunchedPrepare.class, BrokenBackends::meanPoolDividesByPageSize),
                new Bug("F16 conversion truncates", LaunchedPrepare.class, BrokenBackends::f16ConversionTruncates),
                new Bug("BF16 conversion truncates", LaunchedPrepare.class, BrokenBackends::bf16ConversionTruncates),
                new Bug("GQA maps head h to h % Hkv", LaunchedApply.class, BrokenBackends::gqaHeadModulo),
                new Bug("softmax without max subtraction", LaunchedRelevancy.class,
                        BrokenBackends::softmaxWithoutMaxSubtraction),
                new Bug("gather wraps an out-of-range index", LaunchedRetrieval.class,
                        BrokenBackends::gatherWrapsIndices),
                new Bug("BM25 counts a repeated query term twice", LaunchedRelevancy.class,
                        BrokenBackends::bm25CountsRepeatedTerms),
                new Bug("int8 dot accumulated in f32", LaunchedRelevancy.class,
                        BrokenBackends::int8DotAccumulatesInFloat),
                new Bug("attention skips the last selected row", LaunchedApply.class,
                        BrokenBackends::attentionSkipsLastRow),
                new Bug("integer project accumulated in f32", LaunchedPrepare.class,
                        BrokenBackends::intProjectAccumulatesInFloat),
                new Bug("a pinned tensor ignores refresh (stale device copy)", LaunchedDevice.class,
                        () -> new SeparateCopyDevice("stale-copy", new ScalarBackend(), true)),
                new Bug("fused dotTopK skips the last key", LaunchedDevice.class,
                        BrokenBackends::fusedDotTopKSkipsLastKey),
                new Bug("topK of a row batch repeats row 0", LaunchedRetrieval.class,
                        BrokenBackends::topKBatchRepeatsFirstRow));
    }

    @TestFactory
    Stream<DynamicTest> kit_should_fail_every_broken_backend() {
        return bugs().stream().map(bug -> DynamicTest.dynamicTest(bug.name(), () -> {
            Results results = launch(bug.contract(), bug.backend());
            assertFalse(results.failures.isEmpty(), () -> "the kit passed a backend whose " + bug.name()
                    + "; tests run: " + results.succeeded + " passed, " + results.aborted.size() + " skipped");
            for (Failure f : results.failures) {
                String message = String.valueOf(f.error().getMessage());
                assertTrue(f.error() instanceof Counterexample, () -> f.test() + " failed without a counterexample: "
                        + f.error());
                assertTrue(message.contains("seed=") && message.contains("-D" + PropertyHarness.SEED_PROPERTY + "=")
                        && message.contains("-D" + PropertyHarness.TRIALS_PROPERTY + "=1"),
                        () -> f.test() + ": the report lacks the seed or the rerun command:\n" + message);
            }
            System.out.println("[kit self-test] " + bug.name() + ": caught by " + results.failures.size()
                    + " test(s): " + results.failures.stream().map(Failure::test).toList()
                    + "\n  e.g. " + results.failures.getFirst().error().getMessage().replace("\n", "\n  "));
        }));
    }

    @TestFactory
    Stream<DynamicTest> kit_should_pass_the_unbroken_oracle_on_the_same_seeds() {
        return Stream.of(LaunchedPrepare.class, LaunchedRelevancy.class, LaunchedRetrieval.class, LaunchedApply.class,
                        LaunchedDevice.class)
                .map(contract -> DynamicTest.dynamicTest(contract.getSuperclass().getSimpleName(), () -> {
                    Results results = launch(contract,
                            () -> new ForwardingBackend("unbroken-oracle", new ScalarBackend()));
                    assertTrue(results.failures.isEmpty(), () -> "the unbroken oracle failed: "
                            + results.failures.stream().map(f -> f.test() + ": " + f.error().getMessage()).toList());
                    assertTrue(results.succeeded > 0, "no test ran");
                }));
    }

    @Test
    void kit_should_report_undeclared_ops_and_types_as_skipped() {
        Results results = launch(LaunchedRelevancy.class, BrokenBackendsTest::dotOnlyForF32);
        assertTrue(results.failures.isEmpty(), () -> "a backend that declares dot for F32 only failed: "
                + results.failures.stream().map(f -> f.test() + ": " + f.error().getMessage()).toList());
        assertTrue(results.succeeded > 0, "the F32 dot tests did not run");
        assertTrue(results.aborted.stream().anyMatch(m -> m.contains("does not declare element type I8 for op dot")),
                () -> "no skip names the undeclared dot type: " + results.aborted);
        assertTrue(results.aborted.stream().anyMatch(m -> m.contains("does not declare op softmax")),
                () -> "no skip names the undeclared op: " + results.aborted);
        assertEquals(0, results.aborted.stream().filter(m -> !m.contains("does not declare")).count(),
                () -> "skips without the capability as the reason: " + results.aborted);
    }

    /** The oracle, declaring only dot over F32 and rejecting anything else as the contract says. */
    private static Backend dotOnlyForF32() {
        Capabilities caps = Capabilities.builder().op(Op.DOT, EnumSet.of(ElementType.F32)).build();
        return new ForwardingBackend("dot-f32-only", new ScalarBackend()) {
            @Override
            public Capabilities capabilities() {
                return caps;
            }

            @Override
            public RelevancyOps relevancy() {
                return new Relevancy(delegate.relevancy()) {
                    @Override
                    public void dot(Tensor q, Tensor m, Tensor s) {
                        OpArgs.dot(caps, q, m, s);
                        d.dot(q, m, s);
                    }
                };
            }
        };
    }

    // ---- launching ----

    private record Failure(String test, Throwable error) {
    }

    private static final class Results implements TestExecutionListener {
        final List<Failure> failures = new ArrayList<>();
        final List<String> aborted = new ArrayList<>();
        int succeeded;

        @Override
        public void executionFinished(TestIdentifier id, TestExecutionResult result) {
            if (!id.isTest() && result.getStatus() == TestExecutionResult.Status.SUCCESSFUL) {
                return;
            }
            switch (result.getStatus()) {
                case SUCCESSFUL -> succeeded++;
                case ABORTED -> aborted.add(result.getThrowable().map(Throwable::getMessage).orElse("(no reason)"));
                case FAILED -> failures.add(new Failure(name(id), result.getThrowable().orElse(null)));
            }
        }

        @Override
        public void executionSkipped(TestIdentifier id, String reason) {
            aborted.add(reason);
        }

        private static String name(TestIdentifier id) {
            String method = id.getSource().filter(MethodSource.class::isInstance)
                    .map(src -> ((MethodSource) src).getMethodName()).orElse(id.getDisplayName());
            return method.equals(id.getDisplayName()) || id.getDisplayName().startsWith(method)
                    ? id.getDisplayName() : method + " " + id.getDisplayName();
        }
    }

    private static Results launch(Class<? extends BackendContract> contract, Supplier<Backend> backend) {
        LauncherDiscoveryRequest request = request()
                .selectors(selectClass(contract))
                .configurationParameter(LAUNCHED, "true")
                .build();
        Results results = new Results();
        Launcher launcher = LauncherFactory.create();
        current = backend;
        try {
            launcher.execute(request, results);
        } finally {
            current = null;
        }
        return results;
    }

    /** Enables the contract subclasses below only inside {@link #launch}; surefire's own run skips them. */
    static final class OnlyWhenLaunched implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            return context.getConfigurationParameter(LAUNCHED).map(Boolean::parseBoolean).orElse(false)
                    ? ConditionEvaluationResult.enabled("launched by BrokenBackendsTest")
                    : ConditionEvaluationResult.disabled("runs only when launched by BrokenBackendsTest");
        }
    }

    @ExtendWith(OnlyWhenLaunched.class)
    static class LaunchedPrepare extends PrepareContract {
        @Override
        protected Backend backend() {
            return current.get();
        }
    }

    @ExtendWith(OnlyWhenLaunched.class)
    static class LaunchedRelevancy extends RelevancyContract {
        @Override
        protected Backend backend() {
            return current.get();
        }
    }

    @ExtendWith(OnlyWhenLaunched.class)
    static class LaunchedRetrieval extends RetrievalContract {
        @Override
        protected Backend backend() {
            return current.get();
        }
    }

    @ExtendWith(OnlyWhenLaunched.class)
    static class LaunchedApply extends ApplyContract {
        @Override
        protected Backend backend() {
            return current.get();
        }
    }

    @ExtendWith(OnlyWhenLaunched.class)
    static class LaunchedDevice extends DeviceContract {
        @Override
        protected Backend backend() {
            return current.get();
        }
    }
}
