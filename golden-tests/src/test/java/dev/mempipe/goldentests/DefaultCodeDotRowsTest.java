package dev.mempipe.goldentests;

import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.RelevancyOps;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code RelevancyOps.codeDotRows}' default (the definition a backend without its own kernel, or a test double, runs)
 * against the kit's oracle: the same floats, and the same errors. The kit itself runs only backends' own kernels.
 */
class DefaultCodeDotRowsTest {
    /** Only the interface's defaults: every abstract op fails. */
    private static final RelevancyOps DEFAULTS = (RelevancyOps) Proxy.newProxyInstance(
            RelevancyOps.class.getClassLoader(), new Class<?>[] {RelevancyOps.class}, defaultsOnly());

    @ParameterizedTest(name = "{0}-bit codes")
    @ValueSource(ints = {8, 4})
    void default_should_equal_the_oracle_exactly(int bits) {
        long seed = 0x16C0DE + bits;
        SplittableRandom r = new SplittableRandom(seed);
        RelevancyOps oracle = new ScalarBackend().relevancy();
        try (Arena arena = Arena.ofConfined()) {
            for (int p : new int[] {1, 3, 15, 16, 17, 192, 384}) {
                int n = 1 + r.nextInt(20);
                int k = 1 + r.nextInt(30);
                Tensor q = codes(arena, r, 1, p);
                Tensor codes = codes(arena, r, n, p);
                int[] ids = new int[k];
                for (int j = 0; j < k; j++) {
                    ids[j] = r.nextInt(n);
                }
                Indices rowIds = Indices.of(arena, ids);
                Tensor got = Tensor.allocate(arena, ElementType.F32, 1, k);
                Tensor ref = Tensor.allocate(arena, ElementType.F32, 1, k);
                DEFAULTS.codeDotRows(q, codes, bits, rowIds, got);
                oracle.codeDotRows(q, codes, bits, rowIds, ref);
                for (int j = 0; j < k; j++) {
                    assertEquals(ref.get(0, j), got.get(0, j), 0f, "p " + p + " s[" + j + "], seed " + seed);
                }
            }
            Tensor q = codes(arena, r, 1, 5);
            Tensor codes = codes(arena, r, 2, 5);
            Tensor s = Tensor.allocate(arena, ElementType.F32, 1, 1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DEFAULTS.codeDotRows(q, codes, 6, Indices.of(arena, 0), s));
            assertTrue(e.getMessage().contains("bits"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> DEFAULTS.codeDotRows(q, codes, bits, Indices.of(arena, 2), s));
            assertTrue(e.getMessage().contains("rowIds") && e.getMessage().contains("2"), e.getMessage());
            assertEquals(0f, s.get(0, 0), "nothing written before an error");
        }
    }

    private static Tensor codes(Arena arena, SplittableRandom r, int rows, int p) {
        Tensor t = Tensor.allocate(arena, ElementType.I8, rows, p);
        for (int row = 0; row < rows; row++) {
            for (int c = 0; c < p; c++) {
                t.setCode(row, c, r.nextInt(-128, 128));
            }
        }
        return t;
    }

    private static InvocationHandler defaultsOnly() {
        return (proxy, method, args) -> {
            if (method.isDefault()) {
                return InvocationHandler.invokeDefault(proxy, method, args);
            }
            throw new UnsupportedOperationException(method.getName() + " is not a default");
        };
    }
}
