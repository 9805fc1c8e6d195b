// bm25: the score of every document, from a doc-major forward index: document d's (term id, tf) pairs are
// pairs[2*docOffsets[d] .. 2*docOffsets[d+1]), each term once per document. The query comes as its distinct
// terms in query order with their idf (computed by the host from the index's document frequencies), held in
// a table every lane has a copy of. Every term of every document is scored (the published host packer
// dropped most of them; see docs/fpga.md), in double, and each document's contributions are summed in query
// order starting from 0.0, exactly as the oracle adds them, so the stored f32 scores equal the oracle's.
//
// Tail: with k > 0 the scores do not leave the card: they stream into the top-k unit (mempipe_tails.h) and
// only the k best documents come back in idx/val (bm25TopK in one run); a NaN score stops the selection and
// its document returns in status[1] (1 + document), as topk reports it.
#include "mempipe_kernels.h"
#include "mempipe_tails.h"

namespace {
const int MAX_QUERY_TERMS = 256;
}

extern "C" void bm25(const uint32_t* docOffsets, const uint32_t* pairs, const uint32_t* docLen,
                     const int32_t* qterms, const double* qidf, float* out, int32_t* idx, float* val, uint64_t* status,
                     int numDocs, int numTerms, double k1, double b, double avgLen, int k) {
#pragma HLS INTERFACE m_axi port = pairs bundle = gmem0
    if (numDocs < 0 || numTerms < 0 || numTerms > MAX_QUERY_TERMS || k < 0 || k > MP_MAX_K
        || k > numDocs) {
        return;  // no status word: the host reports a device fault
    }
    int32_t terms[MAX_QUERY_TERMS];
    double idf[MAX_QUERY_TERMS];
    double contribution[MAX_QUERY_TERMS];
#pragma HLS ARRAY_PARTITION variable = contribution complete
    for (int t = 0; t < numTerms; t++) {
        terms[t] = qterms[t];
        idf[t] = qidf[t];
    }
    static mp_topk_unit unit;
    unit.reset(k);
    uint64_t nanAt = 0;
    uint64_t trips = 0;
    for (int d = 0; d < numDocs; d++) {
        for (int t = 0; t < numTerms; t++) contribution[t] = 0.0;
        double lengthNorm = 1 - b + b * docLen[d] / avgLen;
        for (uint32_t p = docOffsets[d]; p < docOffsets[d + 1]; p++) {
#pragma HLS PIPELINE II = 1
            int32_t term = static_cast<int32_t>(pairs[2 * static_cast<uint64_t>(p)]);
            double tf = pairs[2 * static_cast<uint64_t>(p) + 1];
            trips++;
            for (int t = 0; t < numTerms; t++) {
#pragma HLS UNROLL
                if (terms[t] == term) contribution[t] = idf[t] * tf * (k1 + 1) / (tf + k1 * lengthNorm);
            }
        }
        double score = 0.0;
        for (int t = 0; t < numTerms; t++) score += contribution[t];
        float f = static_cast<float>(score);
        if (k == 0) {
            out[d] = f;
        } else if (f != f) {
            if (nanAt == 0) nanAt = 1 + static_cast<uint64_t>(d);
        } else {
            unit.offer(f, static_cast<uint32_t>(d));
        }
    }
    if (k > 0 && nanAt == 0) unit.finish(idx, val);
    status[0] = static_cast<uint64_t>(numDocs);
    status[1] = nanAt;
    status[2] = trips;
    status[3] = STATUS_MAGIC;
}
