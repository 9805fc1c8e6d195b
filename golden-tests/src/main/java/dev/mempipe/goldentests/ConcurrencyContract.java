package dev.mempipe.goldentests;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Op;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Conformance of how ops may be called: {@link Backend} promises that its ops are safe to call from several
 * threads at once, and SPEC.md that memory of a confined {@link Arena} works on the thread that owns it. Every
 * declared op is called
 * <ul>
 *   <li>from {@value #THREADS} threads at once, released together by a barrier, for several rounds: in even
 *       rounds each thread calls it on its own inputs, made in an arena confined to that thread, in odd rounds all
 *       threads read the same inputs from one shared arena; outputs are always the calling thread's own (its
 *       confined arena). Every result must equal, bit for bit, the result of the same call made alone (before the
 *       threads start or, for a backend whose results change over time as a JIT warms up, right after them);</li>
 *   <li>once on inputs and outputs of a confined arena, at a size where the CPU backend would split the work
 *       over its thread pool: a backend that hands the memory to another thread (a driver or worker thread)
 *       fails there with {@link WrongThreadException}, which the contract reports.</li>
 * </ul>
 * A backend with a shared staging buffer, a scratch array in a field or a single device stream without a lock
 * mixes the threads' results and fails. Extend it with one method:
 *
 * <pre>{@code
 * class MyConcurrencyConformanceTest extends ConcurrencyContract {
 *     protected Backend backend() { return new MyBackend(); }
 * }
 * }</pre>
 */
public abstract class ConcurrencyContract extends BackendContract {
    /** Threads calling one op at once (the contract asks for at least four). */
    static final int THREADS = 4;
    /** Pairs of shared and confined calls made before a confined result that differs is a failure. */
    static final int CONFINED_ATTEMPTS = 4;

    @ParameterizedTest(name = "{0}")
    @EnumSource(Op.class)
    void op_called_from_several_threads_at_once_should_give_the_serial_results(Op op) {
        requireOp(op);
        property(op.contractName() + " from " + THREADS + " threads", 1, t -> {
            int rounds = 2 * PropertyHarness.trials(2);
            t.param("threads", THREADS);
            t.param("rounds", rounds);
            Backend backend = subject();
            List<OpScenarios.Maker> makers = new ArrayList<>();
            List<OpScenarios.Result> serial = new ArrayList<>();
            for (int i = 0; i < THREADS; i++) {
                OpScenarios.Maker maker = OpScenarios.of(op, backend.capabilities(), t.seed() + i, 1);
                makers.add(maker);
                serial.add(maker.make(t.arena()).run(backend, t.arena()));
            }
            OpScenarios.Call shared = makers.getFirst().make(t.arena());
            t.describe("case", "op " + op + " on " + OpScenarios.inputType(backend.capabilities(), op)
                    + " inputs (OpScenarios, scale 1)");
            CyclicBarrier start = new CyclicBarrier(THREADS);
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            List<Mismatch> mismatches = new ArrayList<>();
            try {
                List<Future<List<Mismatch>>> done = new ArrayList<>();
                for (int i = 0; i < THREADS; i++) {
                    int thread = i;
                    done.add(pool.submit(() -> {
                        try {
                            return rounds(thread, rounds, start, makers, shared, serial, backend);
                        } catch (Throwable e) {
                            start.reset(); // release the others: they report a broken barrier
                            throw e;
                        }
                    }));
                }
                Throwable thrown = null;
                for (Future<List<Mismatch>> f : done) {
                    try {
                        mismatches.addAll(f.get(120, TimeUnit.SECONDS));
                    } catch (java.util.concurrent.ExecutionException e) {
                        // a thread released by another's failure reports a broken barrier: keep the real cause
                        if (thrown == null || thrown instanceof java.util.concurrent.BrokenBarrierException) {
                            thrown = e.getCause();
                        }
                    }
                }
                if (thrown != null) {
                    throw new AssertionError(op + " called from " + THREADS + " threads at once threw " + thrown,
                            thrown);
                }
            } finally {
                pool.shutdownNow();
            }
            // A result that differs from the serial one made before the threads started, but equals the same call
            // made alone now, came from the backend changing its results over time (a JIT tier that adds a vector's
            // lanes in another order; SPEC.md's bounds allow any order), not from the threads: only a result that
            // no call made alone reproduces fails.
            for (Mismatch m : mismatches) {
                OpScenarios.Call again = m.sharedInputs() ? shared : makers.get(m.which()).make(t.arena());
                if (again.run(backend, t.arena()).firstDifference(m.got()) != null) {
                    throw new AssertionError(op + " is not safe to call from several threads at once: " + m.where()
                            + " from the result of the same call made alone (before the threads started and again "
                            + "after them)");
                }
            }
        });
    }

