package dev.mempipe.goldentests;

import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The harness's seeds and rerun commands: every element-type invocation of a property sees its own cases (the
 * first trial too), a counterexample's command reruns exactly its case and names its element type, and the
 * type filter skips the other invocations.
 */
class PropertyHarnessTest {
    private static final PropertyHarness.Target F32 = new PropertyHarness.Target(PropertyHarnessTest.class, "prop",
            "M F32");
    private static final PropertyHarness.Target I8 = new PropertyHarness.Target(PropertyHarnessTest.class, "prop",
            "M I8");

    @Test
    void each_element_type_invocation_should_get_its_own_seeds_from_the_first_trial_on() {
        Set<Long> seeds = new HashSet<>();
        for (PropertyHarness.Target t : List.of(F32, I8)) {
            for (int i = 0; i < 4; i++) {
                seeds.add(PropertyHarness.caseSeed(t.salt(), i));
            }
        }
        assertEquals(8, seeds.size(), "trials and invocations share seeds: " + seeds);
        assertNotEquals(PropertyHarness.baseSeed(), PropertyHarness.caseSeed(F32.salt(), 0),
                "trial 0 must not use the bare base seed (every property would start from the same case)");
    }

    @Test
    void a_counterexample_should_print_a_command_that_reruns_only_its_case_and_type() {
        List<Long> seen = new ArrayList<>();
        Counterexample e = assertThrows(Counterexample.class, () -> PropertyHarness.check(I8, "dot", "test-backend",
                5, t -> {
                    seen.add(t.seed());
                    if (seen.size() == 3) {
                        throw new AssertionError("planted failure");
                    }
                }));
        long failing = seen.get(2);
        assertEquals(failing, e.seed());
        assertTrue(e.rerunCommand().contains("-D" + PropertyHarness.CASE_PROPERTY + "=" + failing), e.rerunCommand());
        assertTrue(e.rerunCommand().contains("-D" + PropertyHarness.TYPE_PROPERTY + "=I8"), e.rerunCommand());

        List<Long> rerun = new ArrayList<>();
        withProperties(failing, "I8", () -> {
            assertThrows(Counterexample.class, () -> PropertyHarness.check(I8, "dot", "test-backend", 5, t -> {
                rerun.add(t.seed());
                throw new AssertionError("planted failure");
            }));
            assertThrows(TestAbortedException.class, () -> PropertyHarness.check(F32, "dot", "test-backend", 5,
                    t -> rerun.add(-1L)), "the F32 invocation must be skipped when rerunning I8");
        });
        assertEquals(List.of(failing), rerun, "the rerun must run exactly the failing case, once");
    }

    private static void withProperties(long caseSeed, String type, Runnable body) {
        System.setProperty(PropertyHarness.CASE_PROPERTY, Long.toString(caseSeed));
        System.setProperty(PropertyHarness.TYPE_PROPERTY, type);
        try {
            body.run();
        } finally {
            System.clearProperty(PropertyHarness.CASE_PROPERTY);
            System.clearProperty(PropertyHarness.TYPE_PROPERTY);
        }
    }
}
