package dev.mempipe.goldentests;

import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A trial notices an input the backend wrote to: small inputs by a copy (the report names the byte), large ones
 * (past 1 MiB, as the hardware-edge cases use) by a checksum, which must see a single changed bit anywhere.
 */
class TrialTest {

    @Test
    void a_small_input_written_by_the_backend_should_be_reported_with_its_byte() {
        try (Trial t = new Trial(1, 0, 0)) {
            Tensor x = t.input("X", Gen.unitConstant(t, ElementType.F32, 4, 4));
            assertDoesNotThrow(t::verifyUntouched);
            x.set(2, 1, 3f); // element 9 at byte 36: 1.0f and 3.0f first differ in its third byte
            AssertionError e = assertThrows(AssertionError.class, t::verifyUntouched);
            assertTrue(e.getMessage().contains("input 'X' was modified (byte 38 "), e.getMessage());
        }
    }

    @Test
    void a_large_input_written_by_the_backend_should_be_reported_by_its_checksum() {
        // 2^18 + 1 floats: past the copy limit, with a tail that is not a whole long
        int n = (1 << 18) + 1;
        for (int at : new int[] {0, 12345, n - 1}) {
            try (Trial t = new Trial(2, 0, 0)) {
                Tensor x = t.input("M", Gen.unitConstant(t, ElementType.F32, n, 1));
                assertDoesNotThrow(t::verifyUntouched);
                x.set(at, 0, Math.nextUp(1f)); // one bit
                AssertionError e = assertThrows(AssertionError.class, t::verifyUntouched, "row " + at);
                assertTrue(e.getMessage().contains("input 'M' was modified (its checksum over"), e.getMessage());
            }
        }
    }

    @Test
    void two_large_inputs_whose_rows_swap_should_be_reported() {
        try (Trial t = new Trial(3, 0, 0)) {
            Tensor x = Gen.unitConstant(t, ElementType.F32, 1 << 19, 1);
            x.set(7, 0, 2f);
            t.input("M", x);
            x.set(7, 0, 1f);
            x.set(8, 0, 2f); // the same bytes in another order
            assertThrows(AssertionError.class, t::verifyUntouched);
        }
    }
}
