// score: relevancy scores over keys that stay in HBM, streamed as 512-bit words from C HBM channels (C = 8, 16
// or 32: the top functions score8, score16, score32), with an optional retrieval tail so that a fused op runs
// in one kernel run and only its result leaves the card.
//
// Layout: keys are packed row by row, each row zero-padded to rowWords whole words (16 F32, 32 F16/BF16/I16 or
// 64 I8 lanes a word). Row R lives on channel R % C, at word (R / C) * rowWords of that channel's buffer, so the
// C channels each deliver one word a cycle to C decode/MAC units working on different rows. A view of a pinned
// tensor starts at row row0 and element col0 of the packed rows. The query rows (at most MAX_QUERY_ROWS a run;
// the host splits larger batches of plain scores) are read once into on-chip memory.
//
// op (mempipe_score_op):
//  - MP_OP_DOT: S[j, i] = <Q_j, K_(row0 + i)>. Integer x integer (I8/I16 keys and query codes): exact int64
//    accumulation, then (double) sum * qscale * kscale rounded once to f32 (bit-exact with the contract);
//    otherwise keys decode to f32 (BF16: shift; F16: exact widening; I8/I16: code * row scale in f32) and
//    accumulate in f32, one partial sum per lane of 16, reduced by a fixed tree at the end of the row.
//  - MP_OP_QUEST_BOUND: s[j, p] = sum_i max(q_ji * min_p,ji', q_ji * max_p,ji') with i' = j*d + i (query j reads
//    band j of the page summaries). Each page row holds m*d columns; its min and max words alternate (word 2w
//    of the row is min word w, word 2w + 1 max word w), and the row scales of integer summaries come in pairs
//    (kscale[2R] for min, kscale[2R + 1] for max). Float path only.
//  - MP_OP_INDEXER: s[i] = sum_h w_h * ReLU(kScale_i * <q_h, K_i>) over H = m <= 64 heads: the m dot products of
//    the dot path, then the head reduction in f32 in head order (weights[0, H) the head weights, weights[H + i]
//    kScale_i when perKeyScale is 1).
//
// tail (mempipe_score_tail), over the scores in the order the merge stage delivers them (key by key, row by row):
//  - MP_TAIL_SCORES: out[j * n + i];
//  - MP_TAIL_TOPK: the top-k unit per row (mempipe_tails.h): idx/val [rows, k];
//  - MP_TAIL_GROUPMAX: out[j * ceil(n/g) + c], the contract's max over groups of g;
//  - MP_TAIL_GROUPMAX_TOPK: the group maxima into the top-k unit;
//  - MP_TAIL_THRESHOLD: bit j * n + i of bits set iff s > t (strict, in double as the threshold kernel).
// A NaN reaching a top-k or threshold tail stops the selection; the first one's flat position in the scores it
// ranks returns in status[1] (1 + position), as the stand-alone kernels report it.
//
// DATAFLOW: read_channel x C (one word a cycle each, II=1: the bounding stage, whose largest trip count csim
// returns in status[2]) -> decode_mac x C -> merge (rows back in order) -> tail.
#include "mempipe_kernels.h"
#include "mempipe_tails.h"

#include <cmath>
#include <limits>

