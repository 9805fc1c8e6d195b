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
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.MethodSelector;
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
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectIteration;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;
import static org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request;

/**
 * Proof that the kit catches bugs: the test that should catch each planted bug runs, through the JUnit Platform
 * Launcher, against a backend that wraps the scalar oracle and plants that one realistic bug; it must fail, with a
 * report that names the seed and the rerun command (and the element type). On the same seeds the unbroken oracle
 * must pass that test and the whole step, device, lifecycle and golden contracts, and ops or types a backend does
 * not declare must be reported as skipped.
 */
class BrokenBackendsTest {
    /** Configuration parameter that enables the launched contract subclasses below (surefire never sets it). */
    static final String LAUNCHED = "mempipe.kit.selftest.launched";
    /** System property: print each planted bug's catching tests and the first report (as a failure would look). */
    static final String VERBOSE = "mempipe.kit.selftest.verbose";

    /** The backend the launched contract subclasses test; set around each launch. */
    private static volatile Supplier<Backend> current;

    /**
     * A planted bug, the contract that must catch it and the test method that does ({@code test}; with
     * {@code invocation}, the parameterized invocation whose name holds it, e.g. {@code I8}). Only that test method
     * is launched; golden-tests/README.md lists every row of {@link #bugs()}.
     */
    private record Bug(String name, Class<? extends BackendContract> contract, Supplier<Backend> backend, String test,
                       String invocation) {
        Bug(String name, Class<? extends BackendContract> contract, Supplier<Backend> backend, String test) {
            this(name, contract, backend, test, null);
        }
    }

