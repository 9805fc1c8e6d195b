package dev.mempipe.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The 16-bit encodings round to nearest even and keep NaN a NaN, as the contract says. */
class FloatFormatsTest {

    @Test
    void bf16_should_round_ties_to_even() {
        // 1 + 2^-8 is exactly halfway between BF16 neighbours 1 and 1 + 2^-7: the even one (1) wins.
        assertEquals(1f, FloatFormats.bf16ToFloat(FloatFormats.floatToBf16(1f + 0x1p-8f)));
        // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even): rounds up.
        assertEquals(1f + 0x1p-6f, FloatFormats.bf16ToFloat(FloatFormats.floatToBf16(1f + 3 * 0x1p-8f)));
        // just above halfway rounds up, not truncated
        assertEquals(1f + 0x1p-7f, FloatFormats.bf16ToFloat(FloatFormats.floatToBf16(1f + 0x1p-8f + 0x1p-20f)));
    }

    @Test
    void bf16_should_keep_nan_and_infinities() {
        assertTrue(Float.isNaN(FloatFormats.bf16ToFloat(FloatFormats.floatToBf16(Float.NaN))));
        // a NaN whose payload lives only in the low bits must not turn into infinity
        float lowPayloadNaN = Float.intBitsToFloat(0x7F80_0001);
        assertTrue(Float.isNaN(FloatFormats.bf16ToFloat(FloatFormats.floatToBf16(lowPayloadNaN))));
        assertEquals(Float.POSITIVE_INFINITY, FloatFormats.bf16ToFloat(FloatFormats.floatToBf16(Float.POSITIVE_INFINITY)));
        assertEquals(Float.POSITIVE_INFINITY, FloatFormats.bf16ToFloat(FloatFormats.floatToBf16(Float.MAX_VALUE)));
    }

    @Test
    void f16_should_round_ties_to_even() {
        // 1 + 2^-11 is halfway between F16 neighbours 1 and 1 + 2^-10: rounds to the even 1.
        assertEquals(1f, FloatFormats.f16ToFloat(FloatFormats.floatToF16(1f + 0x1p-11f)));
        assertEquals(65504f, FloatFormats.f16ToFloat(FloatFormats.floatToF16(65504f)));
        assertEquals(Float.POSITIVE_INFINITY, FloatFormats.f16ToFloat(FloatFormats.floatToF16(65536f)));
    }
}