namespace {
const int LANES = 16;
const int MAX_QUERY_ROWS = 64;
const int MAX_CHANNELS = 32;

int lanes_per_word(int type) {
    switch (type) {
        case MP_F32: return 16;
        case MP_I8: return 64;
        default: return 32;
    }
}

float bits_to_float(uint32_t bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

// IEEE binary16 -> binary32, exact (subnormals, infinities and NaN included).
float half_to_float(uint32_t h) {
    uint32_t sign = (h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    if (exp == 0) {
        // zero or subnormal: mant * 2^-24, exact in f32
        float v = std::ldexp(static_cast<float>(mant), -24);
        return sign ? -v : v;
    }
    if (exp == 31) {
        return bits_to_float(sign | 0x7f800000u | (mant << 13));
    }
    return bits_to_float(sign | ((exp + 112) << 23) | (mant << 13));
}

float decode(uint32_t raw, int type, float rowScale) {
    switch (type) {
        case MP_F32: return bits_to_float(raw);
        case MP_F16: return half_to_float(raw);
        case MP_BF16: return bits_to_float(raw << 16);
        case MP_I8: return static_cast<float>(static_cast<int8_t>(raw)) * rowScale;
        default: return static_cast<float>(static_cast<int16_t>(raw)) * rowScale;
    }
}

// Everything a stage needs besides its streams: the kernel's scalar arguments and its small input buffers.
struct score_params {
    const float* kscale;
    const float* qf;
    const int32_t* qi;
    const float* qscale;
    const float* weights;
    int op, type, m, n, d, rowWords, col0, tail, g, k;
    bool integerPath, perKeyScale;
    int64_t row0;
    double t;
    int cols;       // columns a key row holds for this op: d, or m * d for questBound
    int lanes;      // elements per word
    bool pairs;     // questBound: min and max words alternate
    int rowsOut;    // score rows: m, or 1 for the indexer
};

struct key_word {
    word512 data;
    word512 data2;  // questBound: the max word beside the min word
    int64_t row;    // absolute key row
    int first;      // first lane of this word inside the view's columns
    int last;       // one past the last lane inside them
    int col;        // view column of lane `first`
    bool end;       // last word of the row
};

// One HBM channel: the rows R = row0 + i with R % C == channel, one word a cycle (two for questBound's pairs).
void read_channel(const word512* keys, int channel, int channels, const score_params& p, hls::stream<key_word>& out,
                  uint64_t& trips) {
    int firstWord = p.col0 / p.lanes;
    int lastWord = (p.col0 + p.cols - 1) / p.lanes;
    int wordsPerRow = p.pairs ? 2 * p.rowWords : p.rowWords;
    int64_t first = ((channel - p.row0 % channels) % channels + channels) % channels;
    for (int64_t i = first; i < p.n; i += channels) {
        int64_t row = p.row0 + i;
        int64_t base = (row / channels) * wordsPerRow;
        for (int w = firstWord; w <= lastWord; w++) {
#pragma HLS PIPELINE II = 1
            key_word kw;
            if (p.pairs) {
                kw.data = keys[base + 2 * w];
                kw.data2 = keys[base + 2 * w + 1];
                trips += 2;
            } else {
                kw.data = keys[base + w];
                trips++;
            }
            int wordStart = w * p.lanes;
            kw.first = p.col0 > wordStart ? p.col0 - wordStart : 0;
            kw.last = (p.col0 + p.cols) < wordStart + p.lanes ? p.col0 + p.cols - wordStart : p.lanes;
            kw.col = wordStart + kw.first - p.col0;
            kw.row = row;
            kw.end = w == lastWord;
            out.write(kw);
        }
    }
}

// One decode/MAC unit per channel: rowsOut scores for each of the channel's rows.
void decode_mac(hls::stream<key_word>& in, int64_t rows, const score_params& p, hls::stream<float>& out) {
    static float facc[MAX_QUERY_ROWS][LANES];
    static int64_t iacc[MAX_QUERY_ROWS];
#pragma HLS ARRAY_PARTITION variable = facc complete dim = 2
    int width = p.lanes == 16 ? 32 : p.lanes == 32 ? 16 : 8;
    bool quantized = p.type == MP_I8 || p.type == MP_I16;
    for (int64_t r = 0; r < rows; r++) {
        for (int j = 0; j < p.m; j++) {
            iacc[j] = 0;
            for (int l = 0; l < LANES; l++) facc[j][l] = 0.0f;
        }
        bool end = false;
        int64_t row = 0;
        while (!end) {
            key_word kw = in.read();
            row = kw.row;
            end = kw.end;
            float scaleA = 1.0f, scaleB = 1.0f;
            if (quantized) {
                scaleA = p.pairs ? p.kscale[2 * row] : p.kscale[row];
                scaleB = p.pairs ? p.kscale[2 * row + 1] : scaleA;
            }
            for (int lane = kw.first; lane < kw.last; lane++) {
#pragma HLS UNROLL
                int c = kw.col + (lane - kw.first);
                uint32_t raw = static_cast<uint32_t>(kw.data.range(lane * width + width - 1, lane * width));
                if (p.pairs) {
                    // questBound: column c belongs to query j's band
                    uint32_t raw2 = static_cast<uint32_t>(kw.data2.range(lane * width + width - 1, lane * width));
                    float q = p.qf[c];
                    float lo = q * decode(raw, p.type, scaleA);
                    float hi = q * decode(raw2, p.type, scaleB);
                    facc[c / p.d][c % LANES] += lo > hi ? lo : hi;
                } else if (p.integerPath) {
                    int32_t code = width == 8 ? static_cast<int8_t>(raw) : static_cast<int16_t>(raw);
                    for (int j = 0; j < p.m; j++) iacc[j] += static_cast<int64_t>(code) * p.qi[j * p.d + c];
                } else {
                    float key = decode(raw, p.type, scaleA);
                    for (int j = 0; j < p.m; j++) facc[j][c % LANES] += p.qf[j * p.d + c] * key;
                }
            }
        }
        float indexer = 0.0f;
        for (int j = 0; j < p.m; j++) {
            float value;
            if (p.integerPath) {
                value = static_cast<float>(static_cast<double>(iacc[j]) * static_cast<double>(p.qscale[j])
                                           * static_cast<double>(p.kscale[row]));
            } else {
                // fixed reduction tree over the 16 lane sums
                float t[LANES];
                for (int l = 0; l < LANES; l++) t[l] = facc[j][l];
                for (int half = LANES / 2; half >= 1; half /= 2)
                    for (int l = 0; l < half; l++) t[l] = t[l] + t[l + half];
                value = t[0];
            }
            if (p.op == MP_OP_INDEXER) {
                float keyScale = p.perKeyScale ? p.weights[p.m + (row - p.row0)] : 1.0f;
                float logit = keyScale * value;
                indexer += p.weights[j] * (logit > 0.0f ? logit : 0.0f);
            } else {
                out.write(value);
            }
        }
        if (p.op == MP_OP_INDEXER) out.write(indexer);
    }
}

// Rows back in key order: row i came from channel (row0 + i) % C.
void merge(hls::stream<float>* lanes, int channels, const score_params& p, hls::stream<float>& out) {
    for (int64_t i = 0; i < p.n; i++) {
        int c = static_cast<int>((p.row0 + i) % channels);
        for (int j = 0; j < p.rowsOut; j++) {
#pragma HLS PIPELINE II = 1
            out.write(lanes[c].read());
        }
    }
}

// The tail: where the scores go. Returns 1 + the flat position of the first NaN a selection met, or 0.
uint64_t tail(hls::stream<float>& in, const score_params& p, float* out, int32_t* idx, float* val, uint64_t* bits) {
    static mp_topk_unit units[MAX_QUERY_ROWS];
    static float best[MAX_QUERY_ROWS];
    const uint64_t NONE = std::numeric_limits<uint64_t>::max();
    uint64_t nanAt = NONE;
    int64_t groups = p.g > 0 ? (static_cast<int64_t>(p.n) + p.g - 1) / p.g : 0;
    bool topk = p.tail == MP_TAIL_TOPK || p.tail == MP_TAIL_GROUPMAX_TOPK;
    for (int j = 0; j < p.rowsOut; j++) {
        if (topk) units[j].reset(p.k);
        best[j] = -std::numeric_limits<float>::infinity();
    }
    int64_t words = (static_cast<int64_t>(p.rowsOut) * p.n + 63) / 64;
    if (p.tail == MP_TAIL_THRESHOLD)
        for (int64_t w = 0; w < words; w++) bits[w] = 0;
    for (int64_t i = 0; i < p.n; i++) {
        for (int j = 0; j < p.rowsOut; j++) {
#pragma HLS PIPELINE II = 1
            float s = in.read();
            uint64_t flat = static_cast<uint64_t>(j) * p.n + i;
            switch (p.tail) {
                case MP_TAIL_SCORES: out[flat] = s; break;
                case MP_TAIL_TOPK:
                    if (s != s) {
                        if (flat < nanAt) nanAt = flat;
                    } else {
                        units[j].offer(s, static_cast<uint32_t>(i));
                    }
                    break;
                case MP_TAIL_THRESHOLD:
                    if (s != s) {
                        if (flat < nanAt) nanAt = flat;
                    } else if (static_cast<double>(s) > p.t) {
                        bits[flat / 64] |= uint64_t{1} << (flat % 64);
                    }
                    break;
                default: {  // the group maxima, then to HBM or into the top-k unit
                    best[j] = mp_contract_max(best[j], s);
                    if ((i + 1) % p.g == 0 || i + 1 == p.n) {
                        int64_t c = i / p.g;
                        float y = best[j];
                        best[j] = -std::numeric_limits<float>::infinity();
                        uint64_t at = static_cast<uint64_t>(j) * groups + c;
                        if (p.tail == MP_TAIL_GROUPMAX) {
                            out[at] = y;
                        } else if (y != y) {
                            if (at < nanAt) nanAt = at;
                        } else {
                            units[j].offer(y, static_cast<uint32_t>(c));
                        }
                    }
                }
            }
        }
    }
    if (nanAt != NONE) return 1 + nanAt;
    if (topk)
        for (int j = 0; j < p.rowsOut; j++)
            units[j].finish(idx + static_cast<int64_t>(j) * p.k, val + static_cast<int64_t>(j) * p.k);
    return 0;
}

template <int C>
void score_channels(const word512* const* keys, const float* kscale, const float* qf, const int32_t* qi,
                    const float* qscale, const float* weights, float* out, int32_t* idx, float* val, uint64_t* bits,
                    uint64_t* status, int op, int type, int integerPath, int m, int n, int d, int rowWords,
                    int64_t row0, int col0, int perKeyScale, int tail_kind, int g, int k, double t) {
#pragma HLS DATAFLOW
    score_params p{kscale, qf, qi, qscale, weights, op, type, m, n, d, rowWords, col0, tail_kind, g, k,
                   integerPath != 0, perKeyScale != 0, row0, t, 0, 0, false, 0};
    bool selects = tail_kind == MP_TAIL_TOPK || tail_kind == MP_TAIL_GROUPMAX_TOPK;
    bool grouped = tail_kind == MP_TAIL_GROUPMAX || tail_kind == MP_TAIL_GROUPMAX_TOPK;
    int64_t ranked = grouped && g > 0 ? (static_cast<int64_t>(n) + g - 1) / g : n;
    if (m < 1 || m > MAX_QUERY_ROWS || n < 0 || d < 1 || row0 < 0 || col0 < 0 || op < MP_OP_DOT
        || op > MP_OP_INDEXER || tail_kind < MP_TAIL_SCORES || tail_kind > MP_TAIL_THRESHOLD
        || (grouped && g < 1) || (selects && (k < 1 || k > MP_MAX_K || k > ranked))
        || (op == MP_OP_QUEST_BOUND && integerPath) || (op != MP_OP_DOT && grouped)) {
        return;  // no status word: the host reports a device fault
    }
    p.cols = op == MP_OP_QUEST_BOUND ? m * d : d;
    p.lanes = lanes_per_word(type);
    p.pairs = op == MP_OP_QUEST_BOUND;
    p.rowsOut = op == MP_OP_INDEXER ? 1 : m;
    hls::stream<key_word> words[C];
    hls::stream<float> scores[C];
    hls::stream<float> merged;
    uint64_t trips[C];
    uint64_t bounding = 0;
    for (int c = 0; c < C; c++) {
#pragma HLS UNROLL
        // C readers and C MAC units run side by side on the card; csim runs them one after another
        trips[c] = 0;
        read_channel(keys[c], c, C, p, words[c], trips[c]);
        int64_t first = ((c - row0 % C) % C + C) % C;
        int64_t rows = n > first ? (n - first + C - 1) / C : 0;
        decode_mac(words[c], rows, p, scores[c]);
        if (trips[c] > bounding) bounding = trips[c];
    }
    merge(scores, C, p, merged);
    uint64_t nan = tail(merged, p, out, idx, val, bits);
    status[0] = static_cast<uint64_t>(p.rowsOut) * static_cast<uint64_t>(n);
    status[1] = nan;
    status[2] = bounding;
    status[3] = STATUS_MAGIC;
}
}  // namespace

#define MP_STR(x) #x
#define MP_AXI(name) _Pragma(MP_STR(HLS INTERFACE m_axi port = name bundle = name))
#define MP_SCORE_ARG_NAMES kscale, qf, qi, qscale, weights, out, idx, val, bits, status, op, type, integerPath, m, n, \
    d, rowWords, row0, col0, perKeyScale, tail, g, k, t

// Each key port is its own m_axi bundle, connected to its own HBM pseudo-channel (the interface table's bank).
extern "C" void score8(MP_KEYS_0_7, MP_SCORE_PARAMS) {
    MP_AXI(keys0) MP_AXI(keys1) MP_AXI(keys2) MP_AXI(keys3) MP_AXI(keys4) MP_AXI(keys5) MP_AXI(keys6) MP_AXI(keys7)
    const word512* keys[8] = {keys0, keys1, keys2, keys3, keys4, keys5, keys6, keys7};
    score_channels<8>(keys, MP_SCORE_ARG_NAMES);
}

extern "C" void score16(MP_KEYS_0_7, MP_KEYS_8_15, MP_SCORE_PARAMS) {
    MP_AXI(keys0) MP_AXI(keys1) MP_AXI(keys2) MP_AXI(keys3) MP_AXI(keys4) MP_AXI(keys5) MP_AXI(keys6) MP_AXI(keys7)
    MP_AXI(keys8) MP_AXI(keys9) MP_AXI(keys10) MP_AXI(keys11) MP_AXI(keys12) MP_AXI(keys13) MP_AXI(keys14)
    MP_AXI(keys15)
    const word512* keys[16] = {keys0, keys1, keys2, keys3, keys4, keys5, keys6, keys7,
                               keys8, keys9, keys10, keys11, keys12, keys13, keys14, keys15};
    score_channels<16>(keys, MP_SCORE_ARG_NAMES);
}

extern "C" void score32(MP_KEYS_0_7, MP_KEYS_8_15, MP_KEYS_16_23, MP_KEYS_24_31, MP_SCORE_PARAMS) {
    MP_AXI(keys0) MP_AXI(keys1) MP_AXI(keys2) MP_AXI(keys3) MP_AXI(keys4) MP_AXI(keys5) MP_AXI(keys6) MP_AXI(keys7)
    MP_AXI(keys8) MP_AXI(keys9) MP_AXI(keys10) MP_AXI(keys11) MP_AXI(keys12) MP_AXI(keys13) MP_AXI(keys14)
    MP_AXI(keys15) MP_AXI(keys16) MP_AXI(keys17) MP_AXI(keys18) MP_AXI(keys19) MP_AXI(keys20) MP_AXI(keys21)
    MP_AXI(keys22) MP_AXI(keys23) MP_AXI(keys24) MP_AXI(keys25) MP_AXI(keys26) MP_AXI(keys27) MP_AXI(keys28)
    MP_AXI(keys29) MP_AXI(keys30) MP_AXI(keys31)
    const word512* keys[32] = {keys0, keys1, keys2, keys3, keys4, keys5, keys6, keys7,
                               keys8, keys9, keys10, keys11, keys12, keys13, keys14, keys15,
                               keys16, keys17, keys18, keys19, keys20, keys21, keys22, keys23,
                               keys24, keys25, keys26, keys27, keys28, keys29, keys30, keys31};
    score_channels<32>(keys, MP_SCORE_ARG_NAMES);
}
