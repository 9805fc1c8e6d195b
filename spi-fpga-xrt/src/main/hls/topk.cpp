// topk: the k largest scores of each of m rows in the contract's total order (score descending, then index
// ascending, -0.0 equal to +0.0), with their scores, best first.
//
// Each score becomes one 64-bit key: the upper 32 bits are the score's bits made order-preserving (negative:
// all bits flipped; positive: sign bit set; -0.0 first turned into +0.0), the lower 32 bits the inverted index
// (0xffffffff - i), so that a larger key is a better entry and equal scores prefer the lower index. The unit
// keeps k <= MAX_K keys, fills them, then replaces the minimum when a larger key arrives (the minimum found by
// a comparator tree over the kept keys), and finally sorts its survivors with a bitonic network. A NaN stops
// the run: its flat position goes back in status[1] (1 + position) and the host throws NaNInputException.
#include "mempipe_kernels.h"

namespace {
const int MAX_K = 2048;

uint64_t order_key(float score, uint32_t index) {
    if (score == 0.0f) score = 0.0f;  // -0.0 -> +0.0
    uint32_t bits;
    std::memcpy(&bits, &score, sizeof bits);
    uint32_t ordered = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
    return (static_cast<uint64_t>(ordered) << 32) | (0xffffffffu - index);
}

int min_position(const uint64_t* kept, int count) {
    // a comparator tree in hardware (log2(MAX_K) levels); a scan in csim
    int at = 0;
    for (int i = 1; i < count; i++)
        if (kept[i] < kept[at]) at = i;
    return at;
}

// Descending bitonic sort of MAX_K keys (unused slots hold 0, below every real key).
void bitonic_sort_descending(uint64_t* a) {
    for (int size = 2; size <= MAX_K; size <<= 1)
        for (int stride = size >> 1; stride > 0; stride >>= 1)
            for (int i = 0; i < MAX_K; i++) {
#pragma HLS UNROLL factor = 16
                int partner = i ^ stride;
                if (partner > i) {
                    bool descending = (i & size) == 0;
                    if ((a[i] < a[partner]) == descending) {
                        uint64_t t = a[i];
                        a[i] = a[partner];
                        a[partner] = t;
                    }
                }
            }
}
}  // namespace

extern "C" void topk(const float* s, int32_t* idx, float* val, uint64_t* status, int m, int n, int k) {
#pragma HLS INTERFACE m_axi port = s bundle = gmem0
    if (k < 1 || k > MAX_K || k > n || m < 0) {
        return;  // no status word: the host reports a device fault
    }
    static uint64_t kept[MAX_K];
    uint64_t read = 0;
    for (int j = 0; j < m; j++) {
        int count = 0;
        int minAt = 0;
        for (int i = 0; i < MAX_K; i++) kept[i] = 0;
        for (int i = 0; i < n; i++) {
#pragma HLS PIPELINE II = 1
            float score = s[static_cast<int64_t>(j) * n + i];
            read++;
            if (score != score) {
                status[0] = read;
                status[1] = 1 + static_cast<uint64_t>(j) * n + i;
                status[2] = read;
                status[3] = STATUS_MAGIC;
                return;
            }
            uint64_t key = order_key(score, static_cast<uint32_t>(i));
            if (count < k) {
                kept[count++] = key;
                if (count == k) minAt = min_position(kept, count);
            } else if (key > kept[minAt]) {
                kept[minAt] = key;
                minAt = min_position(kept, count);
            }
        }
        bitonic_sort_descending(kept);
        for (int c = 0; c < k; c++) {
            uint32_t index = 0xffffffffu - static_cast<uint32_t>(kept[c]);
            idx[static_cast<int64_t>(j) * k + c] = static_cast<int32_t>(index);
            // the score as given (a -0.0 stays -0.0): the key only ranks it
            val[static_cast<int64_t>(j) * k + c] = s[static_cast<int64_t>(j) * n + index];
        }
    }
    status[0] = read;
    status[1] = 0;
    status[2] = read;
    status[3] = STATUS_MAGIC;
}
