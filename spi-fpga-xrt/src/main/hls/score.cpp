// score: S[j, i] = <Q_j, K_(row0 + i)> over keys that stay in HBM, streamed as 512-bit words.
//
// Keys are packed row by row, each row zero-padded to rowWords whole words (16 F32, 32 F16/BF16/I16 or 64 I8
// lanes a word); a view of a pinned tensor starts at row row0 and element col0 of the packed rows. The query
// rows (at most MAX_QUERY_ROWS a run; the host splits larger batches) are read once into on-chip memory.
//
// Two paths, as the op contract says:
//  - integer x integer (I8/I16 keys and query codes): exact int64 accumulation, then
//    (double) sum * qscale * kscale, rounded once to f32: bit-exact with the contract;
//  - otherwise keys decode to f32 (BF16: shift; F16: exact widening; I8/I16: code * row scale in f32) and
//    accumulate in f32, one partial sum per lane of 16, reduced by a fixed tree at the end of the row.
//
// DATAFLOW: read_keys (one word a cycle, II=1: the bounding stage, whose trips csim counts in status[2]) ->
// decode_mac -> write_scores.
#include "mempipe_kernels.h"

#include <cmath>
#include <vector>

namespace {
const int LANES = 16;
const int MAX_QUERY_ROWS = 64;

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

struct key_word {
    word512 data;
    int64_t row;   // absolute key row
    int first;     // first lane of this word inside the view's columns
    int last;      // one past the last lane inside them
    int col;       // view column of lane `first`
    bool end;      // last word of the row
};

void read_keys(const word512* keys, int n, int d, int rowWords, int64_t row0, int col0, int lanes,
               hls::stream<key_word>& out, uint64_t& trips) {
    for (int i = 0; i < n; i++) {
        int64_t row = row0 + i;
        int firstWord = col0 / lanes;
        int lastWord = (col0 + d - 1) / lanes;
        for (int w = firstWord; w <= lastWord; w++) {
#pragma HLS PIPELINE II = 1
            key_word kw;
            kw.data = keys[row * rowWords + w];
            int wordStart = w * lanes;
            kw.first = col0 > wordStart ? col0 - wordStart : 0;
            kw.last = (col0 + d) < wordStart + lanes ? col0 + d - wordStart : lanes;
            kw.col = wordStart + kw.first - col0;
            kw.row = row;
            kw.end = w == lastWord;
            out.write(kw);
            trips++;
        }
    }
}

void decode_mac(hls::stream<key_word>& in, const float* kscale, const float* qf, const int32_t* qi,
                const float* qscale, int type, bool integerPath, int m, int n, int d, int lanes,
                hls::stream<float>& out) {
    float facc[MAX_QUERY_ROWS][LANES];
    int64_t iacc[MAX_QUERY_ROWS];
#pragma HLS ARRAY_PARTITION variable = facc complete dim = 2
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < m; j++) {
            iacc[j] = 0;
            for (int l = 0; l < LANES; l++) facc[j][l] = 0.0f;
        }
        bool end = false;
        int64_t row = 0;
        while (!end) {
            key_word kw = in.read();
            row = kw.row;
            end = kw.end;
            float rowScale = (type == MP_I8 || type == MP_I16) ? kscale[row] : 1.0f;
            for (int lane = kw.first; lane < kw.last; lane++) {
#pragma HLS UNROLL
                int c = kw.col + (lane - kw.first);
                int width = lanes == 16 ? 32 : lanes == 32 ? 16 : 8;
                uint32_t raw = static_cast<uint32_t>(kw.data.range(lane * width + width - 1, lane * width));
                if (integerPath) {
                    int32_t code = width == 8 ? static_cast<int8_t>(raw) : static_cast<int16_t>(raw);
                    for (int j = 0; j < m; j++) iacc[j] += static_cast<int64_t>(code) * qi[j * d + c];
                } else {
                    float k;
                    switch (type) {
                        case MP_F32: k = bits_to_float(raw); break;
                        case MP_F16: k = half_to_float(raw); break;
                        case MP_BF16: k = bits_to_float(raw << 16); break;
                        case MP_I8: k = static_cast<float>(static_cast<int8_t>(raw)) * rowScale; break;
                        default: k = static_cast<float>(static_cast<int16_t>(raw)) * rowScale; break;
                    }
                    for (int j = 0; j < m; j++) facc[j][c % LANES] += qf[j * d + c] * k;
                }
            }
        }
        for (int j = 0; j < m; j++) {
            if (integerPath) {
                out.write(static_cast<float>(static_cast<double>(iacc[j]) * static_cast<double>(qscale[j])
                                             * static_cast<double>(kscale[row])));
            } else {
                // fixed reduction tree over the 16 lane sums
                float t[LANES];
                for (int l = 0; l < LANES; l++) t[l] = facc[j][l];
                for (int width = LANES / 2; width >= 1; width /= 2)
                    for (int l = 0; l < width; l++) t[l] = t[l] + t[l + width];
                out.write(t[0]);
            }
        }
    }
}

void write_scores(hls::stream<float>& in, float* out, int m, int n) {
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++) {
#pragma HLS PIPELINE II = 1
            out[static_cast<int64_t>(j) * n + i] = in.read();
        }
}
}  // namespace

extern "C" void score(const word512* keys, const float* kscale, const float* qf, const int32_t* qi,
                      const float* qscale, float* out, uint64_t* status, int type, int integerPath, int m, int n,
                      int d, int rowWords, int64_t row0, int col0) {
#pragma HLS INTERFACE m_axi port = keys bundle = gmem0
#pragma HLS INTERFACE m_axi port = out bundle = gmem1
#pragma HLS DATAFLOW
    if (m < 1 || m > MAX_QUERY_ROWS || n < 0 || d < 1) {
        return;  // no status word: the host reports a device fault
    }
    int lanes = lanes_per_word(type);
    hls::stream<key_word> words;
    hls::stream<float> scores;
    uint64_t trips = 0;
    read_keys(keys, n, d, rowWords, row0, col0, lanes, words, trips);
    decode_mac(words, kscale, qf, qi, qscale, type, integerPath != 0, m, n, d, lanes, scores);
    write_scores(scores, out, m, n);
    status[0] = static_cast<uint64_t>(m) * static_cast<uint64_t>(n);
    status[1] = 0;
    status[2] = trips;
    status[3] = STATUS_MAGIC;
}
