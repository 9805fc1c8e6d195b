package dev.mempipe.spi;

/**
 * Bit-level conversions between f32 and the 16-bit float formats, exactly as the contract defines them:
 * decoding is exact, encoding rounds to nearest, ties to even, and keeps NaN a NaN.
 */
public final class FloatFormats {
    private FloatFormats() {
    }

    /** BF16 bits to f32: the 16 bits become the top half of the f32. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** f32 to BF16 bits, rounding to nearest even; NaN stays a (quiet) NaN, infinities stay infinite. */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /** IEEE binary16 bits to f32 (exact). */
    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** f32 to IEEE binary16 bits, rounding to nearest even (values beyond 65504 round to infinity). */
    public static short floatToF16(float value) {
        return Float.floatToFloat16(value);
    }
}
