package dev.mempipe.goldentests;

import dev.mempipe.spi.Backend;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.util.stream.Stream;

/**
 * Runs every golden case (the checked-in numpy results of {@code src/main/golden/generate.py}) on a backend
 * and compares the outputs with SPEC.md's tolerances: the dot-like bound for accumulated results, bit-exact
 * for integer paths, indices, bitmaps and copies, the total order for topK and the attention bound. A case
 * whose op or input element type the backend's {@code Capabilities} do not declare is reported as skipped,
 * with that as the reason.
 *
 * <p>A backend's test suite extends this class and returns its backend, which is opened and closed as in every
 * other contract ({@link BackendContract}: once per class, closed after its last test).
 * <pre>{@code
 * class SimdBackendGoldenTest extends GoldenCasesContract {
 *     protected Backend backend() { return new SimdBackend(); }
 * }
 * }</pre>
 */
public abstract class GoldenCasesContract extends BackendContract {

    @TestFactory
    Stream<DynamicTest> should_reproduce_every_golden_case() {
        Backend backend = subject();
        return GoldenCase.names().stream()
                .map(name -> DynamicTest.dynamicTest(name, () -> runCase(backend, name)));
    }

    private static void runCase(Backend backend, String name) throws IOException {
        GoldenCase golden = GoldenCase.load(name);
        String reason = golden.unsupportedReason(backend.name(), backend.capabilities());
        Assumptions.assumeTrue(reason == null, () -> "golden case " + name + " skipped: " + reason);
        // shared, not confined: a backend may run an op on several threads
        try (Arena arena = Arena.ofShared()) {
            GoldenChecks.check(golden, golden.run(backend, arena));
        }
    }
}