    static List<Bug> bugs() {
        return List.of(
                new Bug("topK ties broken by descending index", LaunchedRetrieval.class,
                        BrokenBackends::topKTiesByDescendingIndex, "topK_should_break_ties_by_ascending_index"),
                new Bug("topK orders -0.0 below +0.0", LaunchedRetrieval.class,
                        BrokenBackends::topKNegativeZeroBelowPositiveZero,
                        "topK_should_treat_negative_zero_as_equal_to_positive_zero"),
                new Bug("topK passes NaN through", LaunchedRetrieval.class, BrokenBackends::topKPassesNaN,
                        "topK_should_reject_nan_with_its_position"),
                new Bug("pageMinMax skips a partial last page", LaunchedPrepare.class,
                        BrokenBackends::pageMinMaxSkipsPartialPage, "pageMinMax_should_summarize_a_partial_last_page"),
                new Bug("pagePool skips a partial last page", LaunchedPrepare.class,
                        BrokenBackends::pagePoolSkipsPartialPage,
                        "pagePool_mean_should_divide_a_partial_page_by_its_row_count"),
                new Bug("MEAN pooling divides by P", LaunchedPrepare.class, BrokenBackends::meanPoolDividesByPageSize,
                        "pagePool_mean_should_divide_a_partial_page_by_its_row_count"),
                new Bug("F16 conversion truncates", LaunchedPrepare.class, BrokenBackends::f16ConversionTruncates,
                        "convert_should_round_to_nearest_even", "F16"),
                new Bug("BF16 conversion truncates", LaunchedPrepare.class, BrokenBackends::bf16ConversionTruncates,
                        "convert_should_round_to_nearest_even", "BF16"),
                new Bug("GQA maps head h to h % Hkv", LaunchedApply.class, BrokenBackends::gqaHeadModulo,
                        "attention_should_map_query_heads_to_kv_heads_in_groups"),
                new Bug("softmax without max subtraction", LaunchedRelevancy.class,
                        BrokenBackends::softmaxWithoutMaxSubtraction, "softmax_should_not_overflow_on_large_scores"),
                new Bug("gather wraps an out-of-range index", LaunchedRetrieval.class,
                        BrokenBackends::gatherWrapsIndices, "gather_should_reject_an_out_of_range_index"),
                new Bug("BM25 counts a repeated query term twice", LaunchedRelevancy.class,
                        BrokenBackends::bm25CountsRepeatedTerms, "bm25Score_should_count_a_repeated_query_term_once"),
                new Bug("int8 dot accumulated in f32", LaunchedRelevancy.class,
                        BrokenBackends::int8DotAccumulatesInFloat, "dot_should_accumulate_integer_codes_exactly", "I8"),
                new Bug("attention skips the last selected row", LaunchedApply.class,
                        BrokenBackends::attentionSkipsLastRow, "attention_should_match_the_oracle_within_the_error_bound"),
                new Bug("integer project accumulated in f32", LaunchedPrepare.class,
                        BrokenBackends::intProjectAccumulatesInFloat, "project_should_accumulate_integer_codes_exactly"),
                new Bug("a pinned tensor ignores refresh (stale device copy)", LaunchedDevice.class,
                        () -> new SeparateCopyDevice("stale-copy", new ScalarBackend(), true),
                        "a_pinned_tensor_should_follow_refresh_after_rows_are_appended"),
                new Bug("fused dotTopK skips the last key", LaunchedDevice.class,
                        BrokenBackends::fusedDotTopKSkipsLastKey, "dotTopK_should_equal_topK_of_dot_for_every_row"),
                new Bug("topK of a row batch repeats row 0", LaunchedRetrieval.class,
                        BrokenBackends::topKBatchRepeatsFirstRow, "topK_should_select_each_row_of_a_batch_independently"),
                new Bug("mlpGradient of the squared loss without its factor 2", LaunchedTrain.class,
                        BrokenBackends::squaredLossGradientWithoutTheTwo,
                        "mlpGradient_should_match_the_oracle_within_the_error_bound", "SQUARED"),
                new Bug("newtonSchulz runs one step short", LaunchedTrain.class, BrokenBackends::newtonSchulzOneStepShort,
                        "newtonSchulz_should_match_the_oracle_wide_and_tall"),
                new Bug("momentumUpdate decays W + S instead of W", LaunchedTrain.class,
                        BrokenBackends::momentumDecaysTheUpdate, "momentumUpdate_should_match_the_oracle_in_place"),
                new Bug("mlpForward clears Y before checking the weights", LaunchedTrain.class,
                        BrokenBackends::mlpForwardClearsBeforeChecking, "mlpForward_should_reject_weights_of_the_wrong_shape"),
                // second edition: what real device backends got past the first
                new Bug("topK copies its whole buffer back (writes past the count)", LaunchedRetrieval.class,
                        DeviceBugBackends::topKClearsTheWholeIdxBuffer, "topK_should_match_the_oracle_in_the_total_order"),
                new Bug("bitmapToIndices stores whole 8-lane vectors (writes past the count)", LaunchedRetrieval.class,
                        DeviceBugBackends::bitmapToIndicesStoresWholeVectors,
                        "bitmapToIndices_should_list_the_set_bits_in_ascending_order"),
                new Bug("topK carries indices through f32 (wrong past 2^24)", LaunchedHardwareEdge.class,
                        DeviceBugBackends::topKIndicesThroughFloat, "topK_should_return_positions_past_2_16_and_2_24"),
                new Bug("gather keeps the row index in 16 bits", LaunchedHardwareEdge.class,
                        DeviceBugBackends::gatherIndexIn16Bits, "gather_should_copy_rows_past_2_16_and_2_24"),
                new Bug("I8 dot accumulated in an int32 (overflows with -128 codes)", LaunchedHardwareEdge.class,
                        DeviceBugBackends::int8DotAccumulatesInInt32,
                        "dot_should_sum_rows_that_overflow_narrow_accumulators", "I8"),
                new Bug("F16 dot accumulated in half precision", LaunchedHardwareEdge.class,
                        DeviceBugBackends::f16DotAccumulatesInHalf,
                        "dot_should_sum_rows_that_overflow_narrow_accumulators", "F16"),
                new Bug("dequantize clamps -128 to -127", LaunchedHardwareEdge.class,
                        DeviceBugBackends::dequantizeClampsToSymmetricRange,
                        "quantize_dequantize_convert_should_handle_extreme_codes_and_rows_past_2_16", "I8"),
                new Bug("I8 dot counts keys in 24 bits (wrong past 2^24)", LaunchedHardwareEdge.class,
                        DeviceBugBackends::int8DotKeyCounterIn24Bits, "dot_should_write_scores_past_2_16_and_2_24",
                        "I8"),
                new Bug("bm25Index packs term ids in 24 bits", LaunchedHardwareEdge.class,
                        DeviceBugBackends::bm25TermIdsIn24Bits,
                        "bm25_should_index_and_score_term_ids_past_2_16_and_2_24_and_documents_past_2_16"),
                new Bug("pagePool counts pages in 16 bits", LaunchedHardwareEdge.class,
                        DeviceBugBackends::pagePoolPageCounterIn16Bits,
                        "pagePool_and_pageMinMax_should_handle_long_pages_and_pages_past_2_16", "F32"),
                new Bug("mlpForward accumulated in half precision", LaunchedHardwareEdge.class,
                        DeviceBugBackends::mlpForwardAccumulatesInHalf,
                        "mlpForward_should_sum_rows_that_overflow_narrow_accumulators"),
                new Bug("softmax misses a maximum in the last element of a 256-block", LaunchedHardwareEdge.class,
                        DeviceBugBackends::softmaxMissesTheLastElementOfABlock,
                        "softmax_should_find_the_maximum_at_every_block_boundary", "F32"),
                new Bug("dot wrong where three tile remainders meet", LaunchedHardwareEdge.class,
                        DeviceBugBackends::dotTileRemainderBug, "dot_and_project_should_handle_every_tile_remainder",
                        "F32"),
                new Bug("dot stages queries in one buffer shared by all threads", LaunchedConcurrency.class,
                        DeviceBugBackends::dotWithASharedStagingBuffer,
                        "op_called_from_several_threads_at_once_should_give_the_serial_results", "dot"),
                new Bug("dot runs on a driver thread (fails on confined memory)", LaunchedConcurrency.class,
                        DeviceBugBackends::dotOnADriverThread,
                        "op_should_run_on_memory_of_a_confined_arena_on_the_calling_thread", "dot"),
                new Bug("mlpForward stages its input in one buffer shared by all threads", LaunchedConcurrency.class,
                        DeviceBugBackends::mlpForwardWithASharedStagingBuffer,
                        "op_called_from_several_threads_at_once_should_give_the_serial_results", "mlpForward"),
                new Bug("newtonSchulz runs on a driver thread (fails on confined memory)", LaunchedConcurrency.class,
                        DeviceBugBackends::newtonSchulzOnADriverThread,
                        "op_should_run_on_memory_of_a_confined_arena_on_the_calling_thread", "newtonSchulz"),
                new Bug("ops keep working after close()", LaunchedLifecycle.class, DeviceBugBackends::opsWorkAfterClose,
                        "op_after_close_should_throw_IllegalStateException", "dot"),
                new Bug("close() releases a context other instances share", LaunchedLifecycle.class,
                        DeviceBugBackends::closeReleasesTheSharedContext,
                        "closing_one_instance_should_leave_another_working"),
                new Bug("train ops keep working after close() (a fallback close() does not reach)",
                        LaunchedLifecycle.class, DeviceBugBackends::trainOpsWorkAfterClose,
                        "op_after_close_should_throw_IllegalStateException", "mlpForward"));
    }

