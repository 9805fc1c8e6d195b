package dev.mempipe.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code mempipe conformance} launches the kit's contracts in-process: the CPU backend passes the golden
 * cases, and a backend with a planted gather bug fails them with the kit's messages and exit code 1.
 */
class ConformanceCommandTest {

    @Test
    void should_pass_the_cpu_backend_on_the_golden_cases() {
        CliRun run = CliRun.of("conformance", "--contract", "golden", "--backend", "cpu-simd");
        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(run.out().contains("conformance of cpu-simd"), run::toString);
        assertTrue(run.out().matches("(?s).*golden +GoldenCasesContract +passed +\\d+ +failed +0 +skipped +0.*"),
                run::toString);
        assertTrue(run.out().contains("conformance: all passed"), run::toString);
    }

    @Test
    void should_fail_a_broken_backend_with_the_kits_messages() {
        CliRun run = CliRun.of("conformance", "--contract", "golden", "--backend", BrokenGatherProvider.NAME);
        assertEquals(1, run.exitCode(), run::toString);
        assertTrue(run.out().contains("FAILED golden: should_reproduce_every_golden_case [gather-1]"), run::toString);
        assertTrue(run.out().contains("golden case gather-1, output Y"), run::toString);
        assertTrue(run.out().contains("rerun with: mempipe conformance --backend " + BrokenGatherProvider.NAME
                + " --contract golden --seed "), run::toString);
    }

    @Test
    void should_reject_an_unknown_contract_and_backend() {
        CliRun contract = CliRun.of("conformance", "--contract", "golden,nope");
        assertEquals(2, contract.exitCode());
        assertTrue(contract.errLine().contains("unknown contract 'nope'"), contract::toString);
        CliRun backend = CliRun.of("conformance", "--backend", "nope");
        assertEquals(2, backend.exitCode());
        assertTrue(backend.errLine().contains("backend 'nope' (mempipe.backend) is not available"), backend::toString);
    }
}
