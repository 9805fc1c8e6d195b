// The interface table: every kernel, its arguments in order, each argument's kind and HBM bank. One source for
// the csim device's argument handling (xrt_csim.cpp) and, through mempipe_csim_interface(), the check of the
// Java binding's copy (XrtKernels.java), from which the metadata-only xclbin and the Vitis connectivity file
// are generated (XclbinWriter).
//
// Kinds: B = buffer (xrtBufferHandle), I = 32-bit int, L = 64-bit int, D = float/double (passed as double
// through xrtRunSetArg's varargs). The bank is the HBM pseudo-channel a buffer argument is connected to
// (-1 for scalars). The score kernel's key ports keysC sit on bank C, one channel each; its small inputs on
// bank (C % 32) and its outputs on bank ((C + 1) % 32), C the build's channel count (8, 16 or 32).
#pragma once

#include <string>
#include <vector>

struct mempipe_arg { std::string name; char kind; int bank; };
struct mempipe_kernel_entry { std::string name; std::vector<mempipe_arg> args; };

inline std::vector<mempipe_arg> mempipe_score_args(int channels) {
    std::vector<mempipe_arg> a;
    for (int c = 0; c < channels; c++) a.push_back({"keys" + std::to_string(c), 'B', c});
    int in = channels % 32;
    int out = (channels + 1) % 32;
    for (const char* name : {"kscale", "qf", "qi", "qscale", "weights"}) a.push_back({name, 'B', in});
    for (const char* name : {"out", "idx", "val", "bits", "status"}) a.push_back({name, 'B', out});
    for (const char* name : {"op", "type", "integerPath", "m", "n", "d", "rowWords"}) a.push_back({name, 'I', -1});
    a.push_back({"row0", 'L', -1});
    for (const char* name : {"col0", "perKeyScale", "tail", "g", "k"}) a.push_back({name, 'I', -1});
    a.push_back({"t", 'D', -1});
    return a;
}

inline const std::vector<mempipe_kernel_entry>& mempipe_kernels() {
    static const std::vector<mempipe_kernel_entry> table = {
        {"score8", mempipe_score_args(8)},
        {"score16", mempipe_score_args(16)},
        {"score32", mempipe_score_args(32)},
        {"topk", {{"s", 'B', 4}, {"idx", 'B', 5}, {"val", 'B', 5}, {"status", 'B', 5}, {"m", 'I', -1},
                  {"n", 'I', -1}, {"k", 'I', -1}}},
        {"bm25", {{"docOffsets", 'B', 6}, {"pairs", 'B', 6}, {"docLen", 'B', 7}, {"qterms", 'B', 7},
                  {"qidf", 'B', 7}, {"out", 'B', 7}, {"idx", 'B', 7}, {"val", 'B', 7}, {"status", 'B', 7},
                  {"numDocs", 'I', -1}, {"numTerms", 'I', -1}, {"k1", 'D', -1}, {"b", 'D', -1},
                  {"avgLen", 'D', -1}, {"k", 'I', -1}}},
        {"threshold", {{"s", 'B', 4}, {"bits", 'B', 5}, {"status", 'B', 5}, {"total", 'L', -1}, {"t", 'D', -1}}},
        {"groupmax", {{"s", 'B', 4}, {"y", 'B', 5}, {"status", 'B', 5}, {"m", 'I', -1}, {"n", 'I', -1},
                      {"g", 'I', -1}}},
    };
    return table;
}