    @Test
    void kit_readme_should_list_every_planted_bug_and_the_test_that_catches_it() throws java.io.IOException {
        String readme = java.nio.file.Files.readString(java.nio.file.Path.of("README.md"));
        for (Bug bug : bugs()) {
            String contract = bug.contract().getSuperclass().getSimpleName();
            String row = "| " + bug.name() + " | ";
            String test = "`" + contract + "#" + bug.test() + "`" + (bug.invocation() == null ? "" : " [" + bug.invocation()
                    + "]") + " |";
            assertTrue(readme.lines().anyMatch(l -> l.startsWith(row) && l.endsWith(test)),
                    () -> "golden-tests/README.md has no row '" + row + "... | " + test + "'");
        }
    }

    @TestFactory
    Stream<DynamicTest> kit_should_fail_every_broken_backend() {
        return bugs().stream().map(bug -> DynamicTest.dynamicTest(bug.name(), () -> {
            Results results = launch(bug.contract(), bug.test(), bug.invocation(), bug.backend());
            assertFalse(results.failures.isEmpty(), () -> "the kit passed a backend whose " + bug.name()
                    + "; tests run: " + results.succeeded + " passed, " + results.aborted.size() + " skipped");
            List<Failure> named = results.failures.stream().filter(f -> bug.invocation() == null
                    || Words.has(f.test(), bug.invocation())).toList();
            assertFalse(named.isEmpty(), () -> bug.test() + " did not fail in its " + bug.invocation()
                    + " invocation; failures: " + results.failures.stream().map(Failure::test).toList());
            for (Failure f : results.failures) {
                String message = String.valueOf(f.error().getMessage());
                assertTrue(f.error() instanceof Counterexample, () -> f.test() + " failed without a counterexample: "
                        + f.error());
                assertTrue(message.contains("seed=") && message.contains("-D" + PropertyHarness.CASE_PROPERTY + "="),
                        () -> f.test() + ": the report lacks the seed or the rerun command:\n" + message);
            }
            if (bug.invocation() != null && PropertyHarness.typeOf(bug.invocation()) != null) {
                String message = named.getFirst().error().getMessage();
                assertTrue(message.contains("-D" + PropertyHarness.TYPE_PROPERTY + "=" + bug.invocation()),
                        () -> "the rerun command does not name the element type " + bug.invocation() + ":\n" + message);
            }
            Results unbroken = launch(bug.contract(), bug.test(), bug.invocation(),
                    () -> new ForwardingBackend("unbroken-oracle", new ScalarBackend()));
            assertTrue(unbroken.failures.isEmpty() && unbroken.succeeded > 0, () -> bug.test()
                    + " must pass the unbroken oracle on the same seeds: " + unbroken.failures.stream()
                    .map(f -> f.test() + ": " + f.error().getMessage()).toList());
            // an expected catch, not a failure: one line, so that the build log does not read like a failing run
            System.out.println("[kit self-test] ok, planted bug caught as intended: " + bug.name() + " (by "
                    + results.failures.size() + " test(s))");
            if (Boolean.getBoolean(VERBOSE)) {
                System.out.println("  caught by " + results.failures.stream().map(Failure::test).toList()
                        + "\n  e.g. " + named.getFirst().error().getMessage().replace("\n", "\n  "));
            }
        }));
    }

