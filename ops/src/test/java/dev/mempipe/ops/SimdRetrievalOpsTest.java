package dev.mempipe.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.NaNInputException;
import dev.mempipe.spi.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * SimdRetrievalOps against small scalar references written here: a full sort of (score, index) for topK, a
 * TreeSet for expandBlocks, per-element loops for threshold, bitmapToIndices and gather. Random cases print
 * their seed on failure; rerun one with {@code -Dtest='SimdRetrievalOpsTest#name' -Dmempipe.test.seed=N}.
 */
class SimdRetrievalOpsTest {
    private static final int[] SIZES = {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 1000, 100003};
    private static final long SEED = Long.getLong("mempipe.test.seed", System.nanoTime());
    private static final int SENTINEL = -7;
    private static final float VAL_SENTINEL = 42.5f;

    private final SimdRetrievalOps ops = new SimdRetrievalOps(Capabilities.all(), new SimdState());
    private Arena arena;

    @BeforeEach
    void open() {
        arena = Arena.ofShared(); // shared memory lets the large cases run split over the pool
    }

    @AfterEach
    void close() {
        arena.close();
    }

    // ---- topK ----

    private float[] referenceScores;
    private int[] referenceOrder;

    /**
     * The reference: every index sorted by score descending (-0.0 == +0.0), then index ascending; the order
     * of the last score array is kept, as the top k of the total order are a prefix of it.
     */
    private int[] referenceTopK(float[] s, int k) {
        if (s != referenceScores) {
            Comparator<Integer> order = (a, b) -> {
                int c = Float.compare(s[b] + 0.0f, s[a] + 0.0f);
                return c != 0 ? c : Integer.compare(a, b);
            };
            referenceOrder = IntStream.range(0, s.length).boxed().sorted(order).mapToInt(Integer::intValue)
                    .toArray();
            referenceScores = s;
        }
        return Arrays.copyOf(referenceOrder, Math.min(k, s.length));
    }

    private void assertTopK(Tensor s, float[] decoded, int k, String what) {
        int count = Math.min(k, decoded.length);
        Indices idx = sentinelIndices(count + 2);
        Tensor val = sentinelValues(count + 2);
        int got = ops.topK(s, k, idx, val);
        int[] want = referenceTopK(decoded, k);
        String msg = what + " n=" + decoded.length + " k=" + k + " seed=" + SEED;
        assertEquals(want.length, got, msg);
        int[] gotIdx = Arrays.copyOf(idx.toArray(), got);
        assertArrayEquals(want, gotIdx, msg);
        int[] wantBits = new int[got];
        int[] gotBits = new int[got];
        for (int i = 0; i < got; i++) {
            wantBits[i] = Float.floatToRawIntBits(decoded[want[i]]);
            gotBits[i] = Float.floatToRawIntBits(val.get(0, i));
        }
        assertArrayEquals(wantBits, gotBits, msg + ": val bits");
        assertEquals(SENTINEL, idx.get(got), msg + ": wrote past the result");
        assertEquals(VAL_SENTINEL, val.get(0, got), msg + ": wrote a value past the result");
    }

    private Indices sentinelIndices(int n) {
        Indices idx = Indices.allocate(arena, n);
        for (int i = 0; i < n; i++) {
            idx.set(i, SENTINEL);
        }
        return idx;
    }

    private Tensor sentinelValues(int n) {
        float[] v = new float[n];
        Arrays.fill(v, VAL_SENTINEL);
        return Tensor.vector(arena, v);
    }

    @Test
    void should_match_the_reference_for_awkward_sizes_and_random_k() {
        SplittableRandom r = new SplittableRandom(SEED);
        for (int n : SIZES) {
            for (int rep = 0; rep < (n > 10_000 ? 2 : 8); rep++) {
                float[] s = new float[n];
                int distinct = 1 + r.nextInt(Math.max(1, n)); // few distinct values: many ties
                for (int i = 0; i < n; i++) {
                    s[i] = rep % 2 == 0 ? (float) r.nextGaussian() : r.nextInt(distinct) - distinct / 2;
                }
                int k = rep == 0 ? 1 : 1 + r.nextInt(n > 10_000 ? Math.min(n, 5000) : n + 3);
                assertTopK(Tensor.vector(arena, s), s, k, "random rep=" + rep);
            }
        }
    }

