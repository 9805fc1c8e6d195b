package dev.mempipe.goldentests;

import dev.mempipe.goldentests.Gen.Profile;
import dev.mempipe.spi.ApplyOps;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.PrepareOps;
import dev.mempipe.spi.RelevancyOps;
import dev.mempipe.spi.RetrievalOps;
import dev.mempipe.spi.Tensor;
import dev.mempipe.spi.TrainOps;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static dev.mempipe.spi.ElementType.F32;

/**
 * Conformance of a backend's life: {@link Backend#close()} is idempotent, and every declared op called after it
 * fails with {@link IllegalStateException}, whether the op family was fetched before or after the close (a
 * device that freed its buffers must not run on them, nor silently fall back); fused ops too. Closing one
 * instance leaves another working (nothing process-wide is released by one instance). Each test takes fresh
 * instances from {@link #backend()} ({@link #freshBackend()}), so {@code backend()} must return a new one per
 * call. Extend it with one method:
 *
 * <pre>{@code
 * class MyLifecycleConformanceTest extends LifecycleContract {
 *     protected Backend backend() { return new MyBackend(); }
 * }
 * }</pre>
 */
public abstract class LifecycleContract extends BackendContract {

    @ParameterizedTest(name = "{0}")
    @EnumSource(Op.class)
    void op_after_close_should_throw_IllegalStateException(Op op) {
        requireOp(op);
        property(op.contractName() + " after close()", 1, t -> {
            Backend b = freshBackend();
            t.describe("case", "op " + op + " on " + OpScenarios.inputType(b.capabilities(), op)
                    + " inputs (OpScenarios, scale 1)");
            OpScenarios.Call call = OpScenarios.of(op, b.capabilities(), t.seed(), 1).make(t.arena());
            call.run(b, t.arena()); // works while open
            Backend fetchedBefore = new Families(b);
            b.close();
            b.close(); // idempotent
            expectClosed(op + " after close()", () -> call.run(b, t.arena()));
            expectClosed(op + " after close(), through op families fetched before it",
                    () -> call.run(fetchedBefore, t.arena()));
        });
    }

    @Test
    void fused_ops_after_close_should_throw_IllegalStateException() {
        requireType(Op.DOT, F32);
        requireType(Op.TOP_K, F32);
        property("dotTopK after close()", 1, t -> {
            Backend b = freshBackend();
            Tensor q = t.input("q", Gen.tensor(t, F32, 1, 16, Profile.UNIT));
            Tensor keys = t.input("K", Gen.tensor(t, F32, 40, 16, Profile.UNIT));
            Indices idx = t.outputIndices("idx", 5);
            b.close();
            expectClosed("fused dotTopK after close()", () -> b.fused().dotTopK(q, keys, 5, idx, null));
        });
    }

    @Test
    void closing_one_instance_should_leave_another_working() {
        requireAnyOp();
        property("every declared op beside a closed instance", 1, t -> {
            Backend first = freshBackend();
            Backend second = freshBackend();
            t.describe("case", "every declared op (OpScenarios, scale 1) on the second of two instances");
            java.util.Map<Op, OpScenarios.Call> calls = new java.util.EnumMap<>(Op.class);
            java.util.Map<Op, OpScenarios.Result> before = new java.util.EnumMap<>(Op.class);
            for (Op op : Op.values()) {
                if (second.capabilities().supports(op)) {
                    OpScenarios.Call call = OpScenarios.of(op, second.capabilities(), t.seed(), 1).make(t.arena());
                    calls.put(op, call);
                    before.put(op, call.run(second, t.arena()));
                }
            }
            first.close();
            for (var e : calls.entrySet()) {
                OpScenarios.Result after;
                try {
                    after = e.getValue().run(second, t.arena());
                } catch (IllegalStateException closed) {
                    throw new AssertionError("closing one instance of '" + first.name() + "' closed another: "
                            + e.getKey() + " on the open instance threw " + closed, closed);
                }
                String diff = after.firstDifference(before.get(e.getKey()));
                if (diff != null) {
                    throw new AssertionError(e.getKey() + " on an open instance changed after another instance was "
                            + "closed: " + diff);
                }
            }
        });
    }

    private void requireAnyOp() {
        org.junit.jupiter.api.Assumptions.assumeFalse(subject().capabilities().ops().isEmpty(),
                () -> "skipped: backend '" + subject().name() + "' declares no op");
    }

    private static void expectClosed(String what, Runnable call) {
        try {
            call.run();
        } catch (IllegalStateException expected) {
            return;
        } catch (RuntimeException e) {
            throw new AssertionError(what + ": expected IllegalStateException (Backend: ops after close() fail "
                    + "with it), got " + e, e);
        }
        throw new AssertionError(what + ": expected IllegalStateException (Backend: ops after close() fail with it),"
                + " but the call returned normally");
    }

    /** The op families of a backend as fetched now, served later (after the backend is closed). */
    private static final class Families implements Backend {
        private final String name;
        private final Capabilities caps;
        private final PrepareOps prepare;
        private final RelevancyOps relevancy;
        private final RetrievalOps retrieval;
        private final ApplyOps apply;
        private final TrainOps train;

        Families(Backend b) {
            name = b.name();
            caps = b.capabilities();
            prepare = b.prepare();
            relevancy = b.relevancy();
            retrieval = b.retrieval();
            apply = b.apply();
            train = b.train();
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public Capabilities capabilities() {
            return caps;
        }

        @Override
        public PrepareOps prepare() {
            return prepare;
        }

        @Override
        public RelevancyOps relevancy() {
            return relevancy;
        }

        @Override
        public RetrievalOps retrieval() {
            return retrieval;
        }

        @Override
        public ApplyOps apply() {
            return apply;
        }

        @Override
        public TrainOps train() {
            return train;
        }
    }
}
