package dev.mempipe.ops;

import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.NaNInputException;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.OpArgs;
import dev.mempipe.spi.RetrievalOps;
import dev.mempipe.spi.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.concurrent.atomic.LongAccumulator;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Stage 3 on the Vector API. Every op checks its arguments and finishes reading (and NaN-checking) its
 * input before it writes the first output element, so bad input leaves the outputs untouched.
 */
final class SimdRetrievalOps implements RetrievalOps {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final int LANES = SimdRows.LANES;
    /** Bitmap words per parallel chunk of threshold (64 scores each). */
    private static final int THRESHOLD_MIN_WORDS = 1 << 11;
    /** Bytes a gather chunk should copy before a fork pays off. */
    private static final long GATHER_MIN_BYTES = 1 << 18;

    private final Capabilities caps;

    SimdRetrievalOps(Capabilities caps) {
        this.caps = caps;
    }

    @Override
    public int topK(Tensor s, int k, Indices idx, Tensor val) {
        OpArgs.topK(caps, s, k, idx, val);
        int n = s.cols();
        int rows = Math.toIntExact(s.rows());
        int count = Math.min(k, n);
        // Every row is selected (and NaN-checked) before the first output is written.
        int[][] best = new int[rows][];
        float[][] values = new float[rows][];
        for (int j = 0; j < rows; j++) {
            MemorySegment scores = f32Row(s.rowSlice(j, j + 1));
            try {
                best[j] = SimdTopK.topK(scores, n, k);
            } catch (NaNInputException e) {
                throw rows == 1 ? e : new NaNInputException("s", (long) j * n + e.position());
            }
            values[j] = new float[count];
            for (int i = 0; i < count; i++) {
                values[j][i] = scores.getAtIndex(F32, best[j][i]);
            }
        }
        for (int j = 0; j < rows; j++) {
            MemorySegment.copy(best[j], 0, idx.data(), I32, 4L * j * count, count);
            if (val != null) {
                MemorySegment.copy(values[j], 0, val.data(), F32, j * val.rowStride(), count);
            }
        }
        return count;
    }

    @Override
    public void threshold(Tensor s, float t, Bitmap out) {
        OpArgs.threshold(caps, s, t, out);
        int n = s.cols();
        long rows = s.rows();
        if (rows == 1) {
            long[] words = thresholdRow(s, t, 0);
            MemorySegment.copy(words, 0, out.words(), WORD, 0, words.length);
            return;
        }
        // Rows start at bit j*n, not on word boundaries: assemble the whole bitmap, then write it once.
        long[] all = new long[Math.toIntExact(Bitmap.wordCount(s.size()))];
        for (long j = 0; j < rows; j++) {
            orBits(thresholdRow(s.rowSlice(j, j + 1), t, j * n), n, all, j * n);
        }
        MemorySegment.copy(all, 0, out.words(), WORD, 0, all.length);
    }

    /** The bitmap words of one score row; a NaN is reported at {@code base +} its column. */
    private static long[] thresholdRow(Tensor row, float t, long base) {
        int n = row.cols();
        MemorySegment scores = f32Row(row);
        long[] words = new long[(int) Bitmap.wordCount(n)];
        LongAccumulator firstNaN = new LongAccumulator(Math::min, Long.MAX_VALUE);
        Parallel.forRange(words.length, THRESHOLD_MIN_WORDS, (from, to) ->
                thresholdWords(scores, n, t, words, (int) from, (int) to, firstNaN), scores);
        if (firstNaN.get() != Long.MAX_VALUE) {
            throw new NaNInputException("s", base + firstNaN.get());
        }
        return words;
    }

    /** ORs the first {@code n} bits of {@code src} into {@code dst} starting at bit {@code at}. */
    private static void orBits(long[] src, int n, long[] dst, long at) {
        int shift = (int) (at & 63);
        int w0 = (int) (at >>> 6);
        for (int w = 0; w < src.length; w++) {
            long bits = src[w];
            dst[w0 + w] |= bits << shift;
            if (shift != 0 && w0 + w + 1 < dst.length) {
                dst[w0 + w + 1] |= bits >>> (64 - shift);
            }
        }
    }

