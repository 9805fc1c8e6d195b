// mempipe's GPU kernels, one source for CUDA (NVRTC, nvcc), HIP (hiprtc) and gsim (g++ on the CPU).
//
// Header-free on purpose: NVRTC and hiprtc compile it without include paths, and gsim.h supplies the few
// builtins it uses (threadIdx, blockIdx, blockDim, gridDim, __syncthreads, atomics, bit casts, expf).
// No fast-math: every float operation is the IEEE one; F16/BF16 are decoded and encoded by bit operations
// (round to nearest even), never by the toolkit's half types, so all three compilers see the same code.
//
// Element type codes are dev.mempipe.spi.ElementType's ordinals: 0 F32, 1 F16, 2 BF16, 3 I8, 4 I16.
// Rows of an input are `stride` bytes apart; integer types carry one f32 scale per row. Outputs are
// contiguous row-major buffers in the output's element type (the host copies them into strided tensors).
// Every kernel is written for any blockDim that is a power of two (the host picks a multiple of warpSize),
// and every thread reaches every __syncthreads.

#define MP_F32 0
#define MP_F16 1
#define MP_BF16 2
#define MP_I8 3
#define MP_I16 4

typedef unsigned char mp_u8;
typedef unsigned short mp_u16;
typedef unsigned int mp_u32;
typedef unsigned long long mp_u64;

__device__ float mp_f16_to_f32(mp_u16 h) {
    mp_u32 sign = ((mp_u32) h & 0x8000u) << 16;
    mp_u32 e = ((mp_u32) h >> 10) & 0x1fu;
    mp_u32 m = (mp_u32) h & 0x3ffu;
    if (e == 0) {
        float v = (float) m * 5.9604644775390625e-8f; // subnormal: m * 2^-24, exact
        return sign ? -v : v;
    }
    if (e == 31) {
        return __uint_as_float(sign | 0x7f800000u | (m << 13));
    }
    return __uint_as_float(sign | ((e + 112u) << 23) | (m << 13));
}

__device__ mp_u16 mp_f32_to_f16(float f) {
    mp_u32 x = __float_as_uint(f);
    mp_u32 sign = (x >> 16) & 0x8000u;
    mp_u32 ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) {
        return (mp_u16) (sign | 0x7e00u | ((ax >> 13) & 0x3ffu)); // NaN stays a quiet NaN
    }
    if (ax >= 0x477ff000u) {
        return (mp_u16) (sign | 0x7c00u); // 65520 and above round to infinity
    }
    if (ax < 0x38800000u) { // below 2^-14: a subnormal half (or zero)
        if (ax <= 0x33000000u) {
            return (mp_u16) sign; // at most 2^-25: half of the smallest subnormal, ties to even (0)
        }
        mp_u32 e = ax >> 23;
        mp_u32 m = (ax & 0x7fffffu) | 0x800000u;
        mp_u32 shift = 126u - e; // in [14, 24]
        mp_u32 r = m >> shift;
        mp_u32 rem = m & ((1u << shift) - 1u);
        mp_u32 half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (r & 1u))) {
            r++;
        }
        return (mp_u16) (sign | r);
    }
    mp_u32 r = ax - 0x38000000u; // rebias the exponent from 127 to 15
    r = (r + 0xfffu + ((r >> 13) & 1u)) >> 13;
    return (mp_u16) (sign | r);
}

__device__ float mp_bf16_to_f32(mp_u16 h) {
    return __uint_as_float((mp_u32) h << 16);
}