    /** A concurrent result that differs from the serial one: where, which inputs, and the bytes it gave. */
    private record Mismatch(String where, int which, boolean sharedInputs, OpScenarios.Result got) {
    }

    /** One thread's rounds, all of them; the results that differ from the serial ones (empty when none). */
    private static List<Mismatch> rounds(int thread, int rounds, CyclicBarrier start, List<OpScenarios.Maker> makers,
                                         OpScenarios.Call shared, List<OpScenarios.Result> serial, Backend backend)
            throws Exception {
        List<Mismatch> found = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            boolean sharedInputs = round % 2 == 1;
            int which = sharedInputs ? 0 : thread;
            try (Arena own = Arena.ofConfined()) {
                OpScenarios.Call call = sharedInputs ? shared : makers.get(which).make(own);
                start.await(60, TimeUnit.SECONDS); // inputs made first, so that the calls overlap
                OpScenarios.Result got = call.run(backend, own);
                String diff = got.firstDifference(serial.get(which));
                if (diff != null) {
                    found.add(new Mismatch("thread " + thread + ", round " + round + " (" + (sharedInputs
                            ? "inputs shared by all threads" : "the thread's own inputs in a confined arena")
                            + "): " + diff, which, sharedInputs, got));
                }
            }
        }
        return found;
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Op.class)
    void op_should_run_on_memory_of_a_confined_arena_on_the_calling_thread(Op op) {
        requireOp(op);
        property(op.contractName() + " on confined memory", 1, t -> {
            Backend backend = subject();
            // large enough that the CPU backend would split it over its pool if the memory allowed it
            OpScenarios.Maker maker = OpScenarios.of(op, backend.capabilities(), t.seed(), 64);
            t.describe("case", "op " + op + " on " + OpScenarios.inputType(backend.capabilities(), op)
                    + " inputs (OpScenarios, scale 64)");
            // A confined call whose result differs from the shared call's before it and after it may still be the
            // backend's results changing while it warms (a JIT tier, or an on-stack replacement in the middle of a
            // scan, adding a vector's lanes in another order: SPEC.md's bounds allow any order, and three calls can
            // see three orders). So the pair is made again, up to CONFINED_ATTEMPTS times: a confined path that
            // really computes something else differs every time.
            String diff = null;
            for (int attempt = 0; attempt < CONFINED_ATTEMPTS; attempt++) {
                diff = confinedDifference(op, maker, backend, t.arena());
                if (diff == null) {
                    return;
                }
            }
            throw new AssertionError(op + " on memory of a confined arena: " + diff
                    + " from the same call on memory of a shared arena (in each of " + CONFINED_ATTEMPTS
                    + " pairs of calls)");
        });
    }

    /**
     * One shared-arena call and the same call on memory of a confined arena: null when they agree (or when the shared
     * call made again gives the confined result), else where they differ.
     */
    private static String confinedDifference(Op op, OpScenarios.Maker maker, Backend backend, Arena shared) {
        OpScenarios.Result expected = maker.make(shared).run(backend, shared);
        try (Arena confined = Arena.ofConfined()) {
            OpScenarios.Result got;
            try {
                got = maker.make(confined).run(backend, confined);
            } catch (WrongThreadException e) {
                throw new AssertionError(op + " read memory of a confined arena from another thread ("
                        + e.getMessage() + "); SPEC.md: ops given such memory must run on the calling thread", e);
            }
            String diff = got.firstDifference(expected);
            if (diff != null && maker.make(shared).run(backend, shared).firstDifference(got) == null) {
                return null; // the shared-arena call made again gives it too: results that changed over time
            }
            return diff;
        }
    }
}
