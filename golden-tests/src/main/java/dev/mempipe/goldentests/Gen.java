package dev.mempipe.goldentests;

import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.FloatFormats;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Seeded generators of the kit's cases, in the habits of Lucene's and jvector's tests: awkward sizes around
 * every vector width, rows that start at odd byte offsets and are padded, values across many binades, planted
 * ties, {@code -0.0} and {@code +0.0}, the extremes of each element type and infinities where the op accepts
 * them. Everything is drawn from the trial's {@link SplittableRandom}, so a seed reproduces a case exactly.
 */
public final class Gen {
    /** Sizes just below, at and above powers of two, where vector loops change from body to tail. */
    public static final int[] AWKWARD_SIZES = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129,
        255, 256, 257, 511, 513, 1023, 1025, 2047, 2049, 4095, 4097, 8191, 8193, 16383, 16385, 32767, 32769, 65535,
        65537};

    /** Guard bytes after every generated allocation. */
    static final int TAIL = 8;

    private static final ElementType[] FLOAT_OUTPUTS = {ElementType.F32, ElementType.F32, ElementType.F16,
        ElementType.BF16};

    private Gen() {
    }

    /** How the values of a generated tensor are distributed. */
    public enum Profile {
        /** Uniform in [-1, 1] with some exact +0.0 and -0.0; integer types use their full code range. */
        UNIT,
        /** Magnitudes spread over many binades (2^-24..2^24; 2^-6..2^6 for F16 so that sums stay finite). */
        WIDE,
        /** Scores: a coarse grid that plants ties, +0.0 and -0.0, the type's extremes and +-infinity. */
        SCORES,
        /** As {@link #SCORES} without infinities. */
        FINITE_SCORES,
        /** Rounding edge cases: exact halfway points of F16 and BF16, overflow to infinity, subnormals. */
        CONVERSION,
        /** Arbitrary bit patterns, NaN payloads included: for ops that must copy bits exactly. */
        RAW_BITS
    }

    /** A size in [1, max]: usually one of {@link #AWKWARD_SIZES}, sometimes uniform. */
    public static int size(SplittableRandom r, int max) {
        if (max <= 1) {
            return 1;
        }
        if (r.nextInt(4) != 0) {
            int count = 0;
            while (count < AWKWARD_SIZES.length && AWKWARD_SIZES[count] <= max) {
                count++;
            }
            return AWKWARD_SIZES[r.nextInt(count)];
        }
        return r.nextInt(1, max + 1);
    }

    /** Picks one of the options. */
    @SafeVarargs
    public static <T> T pick(SplittableRandom r, T... options) {
        return options[r.nextInt(options.length)];
    }

    /** One of the element types in {@code declared}, in declaration order so that a seed picks the same one. */
    public static ElementType pickType(SplittableRandom r, Set<ElementType> declared) {
        List<ElementType> list = new ArrayList<>();
        for (ElementType t : ElementType.values()) {
            if (declared.contains(t)) {
                list.add(t);
            }
        }
        return list.get(r.nextInt(list.size()));
    }

    /** A float output type: F32 half of the time, F16 or BF16 otherwise. */
    public static ElementType floatOutput(SplittableRandom r) {
        return pick(r, FLOAT_OUTPUTS);
    }

    /** Leading bytes before a view: mostly odd, so that data starts at an odd address. */
    static int lead(SplittableRandom r) {
        return pick(r, 0, 1, 3, 5, 7, 13);
    }

    /**
     * A tensor of {@code type} with a random layout (contiguous or padded rows, odd byte offsets), every byte of
     * its allocation set to {@code fill}.
     */
    public static Tensor layout(Trial t, ElementType type, long rows, int cols, byte fill) {
        SplittableRandom r = t.random();
        long rowBytes = (long) cols * type.byteSize();
        // a third of the tensors get padded rows; padding need not be a whole element (rows may start anywhere)
        long stride = r.nextInt(3) == 0 ? rowBytes + r.nextInt(1, 3 * type.byteSize() + 3) : rowBytes;
        int lead = lead(r);
        long dataBytes = rows == 0 ? 0 : (rows - 1) * stride + rowBytes;
        MemorySegment base = t.arena().allocate(lead + dataBytes + TAIL, 1);
        base.fill(fill);
        MemorySegment scaleBase = null;
        MemorySegment scales = null;
        int scaleLead = 0;
        if (type.isQuantized()) {
            scaleLead = lead(r);
            scaleBase = t.arena().allocate(scaleLead + rows * Float.BYTES + TAIL, 1);
            scaleBase.fill(fill);
            scales = scaleBase.asSlice(scaleLead, rows * Float.BYTES);
        }
        Tensor tensor = Tensor.wrap(base.asSlice(lead, dataBytes), type, rows, cols, stride, scales);
        t.layout(tensor, new Trial.Layout(base, lead, scaleBase, scaleLead));
        return tensor;
    }

    /** A tensor with a random layout filled from {@code profile} (not yet registered as an input). */
    public static Tensor tensor(Trial t, ElementType type, long rows, int cols, Profile profile) {
        Tensor x = layout(t, type, rows, cols, Trial.SENTINEL);
        fill(t.random(), x, profile);
        return x;
    }

    /** Fills every element of {@code x} from {@code profile}; integer types get a scale per row first. */
    public static void fill(SplittableRandom r, Tensor x, Profile profile) {
        ElementType type = x.type();
        for (long row = 0; row < x.rows(); row++) {
            if (type.isQuantized()) {
                fillCodes(r, x, row, profile);
            } else if (profile == Profile.RAW_BITS) {
                for (int c = 0; c < x.cols(); c++) {
                    long at = x.offset(row, c);
                    if (type == ElementType.F32) {
                        x.data().set(ValueLayout.JAVA_INT_UNALIGNED, at, r.nextInt());
                    } else {
                        x.data().set(ValueLayout.JAVA_SHORT_UNALIGNED, at, (short) r.nextInt());
                    }
                }
            } else {
                for (int c = 0; c < x.cols(); c++) {
                    x.set(row, c, value(r, type, profile));
                }
            }
        }
    }

    private static void fillCodes(SplittableRandom r, Tensor x, long row, Profile profile) {
        int max = x.type().maxCode();
        boolean zeroRow = r.nextInt(profile == Profile.SCORES || profile == Profile.FINITE_SCORES ? 8 : 16) == 0;
        float scale = switch (profile) {
            case WIDE -> (float) Math.scalb(1 + r.nextDouble(), r.nextInt(-30, 10));
            case RAW_BITS -> Float.intBitsToFloat(r.nextInt(0x0080_0000, 0x7F80_0000)); // any positive finite
            default -> (float) Math.scalb(0.5 + r.nextDouble(), r.nextInt(-10, 1));
        };
        x.setScale(row, zeroRow ? 0f : scale);
        for (int c = 0; c < x.cols(); c++) {
            int code;
            if (zeroRow) {
                code = 0;
            } else if (profile == Profile.SCORES || profile == Profile.FINITE_SCORES) {
                code = switch (r.nextInt(16)) {
                    case 0 -> max;
                    case 1 -> -max - 1;
                    case 2 -> -max;
                    default -> r.nextInt(-4, 5); // planted ties
                };
            } else {
                code = r.nextInt(-max - 1, max + 1);
            }
            x.setCode(row, c, code);
        }
        if (!zeroRow && x.cols() > 0) {
            // the extreme codes in every row, not by chance (1 in 65536 for I16): -128 / -32768 have no positive
            // twin, so a kernel that negates, takes abs or assumes a symmetric range breaks on them
            x.setCode(row, r.nextInt(x.cols()), -max - 1);
            x.setCode(row, r.nextInt(x.cols()), max);
        }
    }

    /** One value of a float element type from {@code profile} (in f32; {@link Tensor#set} rounds it). */
    public static float value(SplittableRandom r, ElementType type, Profile profile) {
        return switch (profile) {
            case UNIT, RAW_BITS -> unit(r);
            case WIDE -> wide(r, type);
            case SCORES -> score(r, type, true);
            case FINITE_SCORES -> score(r, type, false);
            case CONVERSION -> conversion(r);
        };
    }

    private static float unit(SplittableRandom r) {
        return switch (r.nextInt(32)) {
            case 0 -> 0f;
            case 1 -> -0f;
            default -> (float) r.nextDouble(-1, 1);
        };
    }

    private static float wide(SplittableRandom r, ElementType type) {
        if (r.nextInt(32) == 0) {
            return r.nextBoolean() ? 0f : -0f;
        }
        int e = type == ElementType.F16 ? 6 : 24;
        double v = Math.scalb(1 + r.nextDouble(), r.nextInt(-e, e + 1));
        return (float) (r.nextBoolean() ? v : -v);
    }

    private static float score(SplittableRandom r, ElementType type, boolean infinities) {
        int k = r.nextInt(24);
        return switch (k) {
            case 0 -> 0f;
            case 1 -> -0f;
            case 2 -> infinities ? Float.POSITIVE_INFINITY : maxFinite(type);
            case 3 -> infinities ? Float.NEGATIVE_INFINITY : -maxFinite(type);
            case 4 -> maxFinite(type);
            case 5 -> -maxFinite(type);
            case 6 -> minSubnormal(type);
            case 7 -> -minSubnormal(type);
            default -> k < 16 ? r.nextInt(-8, 9) * 0.25f : (float) r.nextDouble(-1, 1);
        };
    }

    private static float conversion(SplittableRandom r) {
        float sign = r.nextBoolean() ? 1f : -1f;
        return switch (r.nextInt(12)) {
            case 0, 1 -> { // exactly halfway between two F16 values (needs 12 significant bits: exact in f32)
                short h = (short) r.nextInt(0, 0x7BFF);
                yield sign * (FloatFormats.f16ToFloat(h) + FloatFormats.f16ToFloat((short) (h + 1))) / 2;
            }
            case 2, 3 -> // exactly halfway between two BF16 values
                    sign * Float.intBitsToFloat((r.nextInt(0, 0x7F7F) << 16) | 0x8000);
            case 4 -> { // one f32 ulp off a halfway point: must round to the nearer neighbour
                float half = Float.intBitsToFloat((r.nextInt(0, 0x7F7F) << 16) | 0x8000);
                yield sign * (r.nextBoolean() ? Math.nextUp(half) : Math.nextDown(half));
            }
            case 5 -> sign * pick(r, 65504f, 65519f, 65519.996f, 65520f, 70000f, 1e9f); // F16 overflow edge
            case 6 -> sign * (float) Math.scalb(1 + r.nextDouble(), r.nextInt(-26, -13)); // F16 subnormals
            case 7 -> pick(r, 0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MAX_VALUE,
                    Float.MIN_VALUE, -Float.MIN_NORMAL);
            case 8 -> { // any finite f32
                float f;
                do {
                    f = Float.intBitsToFloat(r.nextInt());
                } while (!Float.isFinite(f));
                yield f;
            }
            default -> unit(r);
        };
    }

    /** The largest finite value of a float type. */
    public static float maxFinite(ElementType type) {
        return switch (type) {
            case F16 -> 65504f;
            case BF16 -> Float.intBitsToFloat(0x7F7F_0000);
            default -> Float.MAX_VALUE;
        };
    }

    /** The smallest positive (subnormal) value of a float type. */
    public static float minSubnormal(ElementType type) {
        return switch (type) {
            case F16 -> 0x1p-24f;
            case BF16 -> Float.intBitsToFloat(0x0001_0000);
            default -> Float.MIN_VALUE;
        };
    }

    /**
     * Rows that quantize with exact ties: each row gets a power-of-two step s, one element of magnitude
     * {@code maxCode * s} (so the row's scale is s exactly) and elements at {@code (k + 0.5) s} that must
     * round half to even. Float types only; other elements are uniform in the row's range.
     */
    public static void fillQuantizable(SplittableRandom r, Tensor x, int maxCode) {
        for (long row = 0; row < x.rows(); row++) {
            if (r.nextInt(16) == 0) {
                for (int c = 0; c < x.cols(); c++) {
                    x.set(row, c, r.nextBoolean() ? 0f : -0f); // a zero row: scale 0, codes 0
                }
                continue;
            }
            double s = Math.scalb(1.0, r.nextInt(-12, 2));
            int peak = r.nextInt(x.cols());
            for (int c = 0; c < x.cols(); c++) {
                double v;
                if (c == peak) {
                    v = maxCode * s;
                } else if (r.nextInt(3) == 0) {
                    v = (r.nextInt(-maxCode, maxCode) + 0.5) * s;
                } else {
                    v = r.nextDouble(-maxCode, maxCode) * s;
                }
                x.set(row, c, (float) (r.nextBoolean() ? v : -v));
            }
        }
    }

    /**
     * A tensor whose elements are the integers {@code [lo, hi]} (|lo|, |hi| <= 127), exact in every element
     * type (integer types get scale 1): products and short sums of them are exact in f32.
     */
    public static Tensor integers(Trial t, ElementType type, long rows, int cols, int lo, int hi) {
        Tensor x = layout(t, type, rows, cols, Trial.SENTINEL);
        SplittableRandom r = t.random();
        for (long row = 0; row < rows; row++) {
            if (type.isQuantized()) {
                x.setScale(row, 1f);
            }
            for (int c = 0; c < cols; c++) {
                x.set(row, c, r.nextInt(lo, hi + 1));
            }
        }
        return x;
    }

    /**
     * Integer rows of near-maximal codes with power-of-two scales, made to expose inexact accumulation: with
     * {@code flipHalf} the second half of every row is negated, so a dot product with an unflipped row first
     * grows far past 2^24 (in every lane of any vector width) and then cancels to a small exact result. An f32
     * accumulator, in any order, loses low bits on the way that are large against that result; the contract's
     * exact integer sum (or a double one) does not, and the scaling by powers of two is exact.
     */
    public static Tensor nearMaxCodes(Trial t, ElementType type, long rows, int d, boolean flipHalf) {
        SplittableRandom r = t.random();
        int max = type.maxCode();
        Tensor x = layout(t, type, rows, d, Trial.SENTINEL);
        for (long row = 0; row < rows; row++) {
            x.setScale(row, (float) Math.scalb(1.0, r.nextInt(-9, -5)));
            for (int c = 0; c < d; c++) {
                int code = max - r.nextInt(0, 9);
                x.setCode(row, c, flipHalf && c >= d / 2 ? -code : code);
            }
        }
        return x;
    }

    /** Multiplies every decoded value by {@code factor} (integer types: their scales). */
    public static void scaleValues(Tensor x, float factor) {
        for (long row = 0; row < x.rows(); row++) {
            if (x.type().isQuantized()) {
                x.setScale(row, x.scale(row) * factor);
            } else {
                for (int c = 0; c < x.cols(); c++) {
                    x.set(row, c, x.get(row, c) * factor);
                }
            }
        }
    }

    /** The value {@link #unitConstant} writes: +1 in float types, -1 (the extreme code -128 or -32768) in I8/I16. */
    public static float unit(ElementType type) {
        return type.isQuantized() ? -1f : 1f;
    }

    /**
     * A contiguous tensor of {@code rows x cols} (at an odd byte offset) whose every element decodes to
     * {@link #unit(ElementType)}: float types hold 1.0, integer types the extreme code -128 (-32768) with the
     * power-of-two scale that makes it -1. Sums and products of such elements are exact integers in every order,
     * so results of any length are known exactly. Filled by doubling copies: a 64 MiB tensor costs a memcpy.
     */
    public static Tensor unitConstant(Trial t, ElementType type, long rows, int cols) {
        long rowBytes = (long) cols * type.byteSize();
        int lead = 3;
        MemorySegment base = t.arena().allocate(lead + rows * rowBytes + TAIL, 1);
        fillOutside(base, lead, rows * rowBytes); // the elements themselves are all written below
        MemorySegment data = base.asSlice(lead, rows * rowBytes);
        MemorySegment scaleBase = null;
        MemorySegment scales = null;
        if (type.isQuantized()) {
            scaleBase = t.arena().allocate(lead + rows * Float.BYTES + TAIL, 1);
            fillOutside(scaleBase, lead, rows * Float.BYTES);
            scales = scaleBase.asSlice(lead, rows * Float.BYTES);
        }
        Tensor x = Tensor.wrap(data, type, rows, cols, rowBytes, scales);
        t.layout(x, new Trial.Layout(base, lead, scaleBase, lead));
        if (rows == 0 || cols == 0) {
            return x;
        }
        if (type.isQuantized()) {
            int extreme = -type.maxCode() - 1;
            x.setScale(0, -1f / extreme);
            x.setCode(0, 0, extreme);
            replicate(scales, Float.BYTES);
        } else {
            x.set(0, 0, 1f);
        }
        replicate(data, type.byteSize());
        return x;
    }

    /** Fills the bytes of {@code base} before {@code lead} and after {@code lead + length} with the sentinel. */
    private static void fillOutside(MemorySegment base, long lead, long length) {
        base.asSlice(0, lead).fill(Trial.SENTINEL);
        base.asSlice(lead + length).fill(Trial.SENTINEL);
    }

    /** Copies the first {@code unit} bytes of {@code seg} over all of it, doubling the filled prefix each time. */
    static void replicate(MemorySegment seg, long unit) {
        long size = seg.byteSize();
        for (long filled = unit; filled < size; filled *= 2) {
            MemorySegment.copy(seg, 0, seg, filled, Math.min(filled, size - filled));
        }
    }

    /** A tensor whose memory belongs to a confined arena that is already closed. */
    public static Tensor closed(ElementType type, long rows, int cols) {
        Tensor t;
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            t = Tensor.allocate(arena, type, rows, cols);
        }
        return t;
    }

    /** {@code count} distinct row numbers of {@code [0, n)} in random order. */
    public static int[] distinct(SplittableRandom r, int n, int count) {
        int[] all = new int[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
        }
        for (int i = 0; i < count; i++) {
            int j = r.nextInt(i, n);
            int tmp = all[i];
            all[i] = all[j];
            all[j] = tmp;
        }
        return java.util.Arrays.copyOf(all, count);
    }

    /** Copies {@code values} into an index list with a random (often odd) byte offset. */
    public static Indices indices(Trial t, int... values) {
        int lead = lead(t.random());
        MemorySegment base = t.arena().allocate(lead + (long) values.length * Integer.BYTES + TAIL, 1);
        base.fill(Trial.SENTINEL);
        Indices i = Indices.wrap(base.asSlice(lead, (long) values.length * Integer.BYTES), values.length);
        for (int k = 0; k < values.length; k++) {
            i.set(k, values[k]);
        }
        t.layout(i, new Trial.Layout(base, lead, null, 0));
        return i;
    }
}
