// gsim: runs kernels written in the common CUDA/HIP dialect on the CPU, so that the same source mempipe
// compiles with NVRTC/nvcc/hiprtc builds with g++ -std=c++20 and is tested without a GPU.
//
// Model: a launch runs its blocks one at a time and __shared__ variables are static storage (one block at a
// time uses them; launches are serialized). The GPU threads of a block run in one of two ways:
//  - threads: each GPU thread is one OS thread (all live for the whole launch and walk the blocks together),
//    __syncthreads is a std::barrier over the block's threads: real concurrency, so atomics race for real;
//  - fibers (the default, for speed on small CI machines): each GPU thread is a ucontext fiber on the calling
//    thread; __syncthreads yields to a scheduler that runs every other fiber of the block up to the same
//    barrier before resuming any, which is exactly a barrier's guarantee.
// warpSize is a runtime value (32 or 64) so that code sized by it is exercised both ways.
// Only what mempipe's kernels use is here.
#pragma once

#include <atomic>
#include <barrier>
#include <bit>
#include <cmath>
#include <cstdint>

struct dim3 {
    unsigned int x = 1, y = 1, z = 1;
};

namespace gsim {
extern thread_local dim3 thread_idx;
extern thread_local dim3 block_idx;
extern dim3 block_dim;
extern dim3 grid_dim;
extern int warp_size;
extern thread_local std::barrier<>* block_barrier;
void yield_to_scheduler();
}

#define threadIdx (gsim::thread_idx)
#define blockIdx (gsim::block_idx)
#define blockDim (gsim::block_dim)
#define gridDim (gsim::grid_dim)
#define warpSize (gsim::warp_size)
#define __global__
#define __device__ static inline
#define __shared__ static
#define __forceinline__ inline


inline void __syncthreads() {
    if (gsim::block_barrier != nullptr) {
        gsim::block_barrier->arrive_and_wait();
    } else {
        gsim::yield_to_scheduler();
    }
}

inline unsigned int __float_as_uint(float f) {
    return std::bit_cast<unsigned int>(f);
}

inline float __uint_as_float(unsigned int u) {
    return std::bit_cast<float>(u);
}

template <typename T>
inline T atomicAdd(T* address, T value) {
    return std::atomic_ref<T>(*address).fetch_add(value);
}

template <typename T>
inline T atomicMin(T* address, T value) {
    std::atomic_ref<T> ref(*address);
    T old = ref.load();
    while (value < old && !ref.compare_exchange_weak(old, value)) {
    }
    return old;
}

