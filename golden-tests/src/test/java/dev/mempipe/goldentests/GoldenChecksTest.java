package dev.mempipe.goldentests;

import dev.mempipe.spi.ApplyOps;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.PrepareOps;
import dev.mempipe.spi.RelevancyOps;
import dev.mempipe.spi.RetrievalOps;
import dev.mempipe.spi.Tensor;
import dev.mempipe.spi.TrainOps;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The golden checks must reject real bugs, name where they are, and skip what a backend does not declare. */
class GoldenChecksTest {

    @Test
    void should_load_every_listed_case() throws IOException {
        assertTrue(GoldenCase.names().size() >= 40, "index.txt lists " + GoldenCase.names().size() + " cases");
        for (String name : GoldenCase.names()) {
            GoldenCase c = GoldenCase.load(name);
            assertTrue(name.startsWith(c.op().contractName() + "-"), name);
            for (String output : c.outputs()) {
                assertNotNull(c.array(output), name + " " + output);
            }
        }
    }

    @Test
    void should_fail_a_dot_that_loses_one_term_naming_case_output_position_and_tolerance() {
        Backend broken = perturbed("dot", (args, unused) -> {
            Tensor q = (Tensor) args[0];
            Tensor m = (Tensor) args[1];
            Tensor s = (Tensor) args[2];
            int last = q.cols() - 1;
            s.set(0, 1, s.get(0, 1) - q.get(0, last) * m.get(1, last));
        });
        AssertionFailedError e = assertThrows(AssertionFailedError.class, () -> runCase(broken, "dot-1"));
        assertTrue(e.getMessage().startsWith("golden case dot-1, output S [3, 37] F32: 1 of 111 elements"),
                e.getMessage());
        assertTrue(e.getMessage().contains("first at [0, 1]: got ") && e.getMessage().contains("> allowed "),
                e.getMessage());
    }

    @Test
    void should_fail_a_topK_that_breaks_ties_by_descending_index() {
        Backend broken = perturbed("topK", (args, unused) -> {
            Indices idx = (Indices) args[2];
            Tensor val = (Tensor) args[3];
            // topK-1: positions 1 and 2 hold the tied scores 2.0 at indices 2 and 5
            int a = idx.get(1);
            idx.set(1, idx.get(2));
            idx.set(2, a);
            float v = val.get(0, 1);
            val.set(0, 1, val.get(0, 2));
            val.set(0, 2, v);
        });
        AssertionFailedError e = assertThrows(AssertionFailedError.class, () -> runCase(broken, "topK-1"));
        assertTrue(e.getMessage().contains("not in the total order"), e.getMessage());
    }

    @Test
    void should_fail_a_quantize_that_is_one_code_off() {
        Backend broken = perturbed("quantize", (args, unused) -> {
            Tensor q = (Tensor) args[1];
            q.setCode(0, 3, q.code(0, 3) + (q.code(0, 3) < 0 ? 1 : -1));
        });
        AssertionFailedError e = assertThrows(AssertionFailedError.class, () -> runCase(broken, "quantize-1"));
        assertTrue(e.getMessage().contains("must be bit-exact; first difference at [0, 3]"), e.getMessage());
    }

    @Test
    void should_fail_attention_that_ignores_the_scale() {
        Backend broken = perturbed("attention", (args, oracle) -> oracle.apply().attention((Tensor) args[0],
                (Tensor) args[1], (Tensor) args[2], (int) args[3], (Indices) args[4], 1f, (Tensor) args[6]));
        AssertionFailedError e = assertThrows(AssertionFailedError.class, () -> runCase(broken, "attention-2"));
        assertTrue(e.getMessage().startsWith("golden case attention-2, output o [4, 16] F32:"), e.getMessage());
    }

