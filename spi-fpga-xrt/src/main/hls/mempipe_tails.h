// The retrieval units every kernel that ends in a selection shares: the top-k unit (topk.cpp, and the fused
// tails of score.cpp and bm25.cpp), the contract's max (groupmax.cpp and the score kernel's groupMax tail).
// One implementation of each, so a fused tail ranks and compares exactly as the stand-alone kernel does.
#pragma once
#include "mempipe_hls.h"

#include <cmath>

static const int MP_MAX_K = 2048;

// The contract's max (Java's Math.max): a NaN wins, +0.0 beats -0.0.
inline float mp_contract_max(float a, float b) {
    if (a != a) return a;
    if (a == 0.0f && b == 0.0f && std::signbit(a)) return b;
    return a >= b ? a : b;
}

// One 64-bit key per score: the upper 32 bits are the score's bits made order-preserving (negative: all bits
// flipped; positive: sign bit set; -0.0 first turned into +0.0), the lower 32 bits the inverted index
// (0xffffffff - i), so that a larger key is a better entry and equal scores prefer the lower index.
inline uint64_t mp_order_key(float score, uint32_t index) {
    if (score == 0.0f) score = 0.0f;  // -0.0 -> +0.0
    uint32_t bits;
    std::memcpy(&bits, &score, sizeof bits);
    uint32_t ordered = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
    return (static_cast<uint64_t>(ordered) << 32) | (0xffffffffu - index);
}

// The top-k unit: keeps k <= MP_MAX_K keys, fills them, then replaces the minimum when a larger key arrives
// (the minimum found by a comparator tree over the kept keys), and finally sorts its survivors with a bitonic
// network: the contract's total order. The scores ride along so that the unit returns them as given (a -0.0
// stays -0.0; the key only ranks it).
struct mp_topk_unit {
    uint64_t kept[MP_MAX_K];
    float score[MP_MAX_K];
    int k = 0;
    int count = 0;
    int minAt = 0;

    void reset(int keep) {
        k = keep;
        count = 0;
        minAt = 0;
        for (int i = 0; i < MP_MAX_K; i++) kept[i] = 0;  // below every real key
    }

    void offer(float s, uint32_t index) {
#pragma HLS PIPELINE II = 1
        uint64_t key = mp_order_key(s, index);
        if (count < k) {
            score[count] = s;
            kept[count++] = key;
            if (count == k) minAt = min_position();
        } else if (key > kept[minAt]) {
            kept[minAt] = key;
            score[minAt] = s;
            minAt = min_position();
        }
    }

    // Writes the k survivors best first: idx[c] and (when val is not null) val[c].
    void finish(int32_t* idx, float* val) {
        // sort (key, slot) pairs: the slot finds the score again
        static uint64_t order[MP_MAX_K];
        static int slot[MP_MAX_K];
        for (int i = 0; i < MP_MAX_K; i++) {
            order[i] = kept[i];
            slot[i] = i;
        }
        bitonic_sort_descending(order, slot);
        for (int c = 0; c < k; c++) {
            idx[c] = static_cast<int32_t>(0xffffffffu - static_cast<uint32_t>(order[c]));
            if (val != nullptr) val[c] = score[slot[c]];
        }
    }

private:
    int min_position() const {
        // a comparator tree in hardware (log2(MP_MAX_K) levels); a scan in csim
        int at = 0;
        for (int i = 1; i < count; i++)
            if (kept[i] < kept[at]) at = i;
        return at;
    }

    // Descending bitonic sort of MP_MAX_K keys (unused slots hold 0, below every real key), slots alongside.
    static void bitonic_sort_descending(uint64_t* a, int* s) {
        for (int size = 2; size <= MP_MAX_K; size <<= 1)
            for (int stride = size >> 1; stride > 0; stride >>= 1)
                for (int i = 0; i < MP_MAX_K; i++) {
#pragma HLS UNROLL factor = 16
                    int partner = i ^ stride;
                    if (partner > i) {
                        bool descending = (i & size) == 0;
                        if ((a[i] < a[partner]) == descending) {
                            uint64_t t = a[i];
                            a[i] = a[partner];
                            a[partner] = t;
                            int u = s[i];
                            s[i] = s[partner];
                            s[partner] = u;
                        }
                    }
                }
    }
};
