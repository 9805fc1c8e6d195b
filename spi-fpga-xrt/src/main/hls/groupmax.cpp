// groupmax: y[j, c] = max of s[j, c*g .. min((c+1)*g, n)) for each of m rows (page score from token scores; the
// last group may be partial). The max is the contract's (Java's Math.max): a NaN wins, +0.0 beats -0.0, and
// an empty start is -infinity, so results equal the oracle's bit for bit.
#include "mempipe_kernels.h"
#include "mempipe_tails.h"

#include <algorithm>
#include <limits>

extern "C" void groupmax(const float* s, float* y, uint64_t* status, int m, int n, int g) {
#pragma HLS INTERFACE m_axi port = s bundle = gmem0
    if (m < 0 || n < 0 || g < 1) {
        return;  // no status word: the host reports a device fault
    }
    int groups = static_cast<int>((static_cast<int64_t>(n) + g - 1) / g);
    for (int j = 0; j < m; j++) {
        for (int c = 0; c < groups; c++) {
            float best = -std::numeric_limits<float>::infinity();
            int end = static_cast<int>(std::min<int64_t>(static_cast<int64_t>(c + 1) * g, n));
            for (int i = c * g; i < end; i++) {
#pragma HLS PIPELINE II = 1
                best = mp_contract_max(best, s[static_cast<int64_t>(j) * n + i]);
            }
            y[static_cast<int64_t>(j) * groups + c] = best;
        }
    }
    status[0] = static_cast<uint64_t>(m) * static_cast<uint64_t>(n);
    status[1] = 0;
    status[2] = static_cast<uint64_t>(m) * static_cast<uint64_t>(n);
    status[3] = STATUS_MAGIC;
}
