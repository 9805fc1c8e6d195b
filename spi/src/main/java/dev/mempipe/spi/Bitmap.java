package dev.mempipe.spi;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * A bitmap of {@code n} bits packed into little-endian 64-bit words: bit {@code i} is bit {@code i % 64}
 * of word {@code i / 64}. Bits past {@code n} in the last word are always 0. The output of {@code threshold}.
 */
public final class Bitmap {
    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED;

    private final MemorySegment words;
    private final long length;

    private Bitmap(MemorySegment words, long length) {
        this.words = words;
        this.length = length;
    }

    /** Words needed for {@code length} bits. */
    public static long wordCount(long length) {
        return (length + 63) >>> 6;
    }

    public static Bitmap allocate(Arena arena, long length) {
        if (length < 0) {
            throw new IllegalArgumentException("length must be >= 0, got " + length);
        }
        return new Bitmap(arena.allocate(Math.max(8, wordCount(length) * Long.BYTES), 64), length);
    }

    public static Bitmap wrap(MemorySegment words, long length) {
        Objects.requireNonNull(words, "words");
        if (length < 0) {
            throw new IllegalArgumentException("length must be >= 0, got " + length);
        }
        if (words.byteSize() < wordCount(length) * Long.BYTES) {
            throw new IllegalArgumentException("words segment holds " + words.byteSize() + " bytes but "
                    + length + " bits need " + wordCount(length) * Long.BYTES);
        }
        return new Bitmap(words, length);
    }

    public MemorySegment words() {
        return words;
    }

    /** Number of bits. */
    public long length() {
        return length;
    }

    public boolean isAlive() {
        return words.scope().isAlive();
    }

    public long word(long w) {
        Objects.checkIndex(w, wordCount(length));
        return words.getAtIndex(WORD, w);
    }

    public void setWord(long w, long value) {
        Objects.checkIndex(w, wordCount(length));
        words.setAtIndex(WORD, w, value);
    }

    public boolean get(long i) {
        Objects.checkIndex(i, length);
        return (words.getAtIndex(WORD, i >>> 6) & (1L << (i & 63))) != 0;
    }

    public void set(long i, boolean value) {
        Objects.checkIndex(i, length);
        long w = words.getAtIndex(WORD, i >>> 6);
        long bit = 1L << (i & 63);
        words.setAtIndex(WORD, i >>> 6, value ? w | bit : w & ~bit);
    }

    /** Number of set bits. */
    public long cardinality() {
        long count = 0;
        for (long w = 0, n = wordCount(length); w < n; w++) {
            count += Long.bitCount(words.getAtIndex(WORD, w));
        }
        return count;
    }

    @Override
    public String toString() {
        return "Bitmap[" + length + "]";
    }
}
