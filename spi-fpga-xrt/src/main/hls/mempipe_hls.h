// mempipe's own stand-in for the few Vitis HLS types the kernels use, so that g++ compiles them for the csim
// device. Under Vitis (v++ -c), __SYNTHESIS__ or MEMPIPE_VITIS is defined and the real headers replace this
// file; the kernels use only what both provide: ap_uint<W> with range reads (word.range(hi, lo)) and
// hls::stream<T> with read()/write()/empty(). `#pragma HLS` lines are ignored by g++ (-Wno-unknown-pragmas).
//
// Written for this project; no code is taken from Xilinx's headers or the published GPU+FPGA repository.
#pragma once

#if defined(__SYNTHESIS__) || defined(MEMPIPE_VITIS)
#include <ap_int.h>
#include <hls_stream.h>
#else
#include <cstdint>
#include <cstring>
#include <deque>
#include <stdexcept>

// An unsigned integer of W bits (W a multiple of 64 up to 512 is all the kernels need), little-endian words.
template <int W>
struct ap_uint {
    static_assert(W > 0 && W <= 512 && W % 64 == 0, "the csim ap_uint holds multiples of 64 bits up to 512");
    static constexpr int WORDS = W / 64;
    uint64_t w[WORDS];

    ap_uint() { std::memset(w, 0, sizeof w); }

    // Bits [hi, lo] (inclusive, hi - lo < 64, not crossing a 64-bit word: lanes are 8, 16 or 32 bits wide).
    uint64_t range(int hi, int lo) const {
        int width = hi - lo + 1;
        uint64_t word = w[lo / 64] >> (lo % 64);
        return width == 64 ? word : word & ((uint64_t{1} << width) - 1);
    }

    void set_range(int hi, int lo, uint64_t value) {
        int width = hi - lo + 1;
        uint64_t mask = width == 64 ? ~uint64_t{0} : ((uint64_t{1} << width) - 1);
        w[lo / 64] = (w[lo / 64] & ~(mask << (lo % 64))) | ((value & mask) << (lo % 64));
    }
};

namespace hls {
// A FIFO between DATAFLOW stages. csim runs the stages one after another, so depth is unbounded here; the
// synthesized design sizes it with `#pragma HLS stream depth=`.
template <typename T>
class stream {
public:
    void write(const T& value) { fifo_.push_back(value); }
    T read() {
        if (fifo_.empty()) {
            throw std::logic_error("hls::stream read from an empty stream (a stage consumed more than its producer wrote)");
        }
        T value = fifo_.front();
        fifo_.pop_front();
        return value;
    }
    bool empty() const { return fifo_.empty(); }

private:
    std::deque<T> fifo_;
};
}  // namespace hls
#endif

// The kernels' shared vocabulary.
typedef ap_uint<512> word512;
static const int WORD_BYTES = 64;

// Element type codes, as the host binding passes them (XrtKernels.java keeps the same numbers).
enum mempipe_type { MP_F32 = 0, MP_F16 = 1, MP_BF16 = 2, MP_I8 = 3, MP_I16 = 4 };

// Status words every kernel writes at its end: [0] items processed, [1] kernel-specific (topK: 1 + the
// flat position of the first NaN, or 0), [2] trips of the bounding II=1 loop (csim's cycle count),
// [3] STATUS_MAGIC, written last: a run that completes without it computed nothing (XRT's noop device).
static const int STATUS_WORDS = 4;
static const uint64_t STATUS_MAGIC = 0x6d656d7069706521ull;  // "mempipe!"