    @Test
    void should_break_ties_by_index_when_all_scores_are_equal() {
        for (int n : SIZES) {
            float[] s = new float[n];
            Arrays.fill(s, 0.25f);
            for (int k : new int[] {1, 5, n, n + 1}) {
                assertTopK(Tensor.vector(arena, s), s, k, "all equal");
            }
        }
        float[] big = new float[1 << 20];
        Arrays.fill(big, -3f);
        Indices idx = Indices.allocate(arena, 2048);
        assertEquals(2048, ops.topK(Tensor.vector(arena, big), 2048, idx, null));
        assertArrayEquals(IntStream.range(0, 2048).toArray(), idx.toArray());
    }

    @Test
    void should_treat_negative_and_positive_zero_as_equal() {
        float[] s = {0.0f, -0.0f, 1f, -0.0f, 0.0f, -1f, -0.0f};
        assertTopK(Tensor.vector(arena, s), s, 4, "zeros");
        assertTopK(Tensor.vector(arena, s), s, 7, "zeros");
        // the same across the sampled path: a flood of signed zeros around a few positives
        SplittableRandom r = new SplittableRandom(SEED);
        float[] big = new float[100_003];
        for (int i = 0; i < big.length; i++) {
            big[i] = r.nextInt(50) == 0 ? r.nextFloat() : (r.nextBoolean() ? -0.0f : 0.0f);
        }
        assertTopK(Tensor.vector(arena, big), big, 4000, "zeros flood");
        assertTopK(Tensor.vector(arena, big), big, 1500, "zeros flood");
    }

    @Test
    void should_order_infinities_as_extreme_scores() {
        float inf = Float.POSITIVE_INFINITY;
        float[] s = {1f, -inf, inf, 0f, inf, -inf, Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE};
        for (int k = 1; k <= s.length + 1; k++) {
            assertTopK(Tensor.vector(arena, s), s, k, "infinities");
        }
        float[] big = new float[65_537];
        Arrays.fill(big, -inf);
        big[100] = inf;
        big[60_000] = inf;
        big[7] = 0f;
        assertTopK(Tensor.vector(arena, big), big, 3, "infinities");
        assertTopK(Tensor.vector(arena, big), big, 4000, "infinities");
    }

    @Test
    void should_select_from_sorted_and_reverse_sorted_scores() {
        for (int n : new int[] {33, 1000, 100_003}) {
            float[] up = new float[n];
            float[] down = new float[n];
            for (int i = 0; i < n; i++) {
                up[i] = i * 0.5f - 7;
                down[i] = -up[i];
            }
            for (int k : new int[] {1, 17, n / 20 + 1, n}) {
                assertTopK(Tensor.vector(arena, up), up, k, "ascending");
                assertTopK(Tensor.vector(arena, down), down, k, "descending");
            }
        }
    }

    @Test
    void should_return_min_of_k_and_n() {
        float[] one = {3f};
        assertTopK(Tensor.vector(arena, one), one, 1, "n=1");
        assertTopK(Tensor.vector(arena, one), one, 5, "n=1");
        Tensor empty = Tensor.allocate(arena, ElementType.F32, 1, 0);
        assertEquals(0, ops.topK(empty, 3, Indices.allocate(arena, 0), null));
    }

    @Test
    void should_keep_every_winner_when_ties_straddle_the_cut() {
        // Scores 0..9 with heavy ties; the cut is forced at each level so the tie rule decides at the cut.
        SplittableRandom r = new SplittableRandom(SEED);
        int n = 40_001;
        float[] s = new float[n];
        int nines = 0;
        for (int i = 0; i < n; i++) {
            s[i] = r.nextInt(10);
            nines += s[i] == 9 ? 1 : 0;
        }
        MemorySegment seg = Tensor.vector(arena, s).data();
        for (int k : new int[] {1, 100, nines - 1, nines, nines + 1, 20_000}) {
            int[] want = referenceTopK(s, k);
            for (float cut = 0; cut <= 9; cut++) {
                int[] got = SimdTopK.selectWithCut(seg, n, k, cut, n);
                long reaching = 0;
                for (float x : s) {
                    reaching += x >= cut ? 1 : 0;
                }
                if (reaching < k) {
                    assertNull(got, "cut " + cut + " leaves fewer than k=" + k);
                } else {
                    assertArrayEquals(want, got, "k=" + k + " cut=" + cut + " seed=" + SEED);
                }
            }
        }
    }

