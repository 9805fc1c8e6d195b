package dev.mempipe.ops;

import dev.mempipe.spi.FloatFormats;
import dev.mempipe.spi.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Row codecs shared by the SIMD ops: decode a row of any element type into an f32 array, encode an f32
 * array into a row of a float type (rounding to nearest even), and copy rows. Every op that does not need
 * a type-specialized kernel works on decoded rows, so each element type is handled in one place.
 */
final class SimdRows {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int LANES = F.length();
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Short lanes that widen to one float vector (e.g. 8 shorts -> 8 ints on AVX2). */
    private static final VectorSpecies<Short> S_HALF =
            VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Byte> B_QUARTER =
            VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, F.vectorBitSize() / 4)));

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    /** Lane i to lane i ^ s: the levels of {@link #laneSum} (indices kept in range for narrower vectors). */
    private static final VectorShuffle<Float> SWAP_8 = VectorShuffle.fromOp(F, i -> (i ^ 8) & (LANES - 1));
    private static final VectorShuffle<Float> SWAP_4 = VectorShuffle.fromOp(F, i -> (i ^ 4) & (LANES - 1));
    private static final VectorShuffle<Float> SWAP_2 = VectorShuffle.fromOp(F, i -> (i ^ 2) & (LANES - 1));
    private static final VectorShuffle<Float> SWAP_1 = VectorShuffle.fromOp(F, i -> (i ^ 1) & (LANES - 1));

    private SimdRows() {
    }

    /** Decodes row {@code row} of {@code t} into {@code dst[0, cols)}. */
    static void decode(Tensor t, long row, float[] dst) {
        MemorySegment seg = t.data();
        long base = row * t.rowStride();
        int d = t.cols();
        switch (t.type()) {
            case F32 -> MemorySegment.copy(seg, F32, base, dst, 0, d);
            case BF16 -> {
                int i = 0;
                if (S_HALF.length() == LANES) {
                    for (int bound = d - LANES + 1; i < bound; i += LANES) {
                        ShortVector s = ShortVector.fromMemorySegment(S_HALF, seg, base + 2L * i, LE);
                        IntVector w = (IntVector) s.convertShape(VectorOperators.S2I, I, 0);
                        w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, i);
                    }
                }
                for (; i < d; i++) {
                    dst[i] = FloatFormats.bf16ToFloat(seg.get(I16, base + 2L * i));
                }
            }
            case F16 -> {
                for (int i = 0; i < d; i++) {
                    dst[i] = Float.float16ToFloat(seg.get(I16, base + 2L * i));
                }
            }
            case I8 -> {
                float scale = t.scale(row);
                int i = 0;
                if (B_QUARTER.length() == LANES) {
                    for (int bound = d - LANES + 1; i < bound; i += LANES) {
                        ByteVector b = ByteVector.fromMemorySegment(B_QUARTER, seg, base + i, LE);
                        ((FloatVector) b.convertShape(VectorOperators.B2F, F, 0)).mul(scale).intoArray(dst, i);
                    }
                }
                for (; i < d; i++) {
                    dst[i] = seg.get(ValueLayout.JAVA_BYTE, base + i) * scale;
                }
            }
            case I16 -> {
                float scale = t.scale(row);
                int i = 0;
                if (S_HALF.length() == LANES) {
                    for (int bound = d - LANES + 1; i < bound; i += LANES) {
                        ShortVector s = ShortVector.fromMemorySegment(S_HALF, seg, base + 2L * i, LE);
                        ((FloatVector) s.convertShape(VectorOperators.S2F, F, 0)).mul(scale).intoArray(dst, i);
                    }
                }
                for (; i < d; i++) {
                    dst[i] = seg.get(I16, base + 2L * i) * scale;
                }
            }
        }
    }

    /**
     * Encodes {@code src[0, cols)} into row {@code row} of a float-typed tensor (F32, F16, BF16), rounding to
     * nearest even.
     */
    static void encode(float[] src, Tensor t, long row) {
        MemorySegment seg = t.data();
        long base = row * t.rowStride();
        int d = t.cols();
        switch (t.type()) {
            case F32 -> MemorySegment.copy(src, 0, seg, F32, base, d);
            case F16 -> {
                for (int i = 0; i < d; i++) {
                    seg.set(I16, base + 2L * i, Float.floatToFloat16(src[i]));
                }
            }
            case BF16 -> {
                int i = 0;
                if (S_HALF.length() == LANES) {
                    for (int bound = d - LANES + 1; i < bound; i += LANES) {
                        bf16Narrow(FloatVector.fromArray(F, src, i)).intoMemorySegment(seg, base + 2L * i, LE);
                    }
                }
                for (; i < d; i++) {
                    seg.set(I16, base + 2L * i, FloatFormats.floatToBf16(src[i]));
                }
            }
            default -> throw new IllegalStateException("encode() writes float types only, got " + t.type());
        }
    }

    /**
     * {@link FloatFormats#floatToBf16} on every lane: add {@code 0x7FFF} plus the lowest kept bit (round to
     * nearest, ties to even) and keep the top 16 bits; NaN lanes keep their top bits with the quiet bit set.
     */
    private static ShortVector bf16Narrow(FloatVector v) {
        IntVector bits = v.reinterpretAsInts();
        IntVector rounded = bits.add(bits.lanewise(VectorOperators.LSHR, 16).and(1).add(0x7FFF))
                .lanewise(VectorOperators.LSHR, 16);
        IntVector quietNaN = bits.lanewise(VectorOperators.LSHR, 16).or(0x40);
        IntVector top = rounded.blend(quietNaN, v.test(VectorOperators.IS_NAN).cast(I));
        return (ShortVector) top.convertShape(VectorOperators.I2S, S_HALF, 0);
    }

    /** Stores one f32 value into element {@code (row, col)} of a float-typed output tensor. */
    static void store(Tensor t, long row, int col, float value) {
        long at = row * t.rowStride() + (long) col * t.type().byteSize();
        switch (t.type()) {
            case F32 -> t.data().set(F32, at, value);
            case F16 -> t.data().set(I16, at, Float.floatToFloat16(value));
            case BF16 -> t.data().set(I16, at, FloatFormats.floatToBf16(value));
            default -> throw new IllegalStateException("store() writes float types only, got " + t.type());
        }
    }

    /** Copies one row's bytes (and its scale) from {@code src} to {@code dst}; same element type and width. */
    static void copyRow(Tensor src, long srcRow, Tensor dst, long dstRow) {
        assert src.type() == dst.type() && src.cols() == dst.cols();
        MemorySegment.copy(src.data(), srcRow * src.rowStride(), dst.data(), dstRow * dst.rowStride(),
                (long) src.cols() * src.type().byteSize());
        if (src.type().isQuantized()) {
            dst.setScale(dstRow, src.scale(srcRow));
        }
    }

    /** f32 dot product of two decoded rows over {@code [0, d)}, SIMD with FMA. */
    static float dot(float[] a, float[] b, int d) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int i = 0;
        for (int bound = d - 2 * LANES + 1; i < bound; i += 2 * LANES) {
            acc0 = FloatVector.fromArray(F, a, i).fma(FloatVector.fromArray(F, b, i), acc0);
            acc1 = FloatVector.fromArray(F, a, i + LANES).fma(FloatVector.fromArray(F, b, i + LANES), acc1);
        }
        for (int bound = d - LANES + 1; i < bound; i += LANES) {
            acc0 = FloatVector.fromArray(F, a, i).fma(FloatVector.fromArray(F, b, i), acc0);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < d; i++) {
            sum = Math.fma(a[i], b[i], sum);
        }
        return sum;
    }

    /**
     * The sum of a vector's lanes by a fixed pairwise tree. {@code reduceLanes(ADD)} may add in one order in
     * the Java fallback and in another once the JIT intrinsifies it, so the same call can change its last bit
     * while the code warms up; lane-wise adds and shuffles give the same bits in every tier, which keeps
     * results reproducible from call to call (and cost fewer instructions than an ordered reduction).
     */
    static float laneSum(FloatVector v) {
        if (LANES > 16) {
            float sum = 0;
            for (float x : v.toArray()) {
                sum += x;
            }
            return sum;
        }
        if (LANES == 16) {
            v = v.add(v.rearrange(SWAP_8));
        }
        if (LANES >= 8) {
            v = v.add(v.rearrange(SWAP_4));
        }
        if (LANES >= 4) {
            v = v.add(v.rearrange(SWAP_2));
        }
        return v.add(v.rearrange(SWAP_1)).lane(0);
    }

    /** A description of the vector hardware for the backend's log line, e.g. {@code 256-bit}. */
    static String vectorDescription() {
        return F.vectorBitSize() + "-bit";
    }
}