    @Override
    public int bitmapToIndices(Bitmap bits, Indices out) {
        OpArgs.bitmapToIndices(caps, bits, out);
        long wordCount = Bitmap.wordCount(bits.length());
        MemorySegment words = bits.words();
        // An Indices entry is an int: a set bit past Integer.MAX_VALUE has no representation.
        for (long w = Integer.MAX_VALUE / 64 + 1; w < wordCount; w++) {
            if (words.getAtIndex(WORD, w) != 0) {
                throw new IllegalArgumentException(Op.BITMAP_TO_INDICES + ": argument 'bitmap' has a set bit at or "
                        + "past " + 64 * w + ", beyond the int index range of 'indices'");
            }
        }
        MemorySegment dst = out.data();
        int count = 0;
        for (long w = 0; w < wordCount; w++) {
            int base = (int) (w << 6);
            for (long word = words.getAtIndex(WORD, w); word != 0; word &= word - 1) {
                dst.setAtIndex(I32, count++, base + Long.numberOfTrailingZeros(word));
            }
        }
        return count;
    }

    @Override
    public int expandBlocks(Indices blocks, int blockSize, long length, int sink, int window, Indices out) {
        int count = OpArgs.expandBlocks(caps, blocks, blockSize, length, sink, window, out);
        int[] bs = blocks.toArray();
        // Each interval [start, end) packed as start << 32 | end; sorting the packed values sorts by start.
        long[] spans = new long[bs.length + 2];
        long l = length;
        spans[0] = Math.min(sink, l);
        spans[1] = (Math.max(0, l - window) << 32) | l;
        for (int i = 0; i < bs.length; i++) {
            long start = (long) bs[i] * blockSize;
            spans[i + 2] = (start << 32) | Math.min(start + blockSize, l);
        }
        Arrays.sort(spans);
        MemorySegment dst = out.data();
        int written = 0;
        long next = 0; // tokens below `next` have been written
        for (long span : spans) {
            long end = span & 0xFFFF_FFFFL;
            for (long t = Math.max(span >>> 32, next); t < end; t++) {
                dst.setAtIndex(I32, written++, (int) t);
            }
            next = Math.max(next, end);
        }
        assert written == count : written + " tokens written, OpArgs counted " + count;
        return written;
    }

    @Override
    public void gather(Tensor x, Indices idx, Tensor y) {
        OpArgs.gather(caps, x, idx, y);
        int[] rows = idx.toArray();
        long rowBytes = (long) x.cols() * x.type().byteSize();
        long grain = Math.max(1, GATHER_MIN_BYTES / Math.max(1, rowBytes));
        Parallel.forRange(rows.length, grain, (from, to) -> {
            for (int j = (int) from; j < to; j++) {
                MemorySegment.copy(x.data(), rows[j] * x.rowStride(), y.data(), j * y.rowStride(), rowBytes);
                if (x.type().isQuantized()) {
                    // bytes, not floats: a scale that is a signalling NaN keeps its payload
                    MemorySegment.copy(x.scales(), 4L * rows[j], y.scales(), 4L * j, 4);
                }
            }
        }, x.data(), x.scales(), y.data(), y.scales());
    }

    /** Row 0 of a vector tensor as f32 values from byte 0: the data itself for F32, else a decoded copy. */
    private static MemorySegment f32Row(Tensor s) {
        if (s.type() == ElementType.F32) {
            return s.data();
        }
        float[] decoded = new float[s.cols()];
        SimdRows.decode(s, 0, decoded);
        return MemorySegment.ofArray(decoded);
    }

    /**
     * Bitmap words {@code [fromWord, toWord)} of {@code s > t}: one mask per vector, its lanes shifted into
     * place ({@code toLong} is one movmsk on x86). NaN compares false, so it is looked for separately and
     * the first one of the range reported.
     */
    private static void thresholdWords(MemorySegment s, int n, float t, long[] words, int fromWord, int toWord,
                                       LongAccumulator firstNaN) {
        FloatVector tv = FloatVector.broadcast(SimdRows.F, t);
        boolean vectorWords = 64 % LANES == 0;
        for (int w = fromWord; w < toWord; w++) {
            int base = w << 6;
            int end = Math.min(n, base + 64);
            long word = 0;
            if (vectorWords && end - base == 64) {
                VectorMask<Float> nan = SimdRows.F.maskAll(false);
                for (int lane = 0; lane < 64; lane += LANES) {
                    FloatVector v = FloatVector.fromMemorySegment(SimdRows.F, s, 4L * (base + lane), SimdRows.LE);
                    word |= v.compare(VectorOperators.GT, tv).toLong() << lane;
                    nan = nan.or(v.compare(VectorOperators.NE, v));
                }
                if (nan.anyTrue()) {
                    firstNaN.accumulate(SimdTopK.firstNaN(s, base, end));
                    return;
                }
            } else {
                for (int i = base; i < end; i++) {
                    float x = s.getAtIndex(F32, i);
                    if (x != x) {
                        firstNaN.accumulate(i);
                        return;
                    }
                    if (x > t) {
                        word |= 1L << (i - base);
                    }
                }
            }
            words[w] = word;
        }
    }
}