    @Test
    void should_fall_back_when_the_cut_lets_through_too_many() {
        float[] s = new float[70_001];
        for (int i = 0; i < s.length; i++) {
            s[i] = i % 1000;
        }
        MemorySegment seg = Tensor.vector(arena, s).data();
        assertNull(SimdTopK.selectWithCut(seg, s.length, 10, 0f, 500));
        assertArrayEquals(referenceTopK(s, 10), SimdTopK.selectWithCut(seg, s.length, 10, 998f, 500));
    }

    @Test
    void should_agree_between_the_sampled_and_the_full_path_on_a_million_scores() {
        SplittableRandom r = new SplittableRandom(SEED);
        int n = 1 << 20;
        float[] s = new float[n];
        for (int i = 0; i < n; i++) {
            s[i] = (float) r.nextGaussian();
        }
        MemorySegment seg = Tensor.vector(arena, s).data();
        int[] full = SimdTopK.full(seg, n, 65_536);
        for (int k : new int[] {1, 64, 2048, 65_536}) {
            int[] sampled = SimdTopK.sampled(seg, n, k);
            assertTrue(sampled != null, "the sample misled on plain Gaussian scores, k=" + k + " seed=" + SEED);
            assertArrayEquals(Arrays.copyOf(full, k), sampled, "k=" + k + " seed=" + SEED);
        }
    }

    @Test
    void should_stay_on_the_sampled_path_for_ascending_scores() {
        // n / 16384 leaves a tail of thousands of the best scores; the sample must cover it or every
        // ascending input would overflow the candidate limit and pay for the full selection
        int n = 282_938;
        float[] s = new float[n];
        for (int i = 0; i < n; i++) {
            s[i] = i;
        }
        MemorySegment seg = Tensor.vector(arena, s).data();
        for (int k : new int[] {1, 60, 2048}) {
            int[] got = SimdTopK.sampled(seg, n, k);
            assertTrue(got != null, "fell back for k=" + k);
            assertArrayEquals(IntStream.range(0, k).map(i -> n - 1 - i).toArray(), got);
        }
    }

    @Test
    void should_decode_every_element_type() {
        SplittableRandom r = new SplittableRandom(SEED);
        for (ElementType type : ElementType.values()) {
            for (int n : new int[] {1, 17, 1000, 20_000}) {
                float[] raw = new float[n];
                for (int i = 0; i < n; i++) {
                    raw[i] = (float) r.nextGaussian() * 3;
                }
                Tensor s = Tensor.encode(arena, type, raw, 1, n);
                float[] decoded = s.toFloatArray();
                for (int k : new int[] {1, n / 17 + 1, n}) {
                    assertTopK(s, decoded, k, type.toString());
                }
            }
        }
        // a negative scale decodes code 0 to -0.0, which ties with +0.0 and is written back as stored
        Tensor q = Tensor.allocate(arena, ElementType.I8, 1, 4);
        q.setScale(0, -0.5f);
        q.setCode(0, 0, 0);
        q.setCode(0, 1, -2);
        q.setCode(0, 2, 0);
        q.setCode(0, 3, 2);
        assertTopK(q, q.toFloatArray(), 4, "I8 negative scale");
    }

    @Test
    void should_reject_nan_with_its_position() {
        for (int n : new int[] {1, 9, 33, 1000, 100_003, 1 << 20}) {
            for (int at : new int[] {0, n / 2, n - 1}) {
                float[] s = new float[n];
                for (int i = 0; i < n; i++) {
                    s[i] = i % 97;
                }
                s[at] = Float.NaN;
                if (n > 100) {
                    s[n - 1 - (n - 1 - at) / 3] = Float.intBitsToFloat(0x7FA0_0001); // a later NaN, other payload
                }
                Tensor t = Tensor.vector(arena, s);
                for (int k : n > 100_003 ? new int[] {50, 2048} : new int[] {1, 50, n}) {
                    Indices idx = sentinelIndices(k);
                    Tensor val = sentinelValues(k);
                    NaNInputException e = assertThrows(NaNInputException.class, () -> ops.topK(t, k, idx, val));
                    assertEquals(at, e.position(), "n=" + n + " k=" + k);
                    assertEquals("s", e.argument());
                    assertUntouched(idx, val);
                }
            }
        }
    }

    @Test
    void should_reject_nan_from_a_nan_scale() {
        Tensor q = Tensor.allocate(arena, ElementType.I16, 1, 20);
        q.setScale(0, Float.NaN);
        NaNInputException e = assertThrows(NaNInputException.class,
                () -> ops.topK(q, 3, Indices.allocate(arena, 3), null));
        assertEquals(0, e.position());
    }