__device__ mp_u16 mp_f32_to_bf16(float f) {
    mp_u32 x = __float_as_uint(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) {
        return (mp_u16) ((x >> 16) | 0x40u);
    }
    return (mp_u16) ((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

// The integer code of element i of an I8/I16 row.
__device__ int mp_code(const mp_u8* row, int type, int i) {
    if (type == MP_I8) {
        return (int) ((const signed char*) row)[i];
    }
    return (int) ((const short*) row)[i];
}

// Element i of a row decoded to f32 as dev.mempipe.spi.Tensor#get does (integer types: code * scale in f32).
__device__ float mp_load(const mp_u8* row, int type, float scale, int i) {
    switch (type) {
        case MP_F32: return ((const float*) row)[i];
        case MP_F16: return mp_f16_to_f32(((const mp_u16*) row)[i]);
        case MP_BF16: return mp_bf16_to_f32(((const mp_u16*) row)[i]);
        default: return (float) mp_code(row, type, i) * scale;
    }
}

__device__ float mp_row_scale(const float* scales, long long r) {
    return scales == 0 ? 1.0f : scales[r];
}

// Stores f32 v as element i of a contiguous F32/F16/BF16 buffer (rounding to nearest even).
__device__ void mp_store(mp_u8* out, int type, long long i, float v) {
    if (type == MP_F32) {
        ((float*) out)[i] = v;
    } else if (type == MP_F16) {
        ((mp_u16*) out)[i] = mp_f32_to_f16(v);
    } else {
        ((mp_u16*) out)[i] = mp_f32_to_bf16(v);
    }
}

// <a, b> over d elements as the contract defines it: two integer rows accumulate their codes exactly in 64
// bits and scale once, (sum qa*qb) * scale_a * scale_b (in double, rounded once to f32); anything else
// accumulates decoded f32 products in f32.
__device__ float mp_row_dot(const mp_u8* a, int aType, float aScale, const mp_u8* b, int bType, float bScale,
                            int d) {
    if (aType >= MP_I8 && bType >= MP_I8) {
        long long acc = 0;
        for (int c = 0; c < d; c++) {
            acc += (long long) mp_code(a, aType, c) * (long long) mp_code(b, bType, c);
        }
        return (float) ((double) acc * (double) aScale * (double) bScale);
    }
    float acc = 0.0f;
    for (int c = 0; c < d; c++) {
        acc += mp_load(a, aType, aScale, c) * mp_load(b, bType, bScale, c);
    }
    return acc;
}

// The L2 norm of a decoded row, accumulated in f32.
__device__ float mp_row_norm(const mp_u8* a, int aType, float aScale, int d) {
    float acc = 0.0f;
    for (int c = 0; c < d; c++) {
        float x = mp_load(a, aType, aScale, c);
        acc += x * x;
    }
    return sqrtf(acc);
}

// S[j, i] = <Q_j, M_r> with r = rowIds[i], or i when rowIds is null (cosine: divided by both norms, 0 when
// either is 0): one output per thread, grid-stride over the m*n outputs.
extern "C" __global__ void mp_dot(const mp_u8* q, long long qStride, const float* qScales, int qType,
                                  const mp_u8* m, long long mStride, const float* mScales, int mType,
                                  const int* rowIds, int rows, int n, int d, mp_u8* s, int sType, int cosine) {
    long long total = (long long) rows * n;
    long long step = (long long) blockDim.x * gridDim.x;
    for (long long o = (long long) blockIdx.x * blockDim.x + threadIdx.x; o < total; o += step) {
        long long j = o / n;
        long long i = rowIds == 0 ? o % n : rowIds[o % n];
        const mp_u8* qr = q + j * qStride;
        const mp_u8* mr = m + i * mStride;
        float qs = mp_row_scale(qScales, j);
        float ms = mp_row_scale(mScales, i);
        float result = mp_row_dot(qr, qType, qs, mr, mType, ms, d);
        if (cosine) {
            float norms = mp_row_norm(qr, qType, qs, d) * mp_row_norm(mr, mType, ms, d);
            result = norms == 0.0f ? 0.0f : result / norms;
        }
        mp_store(s, sType, o, result);
    }
}

// Y = X W^T (project): Y[j, o] = <X_j, W_o>, the same value mp_dot computes (same order of accumulation, so
// the same bits), tiled: each block computes 16 x 16 outputs, staging 16 x 16 tiles of X and W in shared memory
// (decoded to f32, or as integer codes when both are integer types: those accumulate exactly in 64 bits and
// scale once). Each thread owns outputs t = threadIdx.x + k * blockDim.x of the tile (k < MP_PROJECT_PER_THREAD,
// so blockDim >= 256 / MP_PROJECT_PER_THREAD = 32); the loops over k are unrolled so the accumulators stay in
// registers. Tiles are walked grid-stride; padding beyond n, o or h is 0 and never stored.
#define MP_TILE 16
#define MP_PROJECT_PER_THREAD 8
extern "C" __global__ void mp_project(const mp_u8* x, long long xStride, const float* xScales, int xType,
                                      const mp_u8* w, long long wStride, const float* wScales, int wType,
                                      int n, int o, int h, mp_u8* y, int yType) {
    __shared__ float xf[MP_TILE][MP_TILE + 1];
    __shared__ float wf[MP_TILE][MP_TILE + 1];
    __shared__ int xc[MP_TILE][MP_TILE + 1];
    __shared__ int wc[MP_TILE][MP_TILE + 1];
    int integer = xType >= MP_I8 && wType >= MP_I8;
    long long tileRows = ((long long) n + MP_TILE - 1) / MP_TILE;
    long long tileCols = ((long long) o + MP_TILE - 1) / MP_TILE;
    for (long long tile = blockIdx.x; tile < tileRows * tileCols; tile += gridDim.x) {
        long long row0 = (tile / tileCols) * MP_TILE;
        long long col0 = (tile % tileCols) * MP_TILE;
        float acc[MP_PROJECT_PER_THREAD];
        long long iacc[MP_PROJECT_PER_THREAD];
#pragma unroll
        for (int k = 0; k < MP_PROJECT_PER_THREAD; k++) {
            acc[k] = 0.0f;
            iacc[k] = 0;
        }
        for (int c0 = 0; c0 < h; c0 += MP_TILE) {
            for (int t = threadIdx.x; t < MP_TILE * MP_TILE; t += blockDim.x) {
                int r = t / MP_TILE;
                int c = t % MP_TILE;
                long long xr = row0 + r;
                long long wr = col0 + r;
                int in = c0 + c < h;
                if (integer) {
                    xc[r][c] = in && xr < n ? mp_code(x + xr * xStride, xType, c0 + c) : 0;
                    wc[r][c] = in && wr < o ? mp_code(w + wr * wStride, wType, c0 + c) : 0;
                } else {
                    xf[r][c] = in && xr < n ? mp_load(x + xr * xStride, xType, mp_row_scale(xScales, xr), c0 + c) : 0.0f;
                    wf[r][c] = in && wr < o ? mp_load(w + wr * wStride, wType, mp_row_scale(wScales, wr), c0 + c) : 0.0f;
                }
            }
            __syncthreads();
            int width = h - c0 < MP_TILE ? h - c0 : MP_TILE; // padding is not added: -0.0 and NaN stay as mp_dot's
#pragma unroll
            for (int k = 0; k < MP_PROJECT_PER_THREAD; k++) {
                int t = threadIdx.x + k * blockDim.x;
                if (t < MP_TILE * MP_TILE) {
                    int r = t / MP_TILE;
                    int c = t % MP_TILE;
                    for (int i = 0; i < width; i++) {
                        if (integer) {
                            iacc[k] += (long long) xc[r][i] * (long long) wc[c][i];
                        } else {
                            acc[k] += xf[r][i] * wf[c][i];
                        }
                    }
                }
            }
            __syncthreads();
        }
#pragma unroll
        for (int k = 0; k < MP_PROJECT_PER_THREAD; k++) {
            int t = threadIdx.x + k * blockDim.x;
            long long j = row0 + t / MP_TILE;
            long long i = col0 + t % MP_TILE;
            if (t < MP_TILE * MP_TILE && j < n && i < o) {
                float v = integer ? (float) ((double) iacc[k] * (double) mp_row_scale(xScales, j)
                        * (double) mp_row_scale(wScales, i)) : acc[k];
                mp_store(y, yType, j * o + i, v);
            }
        }
    }
}

// Quest's bound s[j, p] = sum_i max(q_ji * min_p,jd+i, q_ji * max_p,jd+i) over query row j's band of the
// [pages, m*d] summaries, accumulated in f32: one output per thread.
extern "C" __global__ void mp_quest_bound(const mp_u8* q, long long qStride, const float* qScales, int qType,
                                          const mp_u8* mn, long long mnStride, const float* mnScales, int mnType,
                                          const mp_u8* mx, long long mxStride, const float* mxScales, int mxType,
                                          int rows, int pages, int d, mp_u8* s, int sType) {
    long long total = (long long) rows * pages;
    long long step = (long long) blockDim.x * gridDim.x;
    for (long long o = (long long) blockIdx.x * blockDim.x + threadIdx.x; o < total; o += step) {
        long long j = o / pages;
        long long p = o % pages;
        const mp_u8* qr = q + j * qStride;
        float qs = mp_row_scale(qScales, j);
        float lo = mp_row_scale(mnScales, p);
        float hi = mp_row_scale(mxScales, p);
        float acc = 0.0f;
        int band = (int) j * d; // query row j reads its KV head's columns [j*d, (j+1)*d) of the summaries
        for (int c = 0; c < d; c++) {
            float qi = mp_load(qr, qType, qs, c);
            float a = qi * mp_load(mn + p * mnStride, mnType, lo, band + c);
            float b = qi * mp_load(mx + p * mxStride, mxType, hi, band + c);
            acc += a > b ? a : b;
        }
        mp_store(s, sType, o, acc);
    }
}

// DeepSeek's lightning indexer s_t = sum_h w_h * ReLU(kScale_t * <q_h, K_t>): one key per thread.
extern "C" __global__ void mp_indexer_score(const mp_u8* q, long long qStride, const float* qScales, int qType,
                                            const mp_u8* w, const float* wScales, int wType, int heads,
                                            const mp_u8* k, long long kStride, const float* kScales, int kType,
                                            const mp_u8* ks, const float* ksScales, int ksType, int n, int d,
                                            mp_u8* s, int sType) {
    long long step = (long long) blockDim.x * gridDim.x;
    float wScale = mp_row_scale(wScales, 0);
    for (long long t = (long long) blockIdx.x * blockDim.x + threadIdx.x; t < n; t += step) {
        const mp_u8* kr = k + t * kStride;
        float kRowScale = mp_row_scale(kScales, t);
        float factor = ks == 0 ? 1.0f : mp_load(ks, ksType, mp_row_scale(ksScales, 0), (int) t);
        float acc = 0.0f;
        for (int h = 0; h < heads; h++) {
            float logit = factor * mp_row_dot(q + h * qStride, qType, mp_row_scale(qScales, h), kr, kType,
                                              kRowScale, d);
            acc += mp_load(w, wType, wScale, h) * (logit > 0.0f ? logit : 0.0f);
        }
        mp_store(s, sType, t, acc);
    }
}

// y[j, g] = max of s[j, g*G .. min((g+1)*G, n)): one output per thread. NaN propagates (as Math.max does).
extern "C" __global__ void mp_group_max(const mp_u8* s, long long sStride, const float* sScales, int sType,
                                        int rows, int n, int g, int groups, mp_u8* y, int yType) {
    long long total = (long long) rows * groups;
    long long step = (long long) blockDim.x * gridDim.x;
    for (long long o = (long long) blockIdx.x * blockDim.x + threadIdx.x; o < total; o += step) {
        long long j = o / groups;
        long long grp = o % groups;
        const mp_u8* row = s + j * sStride;
        float scale = mp_row_scale(sScales, j);
        long long end = (grp + 1) * (long long) g < n ? (grp + 1) * (long long) g : n;
        float best = -__uint_as_float(0x7f800000u);
        for (long long i = grp * g; i < end; i++) {
            float v = mp_load(row, sType, scale, (int) i);
            if (v > best || v != v) {
                best = v;
            }
            if (best != best) {
                break;
            }
        }
        mp_store(y, yType, o, best);
    }
}

// Bit p of the bitmap is set iff the score at flat position p (row p / n, column p % n) is > t; one 64-bit
// word per thread, so the bits past m*n in the last word come out 0. The first NaN's flat position goes to
// *nanAt (initialized by the host to m*n).
extern "C" __global__ void mp_threshold(const mp_u8* s, long long sStride, const float* sScales, int sType,
                                        int rows, int n, float t, mp_u64* words, long long wordCount,
                                        mp_u64* nanAt) {
    long long total = (long long) rows * n;
    long long step = (long long) blockDim.x * gridDim.x;
    for (long long w = (long long) blockIdx.x * blockDim.x + threadIdx.x; w < wordCount; w += step) {
        mp_u64 word = 0;
        for (int b = 0; b < 64; b++) {
            long long p = w * 64 + b;
            if (p >= total) {
                break;
            }
            long long j = p / n;
            float v = mp_load(s + j * sStride, sType, mp_row_scale(sScales, j), (int) (p % n));
            if (v != v) {
                atomicMin(nanAt, (mp_u64) p);
            } else if (v > t) {
                word |= 1ull << b;
            }
        }
        words[w] = word;
    }
}

// The 64-bit key whose descending order is the contract's total order: the score's order-preserving bits
// (-0.0 taken as +0.0) above the inverted index, so that equal scores put the lower index first.
__device__ mp_u64 mp_topk_key(float v, int i) {
    if (v == 0.0f) {
        v = 0.0f;
    }
    mp_u32 u = __float_as_uint(v);
    u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
    return ((mp_u64) u << 32) | (mp_u64) (0xffffffffu - (mp_u32) i);
}

// Top-k of each row, one block per row: (1) any NaN stops the row, its first column goes to nanAt[j];
// (2) an 8-pass radix select on the 64-bit keys finds the k-th largest key (keys are distinct); (3) the
// keys at or above it are collected into scratch (exactly k of them); (4) each survivor's rank is the number
// of survivors above it, which writes them best first. Ranking is O(k^2 / blockDim): the declared maxK bounds it.
extern "C" __global__ void mp_top_k(const mp_u8* s, long long sStride, const float* sScales, int sType,
                                    int n, int k, mp_u64* scratch, int* nanAt, int* idx, float* val) {
    __shared__ mp_u32 hist[256];
    __shared__ mp_u64 prefix;
    __shared__ mp_u64 mask;
    __shared__ mp_u32 remaining;
    __shared__ mp_u32 collected;
    long long j = blockIdx.x;
    const mp_u8* row = s + j * sStride;
    float scale = mp_row_scale(sScales, j);
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float v = mp_load(row, sType, scale, i);
        if (v != v) {
            atomicMin(&nanAt[j], i);
        }
    }
    if (threadIdx.x == 0) {
        prefix = 0;
        mask = 0;
        remaining = (mp_u32) k;
        collected = 0;
    }
    __syncthreads();
    if (nanAt[j] < n) {
        return; // uniform: every thread read the same value after the barrier
    }
    for (int pass = 7; pass >= 0; pass--) {
        for (int b = threadIdx.x; b < 256; b += blockDim.x) {
            hist[b] = 0;
        }
        __syncthreads();
        mp_u64 p = prefix;
        mp_u64 msk = mask;
        for (int i = threadIdx.x; i < n; i += blockDim.x) {
            mp_u64 key = mp_topk_key(mp_load(row, sType, scale, i), i);
            if ((key & msk) == p) {
                atomicAdd(&hist[(key >> (8 * pass)) & 255u], 1u);
            }
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            mp_u32 left = remaining;
            int digit = 255;
            while (digit > 0 && hist[digit] < left) {
                left -= hist[digit];
                digit--;
            }
            remaining = left;
            prefix = p | ((mp_u64) digit << (8 * pass));
            mask = msk | ((mp_u64) 255u << (8 * pass));
        }
        __syncthreads();
    }
    mp_u64 kth = prefix;
    mp_u64* mine = scratch + j * k;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        mp_u64 key = mp_topk_key(mp_load(row, sType, scale, i), i);
        if (key >= kth) {
            mine[atomicAdd(&collected, 1u)] = key;
        }
    }
    __syncthreads();
    for (int a = threadIdx.x; a < k; a += blockDim.x) {
        mp_u64 key = mine[a];
        int rank = 0;
        for (int b = 0; b < k; b++) {
            rank += mine[b] > key ? 1 : 0;
        }
        int i = (int) (0xffffffffu - (mp_u32) (key & 0xffffffffu));
        idx[j * k + rank] = i;
        val[j * k + rank] = mp_load(row, sType, scale, i); // the score as stored, -0.0 included
    }
}

// Reduces v over the block into red[0] (max when isMax, else sum); red has blockDim.x entries.
__device__ float mp_block_reduce(float* red, float v, bool isMax) {
    red[threadIdx.x] = v;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
        if ((int) threadIdx.x < half) {
            float other = red[threadIdx.x + half];
            red[threadIdx.x] = isMax ? (other > red[threadIdx.x] ? other : red[threadIdx.x])
                                     : red[threadIdx.x] + other;
        }
        __syncthreads();
    }
    float result = red[0];
    __syncthreads();
    return result;
}

