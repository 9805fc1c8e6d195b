package dev.mempipe.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

/** Tensor views: shape validation names the problem; quantization follows the contract. */
class TensorTest {

    @Test
    void should_reject_a_segment_too_small_for_the_shape_naming_both_sizes() {
        try (Arena arena = Arena.ofConfined()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Tensor.wrap(arena.allocate(100), ElementType.F32, 5, 8));
            assertTrue(e.getMessage().contains("100 bytes") && e.getMessage().contains("needs 160"), e.getMessage());
        }
    }

    @Test
    void should_read_rows_at_odd_offsets_with_padded_stride() {
        try (Arena arena = Arena.ofConfined()) {
            var seg = arena.allocate(1 + 3 * 20);
            Tensor t = Tensor.wrap(seg.asSlice(1), ElementType.F32, 3, 4, 20, null);
            t.set(2, 3, 7.5f);
            assertEquals(7.5f, t.get(2, 3));
            assertEquals(7.5f, seg.get(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, 1 + 2 * 20 + 12));
        }
    }

    @Test
    void quantize_code_should_round_half_to_even_and_clamp_symmetrically() {
        assertEquals(2, Tensor.quantizeCode(2.5f, 1f, 127));
        assertEquals(4, Tensor.quantizeCode(3.5f, 1f, 127));
        assertEquals(-2, Tensor.quantizeCode(-2.5f, 1f, 127));
        assertEquals(-127, Tensor.quantizeCode(-1000f, 1f, 127));
        assertEquals(0, Tensor.quantizeCode(5f, 0f, 127));
    }

    @Test
    void encode_should_give_a_zero_row_scale_zero_and_zero_codes() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor q = Tensor.encode(arena, ElementType.I8, new float[] {0, 0, 0, 1, -2, 0.5f}, 2, 3);
            assertEquals(0f, q.scale(0));
            assertEquals(0, q.code(0, 1));
            assertEquals(2f / 127, q.scale(1));
            assertEquals(-127, q.code(1, 1));
        }
    }

    @Test
    void ops_on_a_closed_arena_should_be_detectable() {
        Arena arena = Arena.ofConfined();
        Tensor t = Tensor.allocate(arena, ElementType.F32, 2, 2);
        arena.close();
        assertTrue(!t.isAlive());
    }
}
