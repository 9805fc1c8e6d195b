package dev.mempipe.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code mempipe plan}: the what-if table, its labels, and its usage errors. */
class PlanCommandTest {

    @Test
    void should_print_labelled_descriptions_and_one_row_per_context_and_gpu() {
        CliRun run = CliRun.of("plan", "--workload", "quest,bm25", "--context", "32768,131072", "--gpu", "mi210,h100");
        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(run.out().contains("MI210 (model)") && run.out().contains("H100 (model)")
                && run.out().contains("Alveo U55C (model, 300.0 MHz, 8 HBM channels)"), run::toString);
        // every figure line of the descriptions carries its label
        long figures = run.out().lines().filter(l -> l.matches("  \\S.* (model|measured): .*")).count();
        assertTrue(figures >= 3 * 9, figures + " labelled figure lines: " + run);
        long rows = run.out().lines().filter(l -> l.matches("(32768|131072) .*")).count();
        assertEquals(2 * 2 * 2, rows, "2 workloads x 2 contexts x 2 GPUs: " + run);
        assertTrue(run.out().contains("1.04-2.2x faster, 1.11-4.7x less energy"), run::toString);
    }

    @Test
    void a_gpu_assumed_slow_at_bm25_should_show_the_fpga_in_the_placement_and_the_link_bytes() {
        CliRun run = CliRun.of("plan", "--workload", "bm25", "--context", "1048576", "--gpu", "mi210",
                "--gpu-topk-passes", "100", "--gpu-bm25-efficiency", "0.005");
        assertEquals(0, run.exitCode(), run::toString);
        String row = run.out().lines().filter(l -> l.startsWith("1048576 ")).findFirst().orElseThrow();
        assertTrue(row.contains("Rel=FPGA Ret=FPGA"), row);
        assertTrue(row.contains("MI210 -> U55C") && row.contains(" 32 B") && row.contains(" 512 B"), row);
        assertTrue(run.out().contains("assumed: top-k reads the scores 100.0 times"), run::toString);
    }

    @Test
    void bad_options_should_fail_in_one_line_naming_the_value() {
        for (String[] args : new String[][] {{"plan", "--fpga-channels", "12"}, {"plan", "--gpu", "v100"},
                {"plan", "--context", "0"}, {"plan", "--workload", "hmt"}, {"plan", "--gpu-bm25-efficiency", "2"}}) {
            CliRun run = CliRun.of(args);
            assertEquals(CliException.USAGE, run.exitCode(), run::toString);
            assertFalse(run.errLine().contains("\n"), run::toString);
            assertTrue(run.errLine().contains(args[2]), run::toString);
        }
    }
}