// Stable softmax of scale * s in one block: the max first (so exp never overflows), then the sum of
// exp(x - max) in f32, then each probability. blockDim.x <= 1024.
extern "C" __global__ void mp_softmax(const mp_u8* s, const float* sScales, int sType, int n, float scale,
                                      mp_u8* p, int pType) {
    __shared__ float red[1024];
    float sc = mp_row_scale(sScales, 0);
    float mx = -__uint_as_float(0x7f800000u);
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float x = scale * mp_load(s, sType, sc, i);
        mx = x > mx ? x : mx;
    }
    mx = mp_block_reduce(red, mx, true);
    float sum = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        sum += expf(scale * mp_load(s, sType, sc, i) - mx);
    }
    sum = mp_block_reduce(red, sum, false);
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        mp_store(p, pType, i, expf(scale * mp_load(s, sType, sc, i) - mx) / sum);
    }
}

// Bit-exact row copy: dst row r = src row idx[r], rowBytes bytes each; one byte per thread, grid-stride.
// Integer tensors' scales are gathered by a second launch with rowBytes = stride = 4.
extern "C" __global__ void mp_gather(const mp_u8* src, long long srcStride, long long rowBytes, const int* idx,
                                     int count, mp_u8* dst) {
    long long total = (long long) count * rowBytes;
    long long step = (long long) blockDim.x * gridDim.x;
    for (long long o = (long long) blockIdx.x * blockDim.x + threadIdx.x; o < total; o += step) {
        long long r = o / rowBytes;
        dst[o] = src[(long long) idx[r] * srcStride + o % rowBytes];
    }
}

