package dev.mempipe.core.model;

import dev.mempipe.spi.FloatFormats;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.stream.LongStream;

/**
 * Seeded random tensor contents. Row r draws from its own generator, seeded from the tensor's seed and r, so a
 * row's values do not depend on which other rows are filled, in what order, or in how many calls.
 */
final class SeededFill {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    /** Tensors at least this large are filled on the common pool. */
    private static final long PARALLEL_ELEMENTS = 1 << 20;

    private SeededFill() {
    }

    /** A generator for row {@code row} of the stream {@code seed}. */
    static SplittableRandom rowRandom(long seed, long row) {
        return new SplittableRandom(mix(seed ^ mix(row + 0x632BE59BD9B4E019L)));
    }

    /** A seed derived from {@code seed} for the part named {@code part} (a layer, a tensor). */
    static long derive(long seed, long part) {
        return mix(seed + 0x9E3779B97F4A7C15L * (part + 1));
    }

    /**
     * Fills rows {@code [0, t.rows())} with uniform values in {@code [-bound, bound)}; large tensors in
     * parallel (rows are independent, so the result is the same).
     */
    static void uniform(Tensor t, long seed, float bound) {
        int cols = t.cols();
        LongStream rows = LongStream.range(0, t.rows());
        if (t.size() >= PARALLEL_ELEMENTS) {
            rows = rows.parallel();
        }
        rows.forEach(r -> {
            float[] row = new float[cols];
            SplittableRandom random = rowRandom(seed, r);
            for (int c = 0; c < cols; c++) {
                row[c] = (float) random.nextDouble(-bound, bound);
            }
            store(t, r, row);
        });
    }

    /** Writes {@code values} into row {@code r} of a float tensor (rounding to nearest even for F16/BF16). */
    static void store(Tensor t, long r, float[] values) {
        MemorySegment data = t.data();
        long at = t.offset(r, 0);
        switch (t.type()) {
            case F32 -> MemorySegment.copy(values, 0, data, F32, at, values.length);
            case BF16 -> {
                for (int c = 0; c < values.length; c++) {
                    data.set(I16, at + 2L * c, FloatFormats.floatToBf16(values[c]));
                }
            }
            case F16 -> {
                for (int c = 0; c < values.length; c++) {
                    data.set(I16, at + 2L * c, FloatFormats.floatToF16(values[c]));
                }
            }
            default -> throw new IllegalArgumentException("SeededFill writes float tensors, got " + t.type());
        }
    }

    /** SplitMix64's finalizer: spreads nearby seeds over the whole range. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