    @Test
    void should_reject_k_below_one_and_short_outputs_without_writing() {
        Tensor s = Tensor.vector(arena, 1f, 2f, 3f);
        for (int k : new int[] {0, -1, Integer.MIN_VALUE}) {
            Indices idx = sentinelIndices(3);
            Tensor val = sentinelValues(3);
            assertThrows(IllegalArgumentException.class, () -> ops.topK(s, k, idx, val));
            assertUntouched(idx, val);
        }
        Indices shortIdx = sentinelIndices(1);
        assertThrows(IllegalArgumentException.class, () -> ops.topK(s, 2, shortIdx, null));
        assertUntouched(shortIdx, sentinelValues(1));
        Indices idx = sentinelIndices(2);
        assertThrows(IllegalArgumentException.class, () -> ops.topK(s, 2, idx, sentinelValues(1)));
        assertUntouched(idx, sentinelValues(1));
    }

    private static void assertUntouched(Indices idx, Tensor val) {
        int[] sentinels = new int[idx.length()];
        Arrays.fill(sentinels, SENTINEL);
        assertArrayEquals(sentinels, idx.toArray(), "idx was written");
        float[] values = new float[val.cols()];
        Arrays.fill(values, VAL_SENTINEL);
        assertArrayEquals(values, val.toFloatArray(), "val was written");
    }

    @Test
    void should_run_large_ops_on_memory_confined_to_the_caller() {
        try (Arena confined = Arena.ofConfined()) {
            int n = 300_007;
            float[] s = new float[n];
            for (int i = 0; i < n; i++) {
                s[i] = (i * 7919) % 100_003;
            }
            Tensor t = Tensor.of(confined, s, 1, n);
            Indices idx = Indices.allocate(confined, 3000);
            assertEquals(3000, ops.topK(t, 3000, idx, null));
            assertArrayEquals(referenceTopK(s, 3000), idx.toArray());
            Bitmap bits = Bitmap.allocate(confined, n);
            ops.threshold(t, 50_000f, bits);
            for (int i = 0; i < n; i += 97) {
                assertEquals(s[i] > 50_000f, bits.get(i));
            }
            Tensor rows = t.reshape(n, 1);
            Tensor y = Tensor.allocate(confined, ElementType.F32, n, 1);
            int[] reversed = IntStream.range(0, n).map(i -> n - 1 - i).toArray();
            ops.gather(rows, Indices.of(confined, reversed), y);
            assertEquals(s[0], y.get(n - 1, 0));
            assertEquals(s[n - 1], y.get(0, 0));
        }
    }

    // ---- threshold and bitmapToIndices ----

    @Test
    void should_set_bits_strictly_above_the_threshold() {
        SplittableRandom r = new SplittableRandom(SEED);
        for (int n : new int[] {1, 3, 8, 17, 63, 64, 65, 127, 128, 1000, 200_003}) {
            float[] s = new float[n];
            for (int i = 0; i < n; i++) {
                s[i] = r.nextInt(5) - 2; // plenty of scores equal to T
            }
            s[0] = -0.0f;
            for (float t : new float[] {0f, -0.0f, 1f, -3f, 2f, Float.NEGATIVE_INFINITY}) {
                Bitmap bits = onesBitmap(n);
                ops.threshold(Tensor.vector(arena, s), t, bits);
                for (int i = 0; i < n; i++) {
                    if (s[i] > t != bits.get(i)) {
                        fail("n=" + n + " T=" + t + " bit " + i + " of score " + s[i] + " is " + bits.get(i));
                    }
                }
                long last = bits.word(Bitmap.wordCount(n) - 1);
                assertEquals(0, n % 64 == 0 ? 0 : last >>> (n % 64), "bits past n must be 0, n=" + n);
            }
        }
    }

