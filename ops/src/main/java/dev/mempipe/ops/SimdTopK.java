package dev.mempipe.ops;

import dev.mempipe.spi.NaNInputException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Exact top-k selection over f32 scores in the contract's total order (score descending, then index
 * ascending, {@code -0.0 == +0.0}), rejecting NaN before anything is returned.
 *
 * <p>Large inputs take the sampled path: the k-th best score is estimated from a stratified sample, one
 * SIMD pass (split over the cores) keeps only the positions at or above that cut, and the few survivors
 * are sorted exactly. The pass reads each score once, so topK costs about one read of the scores plus a
 * sort of ~1.5k keys instead of a sort of n. When the sample misleads (fewer than k survivors, or far more
 * than expected) the exact full selection runs instead, so the estimate affects speed, never the result.
 *
 * <p>Ordering trick: {@link #key} packs a score and its index into one {@code long} whose ascending order
 * is the total order, so every exact step is a primitive long sort or select.
 *
 * <p>Stateless; safe for concurrent use.
 */
final class SimdTopK {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final int LANES = SimdRows.LANES;

    /** Below this many scores the full selection is as fast as sampling. */
    static final int SAMPLED_MIN_N = 1 << 14;
    /** The sampled path pays off while the survivors (~1.5k) are a small fraction of n. */
    private static final int SAMPLED_MAX_K_FRACTION = 16;
    private static final int SAMPLE_MAX = 1 << 14;
    private static final int SAMPLE_MIN = 1 << 12;
    /** Scores per parallel chunk of the candidate pass: below this, forking costs more than it saves. */
    private static final int CHUNK_MIN = 1 << 16;

    private SimdTopK() {
    }

    /**
     * The positions of the {@code min(k, n)} best scores, best first.
     *
     * @param s little-endian f32 scores {@code s[0, n)} starting at byte 0
     * @throws NaNInputException naming argument {@code s} and the first NaN position
     */
    static int[] topK(MemorySegment s, int n, int k) {
        assert k >= 1 && n >= 0;
        if (n >= SAMPLED_MIN_N && (long) k * SAMPLED_MAX_K_FRACTION <= n) {
            int[] result = sampled(s, n, k);
            if (result != null) {
                return result;
            }
        }
        return full(s, n, k);
    }

    /** The sampled path; null when the sample misled and the caller must run {@link #full}. */
    static int[] sampled(MemorySegment s, int n, int k) {
        // A small k needs few samples to place its cut: 64 per wanted score (4096 at least) keeps the survivors to
        // a few hundred, and reading 16k scattered samples was half of topK's time for k = 10 over 100k scores.
        int m = (int) Math.min(Math.min(SAMPLE_MAX, n / 4), Math.max(SAMPLE_MIN, 64L * k));
        // Sample rank j: the expected count of sampled scores above the true k-th best is e = k*m/n; taking
        // the j-th best sample, three standard deviations further down, leaves fewer than k survivors with
        // probability ~1e-3 (then the full path runs) and ~j*n/m = k + 3*sqrt(k*n/m) survivors typically.
        double expected = (double) k * m / n;
        int j = (int) Math.ceil(expected + 3 * Math.sqrt(expected) + 2);
        if (j >= m) {
            return null;
        }
        float cut = sampleCut(s, n, m, j);
        if (Float.isNaN(cut)) {
            return null; // NaN in the sample: the full path finds the first one
        }
        long limit = (long) Math.ceil(4.0 * j * n / m) + 1024;
        return selectWithCut(s, n, k, cut, (int) Math.min(limit, n));
    }

    /**
     * Exact top-k among the scores {@code >= cut}: one pass collects every position above the cut and, per
     * chunk, the first k positions equal to it (enough for the index tie rule). Null when fewer than k
     * scores reach the cut or more than {@code limit} lie strictly above it in one chunk.
     *
     * @throws NaNInputException when the pass meets a NaN (naming the first one in {@code s})
     */
    static int[] selectWithCut(MemorySegment s, int n, int k, float cut, int limit) {
        int chunks = Parallel.THREADS > 1 && n >= 2 * CHUNK_MIN && Parallel.shareable(s)
                ? (int) Math.min(2L * Parallel.THREADS, n / CHUNK_MIN) : 1;
        int chunkLen = ceilTo((n + chunks - 1) / chunks, LANES);
        int initial = (int) Math.min(limit, 2L * limit / chunks / 4 + 64);
        Survivors[] found = new Survivors[chunks];
        Parallel.forRange(chunks, 1, (from, to) -> {
            for (int c = (int) from; c < to; c++) {
                int start = (int) Math.min((long) c * chunkLen, n);
                int end = (int) Math.min((long) start + chunkLen, n);
                found[c] = scan(s, start, end, cut, k, limit, initial);
            }
        }, s);

        long nan = Long.MAX_VALUE;
        boolean overflow = false;
        long total = 0;
        for (Survivors f : found) {
            if (f.nan >= 0) {
                nan = Math.min(nan, f.nan);
            }
            overflow |= f.overflow;
            total += f.above + f.ties;
        }
        if (nan != Long.MAX_VALUE) {
            // a chunk that overflowed stopped early and may hide an earlier NaN
            long first = firstNaN(s, 0, (int) nan);
            throw new NaNInputException("s", first >= 0 ? first : nan);
        }
        if (overflow || total < k) {
            return null;
        }
        long[] keys = new long[(int) total];
        int at = 0;
        for (Survivors f : found) {
            for (int i = 0; i < f.above; i++) {
                int p = f.aboveIdx[i];
                keys[at++] = key(s.getAtIndex(F32, p), p);
            }
            for (int i = 0; i < f.ties; i++) {
                int p = f.tieIdx[i];
                keys[at++] = key(s.getAtIndex(F32, p), p);
            }
        }
        return smallest(keys, k);
    }

    /** The exact full selection: every score becomes a key; select the k smallest keys, then sort them. */
    static int[] full(MemorySegment s, int n, int k) {
        long nan = firstNaN(s, 0, n);
        if (nan >= 0) {
            throw new NaNInputException("s", nan);
        }
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            keys[i] = key(s.getAtIndex(F32, i), i);
        }
        return smallest(keys, Math.min(k, n));
    }

    /**
     * A long whose ascending order is the total order: the high half is the score mapped to a signed int
     * that orders like the float, complemented for descending; the low half is the (non-negative) index.
     * Adding {@code +0.0f} turns {@code -0.0} into {@code +0.0} so the two tie and the index decides.
     */
    static long key(float score, int index) {
        int bits = Float.floatToRawIntBits(score + 0.0f);
        int ordered = bits ^ ((bits >> 31) & 0x7FFF_FFFF);
        return ((long) ~ordered << 32) | index;
    }

    /** Index of the first NaN in {@code s[from, to)}, or -1. */
    static long firstNaN(MemorySegment s, int from, int to) {
        int i = from;
        for (int bound = to - LANES + 1; i < bound; i += LANES) {
            FloatVector v = FloatVector.fromMemorySegment(SimdRows.F, s, 4L * i, SimdRows.LE);
            VectorMask<Float> nan = v.compare(VectorOperators.NE, v);
            if (nan.anyTrue()) {
                return i + nan.firstTrue();
            }
        }
        for (; i < to; i++) {
            float x = s.getAtIndex(F32, i);
            if (x != x) {
                return i;
            }
        }
        return -1;
    }

    // ---- the candidate pass ----

    /** What one chunk of the candidate pass found. */
    private static final class Survivors {
        int[] aboveIdx;
        int above;
        int[] tieIdx = new int[16];
        int ties;
        long nan = -1;
        boolean overflow;

        Survivors(int initial) {
            aboveIdx = new int[initial];
        }

        /**
         * Files position p with score x; false when the scan must stop (NaN, or the limit is passed).
         * Ties at the cut are kept only while fewer than {@code maxTies} are held.
         */
        boolean accept(int p, float x, float cut, int maxTies, int limit) {
            if (x > cut) {
                if (above == aboveIdx.length) {
                    if (above >= limit) {
                        overflow = true;
                        return false;
                    }
                    aboveIdx = Arrays.copyOf(aboveIdx, (int) Math.min(limit, 2L * above + 16));
                }
                aboveIdx[above++] = p;
            } else if (x == cut) {
                if (ties < maxTies) {
                    if (ties == tieIdx.length) {
                        tieIdx = Arrays.copyOf(tieIdx, (int) Math.min(maxTies, 2L * ties));
                    }
                    tieIdx[ties++] = p;
                }
            } else if (x != x) {
                nan = p;
                return false;
            }
            return true;
        }
    }

    /**
     * One chunk: a vector compare per {@link SimdRows#LANES} scores; only the rare lanes at or above the cut
     * (or NaN, which fails every ordered compare but {@code NE} with itself) are visited one by one. Once a
     * chunk holds {@code maxTies} ties at the cut, the loop switches to a strict compare so a flood of equal
     * scores (zeros from ReLU, BM25 misses) stays on the vector path.
     */
    private static Survivors scan(MemorySegment s, int from, int to, float cut, int maxTies, int limit, int initial) {
        Survivors r = new Survivors(initial);
        FloatVector c = FloatVector.broadcast(SimdRows.F, cut);
        int vecEnd = from + (to - from) / LANES * LANES;
        int i = from;
        for (; i < vecEnd && r.ties < maxTies; i += LANES) {
            FloatVector v = FloatVector.fromMemorySegment(SimdRows.F, s, 4L * i, SimdRows.LE);
            VectorMask<Float> hit = v.compare(VectorOperators.GE, c).or(v.compare(VectorOperators.NE, v));
            if (hit.anyTrue() && !visit(r, s, i, hit.toLong(), cut, maxTies, limit)) {
                return r;
            }
        }
        for (; i < vecEnd; i += LANES) {
            FloatVector v = FloatVector.fromMemorySegment(SimdRows.F, s, 4L * i, SimdRows.LE);
            VectorMask<Float> hit = v.compare(VectorOperators.GT, c).or(v.compare(VectorOperators.NE, v));
            if (hit.anyTrue() && !visit(r, s, i, hit.toLong(), cut, maxTies, limit)) {
                return r;
            }
        }
        for (; i < to; i++) {
            if (!r.accept(i, s.getAtIndex(F32, i), cut, maxTies, limit)) {
                return r;
            }
        }
        return r;
    }

    private static boolean visit(Survivors r, MemorySegment s, int base, long lanes, float cut, int maxTies,
                                 int limit) {
        for (long bits = lanes; bits != 0; bits &= bits - 1) {
            int p = base + Long.numberOfTrailingZeros(bits);
            if (!r.accept(p, s.getAtIndex(F32, p), cut, maxTies, limit)) {
                return false;
            }
        }
        return true;
    }

    // ---- the cut estimate ----

    /**
     * The j-th largest of m scores sampled one per stratum of n/m scores, at a hashed offset inside each
     * stratum (a fixed offset could alias with periodic data). NaN samples are skipped; NaN comes back when
     * fewer than j samples are numbers. A min-heap of j entries keeps the cost near one compare per sample.
     */
    private static float sampleCut(MemorySegment s, int n, int m, int j) {
        float[] heap = new float[j];
        int size = 0;
        for (int b = 0; b < m; b++) {
            // stratum b is [b*n/m, (b+1)*n/m): the strata cover all n, the tail included
            long start = (long) b * n / m;
            long width = (long) (b + 1) * n / m - start;
            long jitter = ((b * 0x9E37_79B9L) & 0xFFFF_FFFFL) * width >>> 32;
            float x = s.getAtIndex(F32, start + jitter);
            if (x != x) {
                continue;
            }
            if (size < j) {
                heap[size] = x;
                siftUp(heap, size++);
            } else if (x > heap[0]) {
                heap[0] = x;
                siftDown(heap, j);
            }
        }
        return size < j ? Float.NaN : heap[0];
    }

    private static void siftUp(float[] heap, int i) {
        float x = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] <= x) {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = x;
    }

    private static void siftDown(float[] heap, int size) {
        float x = heap[0];
        int i = 0;
        for (int child = 1; child < size; child = 2 * i + 1) {
            if (child + 1 < size && heap[child + 1] < heap[child]) {
                child++;
            }
            if (heap[child] >= x) {
                break;
            }
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = x;
    }

    // ---- exact selection over keys ----

    /** The indices of the {@code count} smallest keys, in key order (reorders {@code keys}). */
    private static int[] smallest(long[] keys, int count) {
        if (count < keys.length && count < keys.length / 4) {
            select(keys, count);
            Arrays.sort(keys, 0, count);
        } else {
            Arrays.sort(keys);
        }
        int[] idx = new int[count];
        for (int i = 0; i < count; i++) {
            idx[i] = (int) keys[i];
        }
        return idx;
    }

    /**
     * Quickselect: afterwards {@code keys[0, count)} hold the count smallest keys, in any order. Keys are
     * distinct (the index is part of each), so a two-way partition is exact; random pivots (median of three)
     * keep sorted and adversarial inputs linear on average.
     */
    private static void select(long[] keys, int count) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        int lo = 0;
        int hi = keys.length - 1;
        int target = count - 1;
        while (hi > lo) {
            if (hi - lo < 64) {
                Arrays.sort(keys, lo, hi + 1);
                return;
            }
            int a = random.nextInt(lo, hi + 1);
            int b = random.nextInt(lo, hi + 1);
            int c = random.nextInt(lo, hi + 1);
            int pivotAt = median(keys, a, b, c);
            long pivot = keys[pivotAt];
            swap(keys, pivotAt, hi);
            int store = lo;
            for (int i = lo; i < hi; i++) {
                if (keys[i] < pivot) {
                    swap(keys, i, store++);
                }
            }
            swap(keys, store, hi);
            if (store == target) {
                return;
            } else if (store < target) {
                lo = store + 1;
            } else {
                hi = store - 1;
            }
        }
    }

    private static int median(long[] keys, int a, int b, int c) {
        long x = keys[a];
        long y = keys[b];
        long z = keys[c];
        if (x < y) {
            return y < z ? b : (x < z ? c : a);
        }
        return x < z ? a : (y < z ? c : b);
    }

    private static void swap(long[] keys, int i, int j) {
        long t = keys[i];
        keys[i] = keys[j];
        keys[j] = t;
    }

    private static int ceilTo(int x, int multiple) {
        return (int) Math.min(Integer.MAX_VALUE, ((long) x + multiple - 1) / multiple * multiple);
    }
}