__device__ int mp_byte_size(int type) {
    return type == MP_F32 ? 4 : type == MP_I8 ? 1 : 2;
}

// Grouped-query attention for query head h = blockIdx.x over the selected rows (idx, or all `selected` rows
// when idx is null), reading KV head h / groupSize: an online softmax over tiles of blockDim rows. Each thread
// scores one row of the tile; the tile's max and sum come from block reductions; the running max m and sum l
// are the same in every thread; each thread owns output columns c = threadIdx.x + i * blockDim.x, kept in
// acc (global scratch, d floats per head) and rescaled by exp(m_old - m_new) whenever the max grows.
extern "C" __global__ void mp_attention(const mp_u8* q, long long qStride, const float* qScales, int qType,
                                        const mp_u8* k, long long kStride, const float* kScales, int kType,
                                        const mp_u8* v, long long vStride, const float* vScales, int vType,
                                        int groupSize, int d, const int* idx, int selected, float scale,
                                        float* acc, mp_u8* out, int outType) {
    __shared__ float p[1024];
    __shared__ float red[1024];
    int h = blockIdx.x;
    int kvCol = (h / groupSize) * d;
    const mp_u8* qr = q + (long long) h * qStride;
    float qs = mp_row_scale(qScales, h);
    float* a = acc + (long long) h * d;
    for (int c = threadIdx.x; c < d; c += blockDim.x) {
        a[c] = 0.0f;
    }
    float m = -__uint_as_float(0x7f800000u);
    float l = 0.0f;
    for (int base = 0; base < selected; base += blockDim.x) {
        int j = base + threadIdx.x;
        float logit = -__uint_as_float(0x7f800000u);
        if (j < selected) {
            long long row = idx == 0 ? j : idx[j];
            logit = scale * mp_row_dot(qr, qType, qs, k + row * kStride + (long long) kvCol * mp_byte_size(kType),
                                       kType, mp_row_scale(kScales, row), d);
        }
        float tileMax = mp_block_reduce(red, logit, true);
        float mNew = tileMax > m ? tileMax : m;
        float alpha = expf(m - mNew); // 0 on the first tile (m = -inf)
        float pj = j < selected ? expf(logit - mNew) : 0.0f;
        p[threadIdx.x] = pj;
        float tileSum = mp_block_reduce(red, pj, false); // its barriers also publish p[]
        l = l * alpha + tileSum;
        int count = selected - base < (int) blockDim.x ? selected - base : (int) blockDim.x;
        for (int c = threadIdx.x; c < d; c += blockDim.x) {
            float sum = 0.0f;
            for (int t = 0; t < count; t++) {
                long long row = idx == 0 ? base + t : idx[base + t];
                sum += p[t] * mp_load(v + row * vStride, vType, mp_row_scale(vScales, row), kvCol + c);
            }
            a[c] = a[c] * alpha + sum;
        }
        m = mNew;
        __syncthreads(); // p[] is rewritten by the next tile
    }
    for (int c = threadIdx.x; c < d; c += blockDim.x) {
        mp_store(out, outType, (long long) h * d + c, a[c] / l);
    }
}

// Soft memory read o[c] = sum_i a_i * V[i, c], accumulated in f32: one output column per thread.
extern "C" __global__ void mp_soft_retrieve(const mp_u8* w, const float* wScales, int wType, const mp_u8* v,
                                            long long vStride, const float* vScales, int vType, int n, int d,
                                            mp_u8* out, int outType) {
    long long step = (long long) blockDim.x * gridDim.x;
    float ws = mp_row_scale(wScales, 0);
    for (long long c = (long long) blockIdx.x * blockDim.x + threadIdx.x; c < d; c += step) {
        float sum = 0.0f;
        for (int i = 0; i < n; i++) {
            sum += mp_load(w, wType, ws, i) * mp_load(v + (long long) i * vStride, vType, mp_row_scale(vScales, i),
                                                       (int) c);
        }
        mp_store(out, outType, c, sum);
    }
}
