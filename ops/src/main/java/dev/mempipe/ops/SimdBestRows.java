package dev.mempipe.ops;

/**
 * The best rows seen so far for one query, in the contract's total order (score descending, then row ascending,
 * {@code -0.0 == +0.0}): a bounded max-heap of {@link SimdTopK#key} longs whose root is the worst kept row.
 * {@link #cut} is the root's score (minus infinity until full), so a caller rejects most scores with one float
 * comparison and calls {@link #offer} only for the rest (and for NaN, which the comparison lets through).
 *
 * <p>Not thread-safe: one per query per task; tasks merge theirs with {@link #offerAll}.
 */
final class SimdBestRows {
    private final long[] heap;
    private int size;
    private float cut = Float.NEGATIVE_INFINITY;

    SimdBestRows(int capacity) {
        heap = new long[Math.max(1, capacity)];
    }

    /** Scores strictly below this can never enter. */
    float cut() {
        return cut;
    }

    /** Keeps row {@code row} with {@code score} (not NaN) if it is among the best. */
    void offer(float score, int row) {
        long key = SimdTopK.key(score, row);
        if (size < heap.length) {
            heap[size] = key;
            siftUp(size++);
            if (size == heap.length) {
                cut = scoreOf(heap[0]);
            }
        } else if (key < heap[0]) {
            heap[0] = key;
            siftDown();
            cut = scoreOf(heap[0]);
        }
    }

    /** Offers every row {@code other} kept. */
    void offerAll(SimdBestRows other) {
        for (int i = 0; i < other.size; i++) {
            long key = other.heap[i];
            offer(scoreOf(key), (int) key);
        }
    }

    /** The kept rows best first into {@code rows[o, o + size)} and their scores into {@code scores}; the count. */
    int drain(int[] rows, float[] scores, int o) {
        long[] sorted = java.util.Arrays.copyOf(heap, size);
        java.util.Arrays.sort(sorted);
        for (int i = 0; i < sorted.length; i++) {
            rows[o + i] = (int) sorted[i];
            scores[o + i] = scoreOf(sorted[i]);
        }
        return sorted.length;
    }

    /** The score a key was made from ({@code -0.0} comes back as {@code +0.0}): the key's map is an involution. */
    static float scoreOf(long key) {
        int ordered = ~(int) (key >>> 32);
        return Float.intBitsToFloat(ordered ^ ((ordered >> 31) & 0x7FFF_FFFF));
    }

    private void siftUp(int i) {
        long x = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] >= x) {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = x;
    }

    private void siftDown() {
        long x = heap[0];
        int i = 0;
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            if (child + 1 < size && heap[child + 1] > heap[child]) {
                child++;
            }
            if (heap[child] <= x) {
                break;
            }
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = x;
    }
}