    @Test
    void should_threshold_every_element_type() {
        float[] raw = new float[300];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (i % 23) - 11.5f;
        }
        for (ElementType type : ElementType.values()) {
            Tensor s = Tensor.encode(arena, type, raw, 1, raw.length);
            float[] decoded = s.toFloatArray();
            Bitmap bits = onesBitmap(raw.length);
            ops.threshold(s, decoded[5], bits);
            for (int i = 0; i < raw.length; i++) {
                assertEquals(decoded[i] > decoded[5], bits.get(i), type + " i=" + i);
            }
        }
    }

    @Test
    void should_reject_nan_in_threshold_with_its_position_and_leave_the_bitmap() {
        for (int n : new int[] {5, 64, 100, 200_003}) {
            for (int at : new int[] {0, n / 2, n - 1}) {
                float[] s = new float[n];
                s[at] = Float.NaN;
                s[n - 1] = Float.NaN;
                Bitmap bits = onesBitmap(n);
                NaNInputException e = assertThrows(NaNInputException.class,
                        () -> ops.threshold(Tensor.vector(arena, s), 0f, bits));
                assertEquals(at, e.position(), "n=" + n);
                for (long w = 0; w < Bitmap.wordCount(n); w++) {
                    assertEquals(-1L, bits.word(w), "word " + w + " was written");
                }
            }
        }
    }

    private Bitmap onesBitmap(long n) {
        Bitmap bits = Bitmap.allocate(arena, n);
        bits.words().fill((byte) -1);
        return bits;
    }

    @Test
    void should_list_set_bits_ascending() {
        SplittableRandom r = new SplittableRandom(SEED);
        for (int n : new int[] {0, 1, 63, 64, 65, 1000, 70_000}) {
            Bitmap bits = Bitmap.allocate(arena, n);
            TreeSet<Integer> want = new TreeSet<>();
            int density = 1 + r.nextInt(4);
            for (int i = 0; i < n; i++) {
                if (r.nextInt(density * 2) == 0 || i == n - 1) {
                    bits.set(i, true);
                    want.add(i);
                }
            }
            Indices out = sentinelIndices(want.size() + 1);
            assertEquals(want.size(), ops.bitmapToIndices(bits, out));
            int[] got = Arrays.copyOf(out.toArray(), want.size());
            assertArrayEquals(want.stream().mapToInt(Integer::intValue).toArray(), got, "n=" + n);
            assertEquals(SENTINEL, out.get(want.size()));
        }
        Bitmap all = Bitmap.allocate(arena, 10);
        for (int i = 0; i < 10; i++) {
            all.set(i, true);
        }
        Indices small = sentinelIndices(9);
        assertThrows(IllegalArgumentException.class, () -> ops.bitmapToIndices(all, small));
        assertUntouched(small, sentinelValues(0));
    }

    // ---- expandBlocks ----

    private static int[] referenceExpand(int[] blocks, int p, int l, int sink, int window) {
        TreeSet<Integer> set = new TreeSet<>();
        for (int b : blocks) {
            for (long t = (long) b * p; t < Math.min((long) (b + 1) * p, l); t++) {
                set.add((int) t);
            }
        }
        for (int t = 0; t < Math.min(sink, l); t++) {
            set.add(t);
        }
        for (long t = Math.max(0, (long) l - window); t < l; t++) {
            set.add((int) t);
        }
        return set.stream().mapToInt(Integer::intValue).toArray();
    }

    private void assertExpand(int[] blocks, int p, int l, int sink, int window) {
        int[] want = referenceExpand(blocks, p, l, sink, window);
        Indices out = sentinelIndices(want.length + 1);
        String msg = "blocks=" + Arrays.toString(blocks) + " P=" + p + " L=" + l + " sink=" + sink + " window="
                + window;
        assertEquals(want.length, ops.expandBlocks(Indices.of(arena, blocks), p, l, sink, window, out), msg);
        assertArrayEquals(want, Arrays.copyOf(out.toArray(), want.length), msg);
        assertEquals(SENTINEL, out.get(want.length), msg);
    }

    @Test
    void should_expand_overlapping_blocks_sink_and_window() {
        assertExpand(new int[] {2, 0, 2, 5}, 16, 90, 4, 10); // partial last block 5 = [80, 90)
        assertExpand(new int[] {}, 16, 90, 4, 10);
        assertExpand(new int[] {}, 16, 0, 4, 10); // L = 0
        assertExpand(new int[] {}, 1, 5, 100, 100); // sink and window beyond L
        assertExpand(new int[] {0}, 7, 5, 3, 0);
        assertExpand(new int[] {3, 3, 3}, 4, 16, 0, 0);
        assertExpand(new int[] {1}, 10, 30, 15, 12); // sink ends inside the block, window starts inside the next
        assertExpand(new int[] {4, 1}, 8, 40, 8, 40); // window covers everything
        SplittableRandom r = new SplittableRandom(SEED);
        for (int rep = 0; rep < 200; rep++) {
            int p = 1 + r.nextInt(70);
            int l = r.nextInt(rep < 195 ? 3000 : 131_073);
            int numBlocks = (l + p - 1) / p;
            int[] blocks = new int[numBlocks == 0 ? 0 : r.nextInt(Math.min(numBlocks * 2, 400) + 1)];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = r.nextInt(numBlocks);
            }
            assertExpand(blocks, p, l, r.nextInt(l + 5), r.nextInt(l + 5));
        }
    }

    @Test
    void should_reject_a_too_small_expand_output_without_writing() {
        Indices out = sentinelIndices(19);
        assertThrows(IllegalArgumentException.class,
                () -> ops.expandBlocks(Indices.of(arena, 1), 10, 30, 10, 0, out)); // needs 20
        assertUntouched(out, sentinelValues(0));
        Indices bad = sentinelIndices(100);
        assertThrows(IllegalArgumentException.class,
                () -> ops.expandBlocks(Indices.of(arena, 3), 10, 30, 0, 0, bad)); // block 3 is past L
        assertUntouched(bad, sentinelValues(0));
    }

    // ---- gather ----

    @Test
    void should_gather_rows_bit_exactly_for_every_element_type() {
        SplittableRandom r = new SplittableRandom(SEED);
        for (ElementType type : ElementType.values()) {
            for (int d : new int[] {0, 1, 7, 33}) {
                int n = 50;
                int size = type.byteSize();
                long xStride = (long) d * size + 3; // padded rows, odd offsets
                MemorySegment xData = arena.allocate(n * xStride + 5).asSlice(5);
                for (long b = 0; b < n * xStride; b++) {
                    xData.set(ValueLayout.JAVA_BYTE, b, (byte) r.nextInt(256)); // random bits: NaN payloads too
                }
                MemorySegment xScales = type.isQuantized() ? randomScales(arena, n, r) : null;
                Tensor x = Tensor.wrap(xData, type, n, d, xStride, xScales);
                int[] rows = {49, 0, 3, 3, 17, 49};
                long yStride = (long) d * size + 1;
                MemorySegment yData = arena.allocate(rows.length * yStride);
                MemorySegment yScales = type.isQuantized() ? arena.allocate(4L * rows.length) : null;
                Tensor y = Tensor.wrap(yData, type, rows.length, d, yStride, yScales);
                ops.gather(x, Indices.of(arena, rows), y);
                for (int j = 0; j < rows.length; j++) {
                    MemorySegment want = xData.asSlice(rows[j] * xStride, (long) d * size);
                    MemorySegment got = yData.asSlice(j * yStride, (long) d * size);
                    assertEquals(-1, want.mismatch(got), type + " d=" + d + " row " + j);
                    if (type.isQuantized()) {
                        assertEquals(xScales.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, rows[j]),
                                yScales.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, j), type + " scale " + j);
                    }
                }
            }
        }
    }

    private static MemorySegment randomScales(Arena arena, int n, SplittableRandom r) {
        MemorySegment s = arena.allocate(4L * n);
        for (int i = 0; i < n; i++) {
            // every other scale a signalling NaN with a payload, which a float round trip may not keep
            s.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i, i % 2 == 0 ? 0x7F80_0001 + i : r.nextInt());
        }
        return s;
    }

    @Test
    void should_gather_many_rows_in_parallel() {
        int n = 4096;
        int d = 128;
        float[] xs = new float[n * d];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = i;
        }
        Tensor x = Tensor.of(arena, xs, n, d);
        SplittableRandom r = new SplittableRandom(SEED);
        int[] rows = r.ints(20_000, 0, n).toArray();
        Tensor y = Tensor.allocate(arena, ElementType.F32, rows.length, d);
        ops.gather(x, Indices.of(arena, rows), y);
        for (int j = 0; j < rows.length; j++) {
            assertEquals(-1, x.data().asSlice(rows[j] * 512L, 512).mismatch(y.data().asSlice(j * 512L, 512)),
                    "row " + j);
        }
    }

    @Test
    void should_reject_an_out_of_range_gather_index_without_writing() {
        Tensor x = Tensor.vector(arena, 1f, 2f, 3f).reshape(3, 1);
        for (int bad : new int[] {3, -1, Integer.MAX_VALUE}) {
            float[] init = {9f, 9f, 9f};
            Tensor y = Tensor.of(arena, init, 3, 1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ops.gather(x, Indices.of(arena, 0, 1, bad), y));
            assertTrue(e.getMessage().contains(String.valueOf(bad)), e.getMessage());
            assertArrayEquals(init, y.toFloatArray());
        }
    }
}
