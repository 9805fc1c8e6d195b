package dev.mempipe.fpga;

import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * How keys lie in HBM for the {@code score} kernel: each row zero-padded to whole 512-bit words (16 F32, 32
 * F16/BF16/I16 or 64 I8 elements a word), rows one after another, the per-row f32 scales of integer types in a
 * separate buffer. Stateless.
 *
 * @param type     element type of the keys
 * @param cols     elements per row
 * @param rowWords 512-bit words per row
 */
record KeyLayout(ElementType type, int cols, int rowWords) {
    static final int WORD_BYTES = 64;

    static KeyLayout of(ElementType type, int cols) {
        int lanes = WORD_BYTES / type.byteSize();
        return new KeyLayout(type, cols, Math.max(1, (cols + lanes - 1) / lanes));
    }

    /** The type code the kernels use (mempipe_hls.h's mempipe_type). */
    static int typeCode(ElementType type) {
        return switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case BF16 -> 2;
            case I8 -> 3;
            case I16 -> 4;
        };
    }

    long rowBytes() {
        return (long) rowWords * WORD_BYTES;
    }

    /** Packs rows {@code [from, to)} of {@code t} (same type and width as this layout) into new native memory. */
    MemorySegment pack(Arena arena, Tensor t, long from, long to) {
        MemorySegment out = arena.allocate(Math.max(1, (to - from) * rowBytes()), WORD_BYTES);
        long bytes = (long) cols * type.byteSize();
        for (long r = from; r < to; r++) {
            MemorySegment.copy(t.data(), t.offset(r, 0), out, (r - from) * rowBytes(), bytes);
        }
        return out;
    }

    /**
     * questBound's page summaries: rows {@code [from, to)} of {@code min} and {@code max} (this layout's type and
     * width) with their words alternating, min word w at word 2w and max word w at 2w + 1 of each row of
     * {@link #pairRowBytes()}.
     */
    MemorySegment packPairs(Arena arena, Tensor min, Tensor max, long from, long to) {
        MemorySegment lo = pack(arena, min, from, to);
        MemorySegment hi = pack(arena, max, from, to);
        MemorySegment out = arena.allocate(Math.max(1, (to - from) * pairRowBytes()), WORD_BYTES);
        for (long r = 0; r < to - from; r++) {
            for (int w = 0; w < rowWords; w++) {
                long src = r * rowBytes() + (long) w * WORD_BYTES;
                long dst = r * pairRowBytes() + 2L * w * WORD_BYTES;
                MemorySegment.copy(lo, src, out, dst, WORD_BYTES);
                MemorySegment.copy(hi, src, out, dst + WORD_BYTES, WORD_BYTES);
            }
        }
        return out;
    }

    long pairRowBytes() {
        return 2 * rowBytes();
    }

    /** questBound's row scale pairs: {@code min}'s scale of row r at 2r, {@code max}'s at 2r + 1. */
    static MemorySegment scalePairs(Arena arena, Tensor min, Tensor max, long from, long to) {
        MemorySegment out = arena.allocate(Math.max(1, 2 * (to - from) * Float.BYTES), WORD_BYTES);
        for (long r = from; r < to; r++) {
            out.setAtIndex(ValueLayout.JAVA_FLOAT, 2 * (r - from), min.scale(r));
            out.setAtIndex(ValueLayout.JAVA_FLOAT, 2 * (r - from) + 1, max.scale(r));
        }
        return out;
    }

    /** The row scales {@code [from, to)} of an integer tensor as native f32s. */
    static MemorySegment scales(Arena arena, Tensor t, long from, long to) {
        MemorySegment out = arena.allocate(Math.max(1, (to - from) * Float.BYTES), WORD_BYTES);
        MemorySegment.copy(t.scales(), from * Float.BYTES, out, 0, (to - from) * Float.BYTES);
        return out;
    }

    /** Decoded f32 values of every element of {@code t}, row-major. */
    static MemorySegment decoded(Arena arena, Tensor t) {
        MemorySegment out = arena.allocate(Math.max(1, t.size() * Float.BYTES), WORD_BYTES);
        long at = 0;
        for (long r = 0; r < t.rows(); r++) {
            for (int c = 0; c < t.cols(); c++) {
                out.setAtIndex(ValueLayout.JAVA_FLOAT, at++, t.get(r, c));
            }
        }
        return out;
    }

    /** Raw integer codes of rows {@code [from, to)} of an integer tensor as native int32s. */
    static MemorySegment codes(Arena arena, Tensor t, long from, long to) {
        MemorySegment out = arena.allocate(Math.max(1, (to - from) * t.cols() * Integer.BYTES), WORD_BYTES);
        long at = 0;
        for (long r = from; r < to; r++) {
            for (int c = 0; c < t.cols(); c++) {
                out.setAtIndex(ValueLayout.JAVA_INT, at++, t.code(r, c));
            }
        }
        return out;
    }
}
