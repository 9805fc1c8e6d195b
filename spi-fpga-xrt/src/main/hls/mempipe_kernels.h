// The interface table: every kernel, its arguments in order, each argument's kind and HBM bank. One source
// for the csim device's argument handling (xrt_csim.cpp), the generated Vitis connectivity file
// (connectivity.sh) and the Java binding (XrtKernels.java, checked against this table by a test through
// mempipe_csim_interface()).
//
// Kinds: B = buffer (xrtBufferHandle), I = 32-bit int, L = 64-bit int, D = float/double (passed as double
// through xrtRunSetArg's varargs). The bank is the HBM pseudo-channel a buffer argument is connected to
// (-1 for scalars).
#pragma once
#include "mempipe_hls.h"

struct mempipe_arg { const char* name; char kind; int bank; };
struct mempipe_kernel_entry { const char* name; int argc; mempipe_arg args[16]; };

static const mempipe_kernel_entry MEMPIPE_KERNELS[] = {
    {"score", 15, {{"keys", 'B', 0}, {"kscale", 'B', 1}, {"qf", 'B', 2}, {"qi", 'B', 2}, {"qscale", 'B', 2},
                   {"out", 'B', 3}, {"status", 'B', 3}, {"type", 'I', -1}, {"integerPath", 'I', -1},
                   {"m", 'I', -1}, {"n", 'I', -1}, {"d", 'I', -1}, {"rowWords", 'I', -1}, {"row0", 'L', -1},
                   {"col0", 'I', -1}}},
    {"topk", 7, {{"s", 'B', 4}, {"idx", 'B', 5}, {"val", 'B', 5}, {"status", 'B', 5}, {"m", 'I', -1},
                 {"n", 'I', -1}, {"k", 'I', -1}}},
    {"bm25", 12, {{"docOffsets", 'B', 6}, {"pairs", 'B', 6}, {"docLen", 'B', 7}, {"qterms", 'B', 7},
                  {"qidf", 'B', 7}, {"out", 'B', 7}, {"status", 'B', 7}, {"numDocs", 'I', -1},
                  {"numTerms", 'I', -1}, {"k1", 'D', -1}, {"b", 'D', -1}, {"avgLen", 'D', -1}}},
    {"threshold", 5, {{"s", 'B', 4}, {"bits", 'B', 5}, {"status", 'B', 5}, {"total", 'L', -1}, {"t", 'D', -1}}},
    {"groupmax", 6, {{"s", 'B', 4}, {"y", 'B', 5}, {"status", 'B', 5}, {"m", 'I', -1}, {"n", 'I', -1},
                     {"g", 'I', -1}}},
};
static const int MEMPIPE_KERNEL_COUNT = 5;

extern "C" {
void score(const word512* keys, const float* kscale, const float* qf, const int32_t* qi, const float* qscale,
           float* out, uint64_t* status, int type, int integerPath, int m, int n, int d, int rowWords,
           int64_t row0, int col0);
void topk(const float* s, int32_t* idx, float* val, uint64_t* status, int m, int n, int k);
void bm25(const uint32_t* docOffsets, const uint32_t* pairs, const uint32_t* docLen, const int32_t* qterms,
          const double* qidf, float* out, uint64_t* status, int numDocs, int numTerms, double k1, double b,
          double avgLen);
void threshold(const float* s, uint64_t* bits, uint64_t* status, int64_t total, double t);
void groupmax(const float* s, float* y, uint64_t* status, int m, int n, int g);
}
