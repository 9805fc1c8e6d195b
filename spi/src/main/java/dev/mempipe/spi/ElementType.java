package dev.mempipe.spi;

/**
 * Storage types of tensor elements (SPEC.md, "Element types"). Every type decodes to {@code float} for
 * computation; the integer types carry one {@code float} scale per row and decode as {@code code * scale}.
 * All multi-byte values are stored little-endian.
 */
public enum ElementType {
    /** IEEE binary32. */
    F32(4, false),
    /** IEEE binary16; decodes exactly to f32, encodes with round-to-nearest-even. */
    F16(2, false),
    /** The top 16 bits of an f32; decodes exactly (shift left 16), encodes with round-to-nearest-even. */
    BF16(2, false),
    /** Signed byte code plus one f32 scale per row; symmetric, {@code scale = maxabs / 127}. */
    I8(1, true),
    /** Signed short code plus one f32 scale per row; symmetric, {@code scale = maxabs / 32767}. */
    I16(2, true);

    private final int byteSize;
    private final boolean quantized;

    ElementType(int byteSize, boolean quantized) {
        this.byteSize = byteSize;
        this.quantized = quantized;
    }

    /** Bytes one element occupies in a row (the per-row scale of integer types is stored apart). */
    public int byteSize() {
        return byteSize;
    }

    /** Whether elements are integer codes with a per-row scale (I8, I16). */
    public boolean isQuantized() {
        return quantized;
    }

    /** The largest code magnitude of a quantized type: 127 for I8, 32767 for I16. */
    public int maxCode() {
        return switch (this) {
            case I8 -> 127;
            case I16 -> 32767;
            default -> throw new IllegalStateException(this + " is not a quantized type");
        };
    }

    /** Whether this is a floating-point storage type (F32, F16, BF16). */
    public boolean isFloat() {
        return !quantized;
    }
}
