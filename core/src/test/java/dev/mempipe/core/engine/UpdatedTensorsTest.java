package dev.mempipe.core.engine;

import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class UpdatedTensorsTest {

    @Test
    void restoring_a_column_band_should_bring_back_its_elements_and_leave_the_other_columns_as_they_are_now() {
        try (Arena arena = Arena.ofConfined()) {
            float[] values = new float[5 * 7];
            for (int i = 0; i < values.length; i++) {
                values[i] = i;
            }
            Tensor whole = Tensor.of(arena, values, 5, 7);
            Tensor band = whole.rowSlice(1, 4).columns(2, 3);          // rows 1..3, columns 2..4
            try (UpdatedTensors saved = UpdatedTensors.take(List.of(band))) {
                for (long r = 0; r < whole.rows(); r++) {
                    for (int c = 0; c < whole.cols(); c++) {
                        whole.set(r, c, -1);
                    }
                }
                saved.restore();
            }
            for (long r = 0; r < 5; r++) {
                for (int c = 0; c < 7; c++) {
                    boolean inBand = r >= 1 && r < 4 && c >= 2 && c < 5;
                    assertEquals(inBand ? values[(int) r * 7 + c] : -1, whole.get(r, c), "(" + r + ", " + c + ")");
                }
            }
        }
    }

    @Test
    void restoring_an_integer_tensor_should_bring_back_its_codes_and_its_row_scales() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor q = Tensor.encode(arena, ElementType.I8, new float[] {1, -2, 3, 0.5f, 0.25f, -1}, 2, 3);
            float[] before = q.toFloatArray();
            Tensor other = Tensor.encode(arena, ElementType.I8, new float[] {9, 9, 9, -7, 7, 1}, 2, 3);
            try (UpdatedTensors saved = UpdatedTensors.take(List.of(q))) {
                for (int r = 0; r < 2; r++) {
                    q.setScale(r, other.scale(r));
                    for (int c = 0; c < 3; c++) {
                        q.setCode(r, c, other.code(r, c));
                    }
                }
                saved.restore();
            }
            assertArrayEquals(before, q.toFloatArray());
        }
    }
}
