// The kernels' top functions. Their arguments, kinds and HBM banks are listed once, in the interface table
// (mempipe_interface.h), which the csim device, the generated Vitis connectivity file and the Java binding
// (XrtKernels.java, checked against it by a test) all follow; mempipe_csim_check() fails when a top function's
// parameter list disagrees with it.
#pragma once
#include "mempipe_hls.h"

// score: what the score kernel computes (the `op` argument) and which tail it ends in (`tail`).
enum mempipe_score_op { MP_OP_DOT = 0, MP_OP_QUEST_BOUND = 1, MP_OP_INDEXER = 2 };
enum mempipe_score_tail { MP_TAIL_SCORES = 0, MP_TAIL_TOPK = 1, MP_TAIL_GROUPMAX = 2, MP_TAIL_GROUPMAX_TOPK = 3,
                          MP_TAIL_THRESHOLD = 4 };

// The score kernel comes in three builds, one per HBM channel count: keys0 .. keys(C-1) are C m_axi ports, one
// per HBM pseudo-channel, each streaming one 512-bit word a cycle.
#define MP_KEYS_0_7 const word512 *keys0, const word512 *keys1, const word512 *keys2, const word512 *keys3, \
    const word512 *keys4, const word512 *keys5, const word512 *keys6, const word512 *keys7
#define MP_KEYS_8_15 const word512 *keys8, const word512 *keys9, const word512 *keys10, const word512 *keys11, \
    const word512 *keys12, const word512 *keys13, const word512 *keys14, const word512 *keys15
#define MP_KEYS_16_23 const word512 *keys16, const word512 *keys17, const word512 *keys18, const word512 *keys19, \
    const word512 *keys20, const word512 *keys21, const word512 *keys22, const word512 *keys23
#define MP_KEYS_24_31 const word512 *keys24, const word512 *keys25, const word512 *keys26, const word512 *keys27, \
    const word512 *keys28, const word512 *keys29, const word512 *keys30, const word512 *keys31
#define MP_SCORE_PARAMS const float *kscale, const float *qf, const int32_t *qi, const float *qscale,            \
    const float *weights, float *out, int32_t *idx, float *val, uint64_t *bits, uint64_t *status, int op,      \
    int type, int integerPath, int m, int n, int d, int rowWords, int64_t row0, int col0, int perKeyScale,     \
    int tail, int g, int k, double t

extern "C" {
void score8(MP_KEYS_0_7, MP_SCORE_PARAMS);
void score16(MP_KEYS_0_7, MP_KEYS_8_15, MP_SCORE_PARAMS);
void score32(MP_KEYS_0_7, MP_KEYS_8_15, MP_KEYS_16_23, MP_KEYS_24_31, MP_SCORE_PARAMS);
void topk(const float* s, int32_t* idx, float* val, uint64_t* status, int m, int n, int k);
void bm25(const uint32_t* docOffsets, const uint32_t* pairs, const uint32_t* docLen, const int32_t* qterms,
          const double* qidf, float* out, int32_t* idx, float* val, uint64_t* status, int numDocs, int numTerms,
          double k1, double b, double avgLen, int k);
void threshold(const float* s, uint64_t* bits, uint64_t* status, int64_t total, double t);
void groupmax(const float* s, float* y, uint64_t* status, int m, int n, int g);
}
