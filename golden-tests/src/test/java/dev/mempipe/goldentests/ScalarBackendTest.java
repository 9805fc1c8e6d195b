package dev.mempipe.goldentests;

import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.NaNInputException;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Behaviour of the oracle that the golden cases do not reach: errors and lifecycle. */
class ScalarBackendTest {

    @Test
    void should_reject_nan_with_its_position_before_writing() {
        try (Arena arena = Arena.ofConfined()) {
            ScalarBackend backend = new ScalarBackend();
            Tensor s = Tensor.vector(arena, 1f, 2f, Float.NaN, 3f, Float.NaN);
            Indices idx = Indices.of(arena, -1, -1);
            NaNInputException e = assertThrows(NaNInputException.class,
                    () -> backend.retrieval().topK(s, 2, idx, null));
            assertEquals(2, e.position());
            assertEquals("s", e.argument());
            assertArrayEquals(new int[] {-1, -1}, idx.toArray());
            Bitmap bits = Bitmap.allocate(arena, 5);
            assertEquals(2, assertThrows(NaNInputException.class,
                    () -> backend.retrieval().threshold(s, 0f, bits)).position());
            assertEquals(0, bits.cardinality());
        }
    }

    @Test
    void should_order_negative_and_positive_zero_by_index() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor s = Tensor.vector(arena, 0f, -0f, 1f, -0f, 0f);
            Indices idx = Indices.allocate(arena, 5);
            assertEquals(5, new ScalarBackend().retrieval().topK(s, 9, idx, null));
            assertArrayEquals(new int[] {2, 0, 1, 3, 4}, idx.toArray());
        }
    }

    @Test
    void should_accumulate_integer_dot_products_exactly() {
        try (Arena arena = Arena.ofConfined()) {
            // codes 127 * 127 * 1000 = 16129000: exact in long, and scaled once
            float[] ones = new float[1000];
            java.util.Arrays.fill(ones, 1f);
            Tensor a = Tensor.encode(arena, ElementType.I8, ones, 1, 1000);
            Tensor s = Tensor.allocate(arena, ElementType.F32, 1, 1);
            new ScalarBackend().relevancy().dot(a, a, s);
            assertEquals((float) (16129000 * (double) a.scale(0) * a.scale(0)), s.get(0, 0));
        }
    }

    @Test
    void should_fail_ops_called_after_close() {
        try (Arena arena = Arena.ofConfined()) {
            ScalarBackend backend = new ScalarBackend();
            var relevancy = backend.relevancy();
            backend.close();
            backend.close(); // idempotent
            Tensor x = Tensor.vector(arena, 1f, 2f);
            assertThrows(IllegalStateException.class, () -> relevancy.softmax(x, 1f, x));
        }
    }
}
