// threshold: bit i of the packed bitmap is set iff s[i] > t (strict), over the m*n scores of a row batch laid
// out row after row, 64 scores to a 64-bit word (bit i % 64 of word i / 64; bits past the end stay 0). The
// comparison is in double with t the host's f32 threshold widened, which orders exactly as the f32 comparison.
// A NaN stops the run and its flat position returns in status[1] (1 + position), as in topk.
#include "mempipe_kernels.h"

extern "C" void threshold(const float* s, uint64_t* bits, uint64_t* status, int64_t total, double t) {
#pragma HLS INTERFACE m_axi port = s bundle = gmem0
    if (total < 0) {
        return;  // no status word: the host reports a device fault
    }
    int64_t words = (total + 63) / 64;
    for (int64_t w = 0; w < words; w++) {
        uint64_t word = 0;
        for (int b = 0; b < 64; b++) {
#pragma HLS UNROLL factor = 16
            int64_t i = w * 64 + b;
            if (i >= total) break;
            float score = s[i];
            if (score != score) {
                status[0] = static_cast<uint64_t>(i);
                status[1] = 1 + static_cast<uint64_t>(i);
                status[2] = static_cast<uint64_t>(w);
                status[3] = STATUS_MAGIC;
                return;
            }
            if (static_cast<double>(score) > t) word |= uint64_t{1} << b;
        }
        bits[w] = word;
    }
    status[0] = static_cast<uint64_t>(total);
    status[1] = 0;
    status[2] = static_cast<uint64_t>(words);
    status[3] = STATUS_MAGIC;
}