    @TestFactory
    Stream<DynamicTest> kit_should_pass_the_unbroken_oracle_on_the_same_seeds() {
        // the hardware-edge and concurrency contracts run whole on the SIMD and example backends; here only their
        // tests that catch a planted bug, on the unbroken oracle, beside each bug (a full run on the scalar oracle
        // costs half a minute)
        return Stream.of(LaunchedPrepare.class, LaunchedRelevancy.class, LaunchedRetrieval.class, LaunchedApply.class,
                        LaunchedDevice.class, LaunchedLifecycle.class, LaunchedGoldenCases.class, LaunchedTrain.class)
                .map(contract -> DynamicTest.dynamicTest(contract.getSuperclass().getSimpleName(), () -> {
                    Results results = launch(contract, null, null,
                            () -> new ForwardingBackend("unbroken-oracle", new ScalarBackend()));
                    assertTrue(results.failures.isEmpty(), () -> "the unbroken oracle failed: "
                            + results.failures.stream().map(f -> f.test() + ": " + f.error().getMessage()).toList());
                    assertTrue(results.succeeded > 0, "no test ran");
                }));
    }

    @Test
    void kit_should_report_undeclared_ops_and_types_as_skipped() {
        Results results = launch(LaunchedRelevancy.class, null, null, BrokenBackendsTest::dotOnlyForF32);
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
                        delegate.dot(q, m, s);
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

    /**
     * Runs {@code test} (a method name; null: every test) of {@code contract} against {@code backend}; with
     * {@code invocation} (an element type or op name), only that invocation of a parameterized test.
     */
    private static Results launch(Class<? extends BackendContract> contract, String test, String invocation,
                                  Supplier<Backend> backend) {
        DiscoverySelector selector = selectClass(contract);
        if (test != null) {
            java.lang.reflect.Method m = method(contract, test);
            MethodSelector byMethod = selectMethod(contract, m);
            selector = invocation == null ? byMethod : selectIteration(byMethod, iteration(m, invocation));
        }
        LauncherDiscoveryRequest request = request()
                .selectors(selector)
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

    /** The index of the invocation of an {@code @EnumSource} test whose constant is named {@code name}. */
    private static int iteration(java.lang.reflect.Method m, String name) {
        EnumSource source = m.getAnnotation(EnumSource.class);
        List<String> included = java.util.Arrays.asList(source.names());
        int index = 0;
        for (Enum<?> constant : source.value().getEnumConstants()) {
            if (included.isEmpty() || included.contains(constant.name())) {
                if (constant.name().equals(name) || constant.toString().equals(name)) {
                    return index;
                }
                index++;
            }
        }
        throw new IllegalArgumentException(m.getName() + " has no invocation " + name);
    }

    private static java.lang.reflect.Method method(Class<?> contract, String name) {
        for (Class<?> c = contract; c != null; c = c.getSuperclass()) {
            for (java.lang.reflect.Method m : c.getDeclaredMethods()) {
                if (m.getName().equals(name)) {
                    return m;
                }
            }
        }
        throw new IllegalArgumentException("no test method " + name + " in " + contract.getName());
    }

    /** Whether a test's display name holds {@code word} as a whole word (an element type, an op). */
    private static final class Words {
        static boolean has(String testName, String word) {
            return java.util.Arrays.asList(testName.split("[^A-Za-z0-9]+")).contains(word);
        }
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
    static class LaunchedTrain extends TrainContract {
        @Override
        protected Backend backend() {
            return current.get();
        }
    }

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

    @ExtendWith(OnlyWhenLaunched.class)
    static class LaunchedHardwareEdge extends HardwareEdgeContract {
        @Override
        protected Backend backend() {
            return current.get();
        }
    }

    @ExtendWith(OnlyWhenLaunched.class)
    static class LaunchedConcurrency extends ConcurrencyContract {
        @Override
        protected Backend backend() {
            return current.get();
        }
    }

    @ExtendWith(OnlyWhenLaunched.class)
    static class LaunchedLifecycle extends LifecycleContract {
        @Override
        protected Backend backend() {
            return current.get();
        }
    }

    @ExtendWith(OnlyWhenLaunched.class)
    static class LaunchedGoldenCases extends GoldenCasesContract {
        @Override
        protected Backend backend() {
            return current.get();
        }
    }
}