    @Test
    void should_fail_a_newtonSchulz_one_step_short_and_a_gradient_without_the_factor_2() {
        Backend shortNs = perturbed("newtonSchulz", (args, oracle) -> oracle.train().newtonSchulz((Tensor) args[0],
                (int) args[1] - 1, (Tensor) args[2]));
        AssertionFailedError e = assertThrows(AssertionFailedError.class, () -> runCase(shortNs, "newtonSchulz-1"));
        assertTrue(e.getMessage().startsWith("golden case newtonSchulz-1, output O [7, 19] F32: relative Frobenius "
                + "error "), e.getMessage());
        Backend halfGradient = perturbed("mlpGradient", (args, unused) -> {
            Tensor dW2 = (Tensor) args[8];
            dW2.set(0, 0, dW2.get(0, 0) / 2);
        });
        e = assertThrows(AssertionFailedError.class, () -> runCase(halfGradient, "mlpGradient-1"));
        assertTrue(e.getMessage().contains("output dW2") && e.getMessage().contains("largest difference at [0, 0]"),
                e.getMessage());
        assertDoesNotThrow(() -> runCase(new ScalarBackend(), "mlpGradient-1"));
    }

    @Test
    void should_fail_a_momentumUpdate_that_forgets_the_decay() {
        Backend noDecay = perturbed("momentumUpdate", (args, unused) -> {
            Tensor w = (Tensor) args[0];
            float alpha = (float) args[5];
            w.set(1, 2, w.get(1, 2) + alpha * 0.5f);
        });
        AssertionFailedError e = assertThrows(AssertionFailedError.class, () -> runCase(noDecay, "momentumUpdate-1"));
        assertTrue(e.getMessage().contains("output Wprime") && e.getMessage().contains("first at [1, 2]"),
                e.getMessage());
    }

    @Test
    void should_name_the_undeclared_op_or_input_type_as_the_skip_reason() throws IOException {
        Capabilities caps = Capabilities.builder().op(Op.DOT, ElementType.F32).build();
        assertNull(GoldenCase.load("dot-1").unsupportedReason("x", caps));
        assertEquals("backend x does not declare input type F16 for op dot (input 'Q'; declared: [F32])",
                GoldenCase.load("dot-2").unsupportedReason("x", caps));
        assertEquals("backend x does not declare op topK in its capabilities",
                GoldenCase.load("topK-1").unsupportedReason("x", caps));
    }

    @Test
    void should_pass_the_unmodified_oracle() {
        assertDoesNotThrow(() -> runCase(new ScalarBackend(), "attention-2"));
    }

    private static void runCase(Backend backend, String name) throws IOException {
        GoldenCase c = GoldenCase.load(name);
        try (Arena arena = Arena.ofShared()) {
            GoldenChecks.check(c, c.run(backend, arena));
        }
    }

    /**
     * The oracle with one method's result post-processed (or, for void methods returning early, replaced) by
     * {@code after}, which sees the call's arguments and the oracle.
     */
    private static Backend perturbed(String method, BiConsumer<Object[], Backend> after) {
        ScalarBackend oracle = new ScalarBackend();
        return new Backend() {
            @Override
            public String name() {
                return "perturbed-" + method;
            }

            @Override
            public Capabilities capabilities() {
                return oracle.capabilities();
            }

            @Override
            public PrepareOps prepare() {
                return wrap(PrepareOps.class, oracle.prepare());
            }

            @Override
            public RelevancyOps relevancy() {
                return wrap(RelevancyOps.class, oracle.relevancy());
            }

            @Override
            public RetrievalOps retrieval() {
                return wrap(RetrievalOps.class, oracle.retrieval());
            }

            @Override
            public ApplyOps apply() {
                return wrap(ApplyOps.class, oracle.apply());
            }

            @Override
            public TrainOps train() {
                return wrap(TrainOps.class, oracle.train());
            }

            private <T> T wrap(Class<T> type, T target) {
                return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
                        (proxy, m, args) -> {
                            Object result;
                            try {
                                result = m.invoke(target, args);
                            } catch (InvocationTargetException e) {
                                throw e.getCause();
                            }
                            if (m.getName().equals(method)) {
                                after.accept(args, oracle);
                            }
                            return result;
                        }));
            }
        };
    }
}
