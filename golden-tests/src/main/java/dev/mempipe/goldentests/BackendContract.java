package dev.mempipe.goldentests;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Op;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestInstance;

import java.util.Set;
import java.util.SplittableRandom;

/**
 * The bottom rung of the conformance kit: what every contract shares. Every contract opens and closes its
 * backend the same way: {@link #backend()} is called once per test class, on first use, and the result is
 * closed after the class's last test ({@link LifecycleContract} alone asks for more instances, through
 * {@link #freshBackend()}, and they are closed the same way). It compares the backend with a fresh
 * {@link ScalarBackend} (the oracle), turns undeclared capabilities into skipped tests with the reason, and runs
 * properties through {@link PropertyHarness} so that a failure names its seed and the command that reruns it.
 *
 * <p>Not meant to be extended directly: extend {@link PrepareContract}, {@link RelevancyContract},
 * {@link RetrievalContract}, {@link ApplyContract}, {@link DeviceContract}, {@link HardwareEdgeContract},
 * {@link ConcurrencyContract}, {@link LifecycleContract} or {@link GoldenCasesContract}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class BackendContract {
    private final Backend oracle = new ScalarBackend();
    private Backend underTest;
    private final java.util.List<Backend> fresh = new java.util.ArrayList<>();
    private TestInfo currentTest;

    /** The backend under test; called once per test class, closed after the class's last test. */
    protected abstract Backend backend();

    /** The backend under test (created on first use). */
    protected final Backend subject() {
        if (underTest == null) {
            underTest = backend();
            if (underTest == null) {
                throw new IllegalStateException(getClass().getName() + ".backend() returned null");
            }
        }
        return underTest;
    }

    /**
     * Another instance from {@link #backend()}, closed after the class's last test like {@link #subject()}; for
     * tests that close a backend themselves.
     */
    protected final Backend freshBackend() {
        Backend b = backend();
        if (b == null) {
            throw new IllegalStateException(getClass().getName() + ".backend() returned null");
        }
        synchronized (fresh) {
            fresh.add(b);
        }
        return b;
    }

    /** The scalar oracle every result is compared with. */
    protected final Backend oracle() {
        return oracle;
    }

    @BeforeAll
    final void announceSeed() {
        // One line per contract class, so that a log of a randomized run always shows how to repeat it.
        System.out.println("[mempipe-kit] " + getClass().getSimpleName() + " on " + subject().description()
                + ": seed=" + PropertyHarness.baseSeed() + ", scale=" + PropertyHarness.scale()
                + " (repeat with -D" + PropertyHarness.SEED_PROPERTY + "=" + PropertyHarness.baseSeed() + ")");
    }

    @BeforeEach
    final void rememberTest(TestInfo info) {
        currentTest = info;
    }

    @AfterAll
    final void closeBackend() {
        if (underTest != null) {
            underTest.close();
        }
        synchronized (fresh) {
            fresh.forEach(Backend::close);
            fresh.clear();
        }
        oracle.close();
    }

    /** Skips the calling test, with the reason, unless the backend declares {@code op}. */
    protected final void requireOp(Op op) {
        Assumptions.assumeTrue(subject().capabilities().supports(op), () -> "skipped: backend '"
                + subject().name() + "' does not declare op " + op + " in its Capabilities (declared ops: "
                + subject().capabilities().ops() + ")");
    }

    /** Skips the calling test, with the reason, unless the backend declares {@code type} for {@code op}. */
    protected final void requireType(Op op, ElementType type) {
        requireOp(op);
        Assumptions.assumeTrue(subject().capabilities().supports(op, type), () -> "skipped: backend '"
                + subject().name() + "' does not declare element type " + type + " for op " + op
                + " (declared: " + subject().capabilities().types(op) + ")");
    }

    /** A random element type among those the backend declares for {@code op}. */
    protected final ElementType declaredType(SplittableRandom r, Op op) {
        return Gen.pickType(r, subject().capabilities().types(op));
    }

    /** The declared types of {@code op}. */
    protected final Set<ElementType> declared(Op op) {
        return subject().capabilities().types(op);
    }

    /**
     * Runs a property of {@code op} for {@code baseTrials} trials (scaled by {@code -Dmempipe.kit.scale}).
     */
    protected final void property(Op op, int baseTrials, PropertyHarness.Body body) {
        property(op.contractName(), baseTrials, body);
    }

    /** As {@link #property(Op, int, PropertyHarness.Body)} for a property spanning several ops. */
    protected final void property(String ops, int baseTrials, PropertyHarness.Body body) {
        String method = currentTest != null && currentTest.getTestMethod().isPresent()
                ? currentTest.getTestMethod().get().getName() : "unknown";
        Class<?> testClass = currentTest != null && currentTest.getTestClass().isPresent()
                ? currentTest.getTestClass().get() : getClass();
        // the display name tells parameterized invocations apart, so that each element type sees other cases
        String invocation = currentTest == null ? "" : currentTest.getDisplayName();
        PropertyHarness.check(new PropertyHarness.Target(testClass, method, invocation), ops,
                subject().description(), baseTrials, body);
    }

    /** {@link PropertyHarness#size}: a size limit that grows with the scale. */
    protected static int size(int base) {
        return PropertyHarness.size(base);
    }
}
