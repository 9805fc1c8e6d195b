package dev.mempipe.goldentests.npy;

import dev.mempipe.spi.ElementType;

/**
 * The NumPy dtypes the kit reads and writes (SPEC.md, "Names"): little-endian only. {@code <u2} holds BF16
 * bits, since NumPy has no bfloat16. {@code <f8} is not a tensor type of the contract; the golden cases use it
 * for reference results computed in double.
 */
public enum NpyDtype {
    F32("<f4", 4),
    F16("<f2", 2),
    BF16_BITS("<u2", 2),
    I8("|i1", 1),
    I16("<i2", 2),
    I32("<i4", 4),
    I64("<i8", 8),
    U8("|u1", 1),
    F64("<f8", 8);

    private final String descr;
    private final int itemSize;

    NpyDtype(String descr, int itemSize) {
        this.descr = descr;
        this.itemSize = itemSize;
    }

    /** The descr string written into headers, e.g. {@code <f4}. */
    public String descr() {
        return descr;
    }

    public int itemSize() {
        return itemSize;
    }

    /**
     * The dtype of a descr string; single-byte types are accepted with any byte-order mark ({@code |i1},
     * {@code <i1}, {@code =u1}), since byte order means nothing for them.
     *
     * @return null when the descr is not one the kit supports
     */
    public static NpyDtype ofDescr(String descr) {
        for (NpyDtype t : values()) {
            if (t.descr.equals(descr)) {
                return t;
            }
        }
        if (descr.length() == 3 && "<|=".indexOf(descr.charAt(0)) >= 0) {
            String code = descr.substring(1);
            if (code.equals("i1")) {
                return I8;
            }
            if (code.equals("u1")) {
                return U8;
            }
        }
        return null;
    }

    /** The tensor element type this dtype stores, or null for index, bitmap and f64 dtypes. */
    public ElementType elementType() {
        return switch (this) {
            case F32 -> ElementType.F32;
            case F16 -> ElementType.F16;
            case BF16_BITS -> ElementType.BF16;
            case I8 -> ElementType.I8;
            case I16 -> ElementType.I16;
            default -> null;
        };
    }

    /** The dtype that stores tensors of {@code type}. */
    public static NpyDtype of(ElementType type) {
        return switch (type) {
            case F32 -> F32;
            case F16 -> F16;
            case BF16 -> BF16_BITS;
            case I8 -> I8;
            case I16 -> I16;
        };
    }

    @Override
    public String toString() {
        return descr;
    }
}
