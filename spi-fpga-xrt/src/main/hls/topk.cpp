// topk: the k largest scores of each of m rows in the contract's total order (score descending, then index
// ascending, -0.0 equal to +0.0), with their scores, best first, through the top-k unit of mempipe_tails.h
// (64-bit order-preserving keys, replace-the-minimum, bitonic sort of the survivors). A NaN stops the run:
// its flat position goes back in status[1] (1 + position) and the host throws NaNInputException.
#include "mempipe_kernels.h"
#include "mempipe_tails.h"

extern "C" void topk(const float* s, int32_t* idx, float* val, uint64_t* status, int m, int n, int k) {
#pragma HLS INTERFACE m_axi port = s bundle = gmem0
    if (k < 1 || k > MP_MAX_K || k > n || m < 0) {
        return;  // no status word: the host reports a device fault
    }
    static mp_topk_unit unit;
    uint64_t read = 0;
    for (int j = 0; j < m; j++) {
        unit.reset(k);
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
            unit.offer(score, static_cast<uint32_t>(i));
        }
        unit.finish(idx + static_cast<int64_t>(j) * k, val + static_cast<int64_t>(j) * k);
    }
    status[0] = read;
    status[1] = 0;
    status[2] = read;
    status[3] = STATUS_MAGIC;
}
