// The gsim library: mempipe's kernel source built for the CPU plus the subset of the CUDA driver API that
// dev.mempipe.gpu.CudaDriver binds, exported under the driver's own (versioned) names, so that the unchanged
// CUDA binding drives it. A module is the library itself (the image is ignored); cuLaunchKernel finds the
// kernel by name and calls it through a trampoline typed from the kernel's signature, after checking every
// pointer argument against the live allocations. Test hooks (gsim_*) inject faults and set the warp size.
#include "gsim.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <ucontext.h>
#include <utility>
#include <vector>

#include "../cuda/mempipe_kernels.cu"

namespace gsim {
thread_local dim3 thread_idx;
thread_local dim3 block_idx;
dim3 block_dim;
dim3 grid_dim;
int warp_size = 32;
thread_local std::barrier<>* block_barrier = nullptr;

// fiber mode: the scheduler's context and the running fiber's, on the launching thread
thread_local ucontext_t* scheduler_context = nullptr;
thread_local ucontext_t* fiber_context = nullptr;

void yield_to_scheduler() {
    swapcontext(fiber_context, scheduler_context);
}
}

namespace {
// CUresult values the binding interprets (cuda.h's numbers).
constexpr int SUCCESS = 0;
constexpr int INVALID_VALUE = 1;
constexpr int OUT_OF_MEMORY = 2;
constexpr int NOT_INITIALIZED = 3;
constexpr int INVALID_DEVICE = 101;
constexpr int NOT_FOUND = 500;
constexpr int ILLEGAL_ADDRESS = 700;
constexpr int LAUNCH_OUT_OF_RESOURCES = 701;

std::mutex lock;
bool initialized = false;
int sticky = SUCCESS;          // once set, every later call returns it (as a real context after a fault)
int fault_kind = 0;            // 1 launch error, 2 allocation failure, 3 sticky illegal address
int fault_countdown = -1;      // calls of that kind before the fault fires
std::map<std::uintptr_t, std::size_t> allocations;
long long launches = 0;
bool os_threads = false;       // false: fibers (see gsim.h)
int compute_major = 9;         // the compute capability the device reports
int compute_minor = 0;

bool fire(int kind) {
    if (fault_kind != kind) {
        return false;
    }
    if (fault_countdown > 0) {
        fault_countdown--;
        return false;
    }
    fault_kind = 0;
    return true;
}

// Whether [p, p + bytes) lies in one live allocation.
bool inside(std::uintptr_t p, std::size_t bytes) {
    auto it = allocations.upper_bound(p);
    if (it == allocations.begin()) {
        return false;
    }
    --it;
    return p >= it->first && p + bytes <= it->first + it->second;
}

template <typename T>
bool argument_ok(const T& value) {
    if constexpr (std::is_pointer_v<T>) {
        return value == nullptr || inside(reinterpret_cast<std::uintptr_t>(value), 1);
    } else {
        return true;
    }
}

using Trampoline = std::function<int(void**)>;

// Unpacks cuLaunchKernel's void** parameters by the kernel's own parameter types and calls it.
template <typename... A, std::size_t... I>
Trampoline make_trampoline(void (*kernel)(A...), std::index_sequence<I...>) {
    return [kernel](void** params) -> int {
        std::tuple<A...> args{*static_cast<std::remove_reference_t<A>*>(params[I])...};
        bool ok = (argument_ok(std::get<I>(args)) && ...);
        if (!ok) {
            return INVALID_VALUE;
        }
        std::apply(kernel, args);
        return SUCCESS;
    };
}

template <typename... A>
Trampoline trampoline(void (*kernel)(A...)) {
    return make_trampoline(kernel, std::index_sequence_for<A...>{});
}

const std::map<std::string, Trampoline>& kernels() {
    static const std::map<std::string, Trampoline> table = {
        {"mp_dot", trampoline(mp_dot)},
        {"mp_group_max", trampoline(mp_group_max)},
        {"mp_threshold", trampoline(mp_threshold)},
        {"mp_top_k", trampoline(mp_top_k)},
        {"mp_softmax", trampoline(mp_softmax)},
        {"mp_gather", trampoline(mp_gather)},
        {"mp_quest_bound", trampoline(mp_quest_bound)},
        {"mp_indexer_score", trampoline(mp_indexer_score)},
        {"mp_attention", trampoline(mp_attention)},
        {"mp_soft_retrieve", trampoline(mp_soft_retrieve)},
        {"mp_project", trampoline(mp_project)},
    };
    return table;
}

int run(const Trampoline& kernel, dim3 grid, dim3 block, void** params) {
    gsim::grid_dim = grid;
    gsim::block_dim = block;
    unsigned threads = block.x * block.y * block.z;
    std::barrier<> barrier(threads);
    std::atomic<int> result{SUCCESS};
    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (unsigned t = 0; t < threads; t++) {
        pool.emplace_back([&, t] {
            gsim::block_barrier = &barrier;
            gsim::thread_idx = dim3{t % block.x, (t / block.x) % block.y, t / (block.x * block.y)};
            for (unsigned z = 0; z < grid.z; z++) {
                for (unsigned y = 0; y < grid.y; y++) {
                    for (unsigned x = 0; x < grid.x; x++) {
                        gsim::block_idx = dim3{x, y, z};
                        int rc = kernel(params);
                        if (rc != SUCCESS) {
                            result = rc;
                        }
                        // the next block reuses the static __shared__ storage: wait for every thread
                        barrier.arrive_and_wait();
                    }
                }
            }
        });
    }
    for (auto& t : pool) {
        t.join();
    }
    return result;
}

constexpr std::size_t STACK_BYTES = 256 * 1024;

struct Fiber {
    ucontext_t context;
    std::unique_ptr<char[]> stack;
    dim3 index;
    bool done = false;
};

// The kernel and parameters the fibers of the current launch call (fiber entry points take no arguments).
const Trampoline* fiber_kernel = nullptr;
void** fiber_params = nullptr;
Fiber* fiber_now = nullptr;
std::atomic<int> fiber_result{SUCCESS};

void fiber_entry() {
    int rc = (*fiber_kernel)(fiber_params);
    if (rc != SUCCESS) {
        fiber_result = rc;
    }
    fiber_now->done = true; // returning resumes uc_link: the scheduler
}

// Outside run_fibers so that getcontext (which, like setjmp, could return twice) clobbers none of its locals.
__attribute__((noinline)) void prepare(Fiber& f, ucontext_t* scheduler) {
    f.done = false;
    getcontext(&f.context);
    f.context.uc_stack.ss_sp = f.stack.get();
    f.context.uc_stack.ss_size = STACK_BYTES;
    f.context.uc_link = scheduler;
    makecontext(&f.context, fiber_entry, 0);
}

int run_fibers(const Trampoline& kernel, dim3 grid, dim3 block, void** params) {
    gsim::grid_dim = grid;
    gsim::block_dim = block;
    unsigned threads = block.x * block.y * block.z;
    std::vector<Fiber> fibers(threads);
    for (auto& f : fibers) {
        // uninitialized: the kernel touches a few pages of it (a value-initialized vector would zero it all)
        f.stack.reset(new char[STACK_BYTES]);
    }
    ucontext_t scheduler;
    gsim::scheduler_context = &scheduler;
    gsim::block_barrier = nullptr;
    fiber_kernel = &kernel;
    fiber_params = params;
    fiber_result = SUCCESS;
    for (unsigned z = 0; z < grid.z; z++) {
        for (unsigned y = 0; y < grid.y; y++) {
            for (unsigned x = 0; x < grid.x; x++) {
                gsim::block_idx = dim3{x, y, z};
                for (unsigned t = 0; t < threads; t++) {
                    Fiber& f = fibers[t];
                    f.index = dim3{t % block.x, (t / block.x) % block.y, t / (block.x * block.y)};
                    prepare(f, &scheduler);
                }
                bool live = true;
                while (live) { // one round: every live fiber runs to its next barrier or its end
                    live = false;
                    for (auto& f : fibers) {
                        if (f.done) {
                            continue;
                        }
                        fiber_now = &f;
                        gsim::fiber_context = &f.context;
                        gsim::thread_idx = f.index;
                        swapcontext(&scheduler, &f.context);
                        live |= !f.done;
                    }
                }
            }
        }
    }
    gsim::scheduler_context = nullptr;
    return fiber_result;
}

#define GSIM_GUARD                      \
    std::lock_guard<std::mutex> g(lock); \
    if (sticky != SUCCESS) return sticky; \
    if (!initialized) return NOT_INITIALIZED

struct Module {
    int unused;
};
Module the_module;
}

extern "C" {

int cuInit(unsigned int) {
    std::lock_guard<std::mutex> g(lock);
    initialized = true;
    return SUCCESS;
}

int cuGetErrorString(int error, const char** text) {
    switch (error) {
        case SUCCESS: *text = "no error"; break;
        case INVALID_VALUE: *text = "invalid argument"; break;
        case OUT_OF_MEMORY: *text = "out of memory"; break;
        case NOT_INITIALIZED: *text = "initialization error"; break;
        case INVALID_DEVICE: *text = "invalid device ordinal"; break;
        case NOT_FOUND: *text = "named symbol not found"; break;
        case ILLEGAL_ADDRESS: *text = "an illegal memory access was encountered"; break;
        case LAUNCH_OUT_OF_RESOURCES: *text = "too many resources requested for launch"; break;
        default: *text = nullptr; return INVALID_VALUE;
    }
    return SUCCESS;
}

int cuDeviceGetCount(int* count) {
    GSIM_GUARD;
    *count = 1;
    return SUCCESS;
}

int cuDeviceGet(int* device, int ordinal) {
    GSIM_GUARD;
    if (ordinal != 0) return INVALID_DEVICE;
    *device = 0;
    return SUCCESS;
}

int cuDeviceGetName(char* name, int length, int) {
    GSIM_GUARD;
    std::snprintf(name, length, "gsim (CPU, warp %d)", gsim::warp_size);
    return SUCCESS;
}

int cuDeviceGetAttribute(int* value, int attribute, int) {
    GSIM_GUARD;
    switch (attribute) {
        case 10: *value = gsim::warp_size; break;   // WARP_SIZE
        case 16: *value = 1; break;                 // MULTIPROCESSOR_COUNT
        case 13: *value = 1000000; break;           // CLOCK_RATE, kHz
        case 36: *value = 1000000; break;           // MEMORY_CLOCK_RATE, kHz
        case 37: *value = 64; break;                // GLOBAL_MEMORY_BUS_WIDTH, bits
        case 75: *value = compute_major; break;     // COMPUTE_CAPABILITY_MAJOR
        case 76: *value = compute_minor; break;     // COMPUTE_CAPABILITY_MINOR
        default: return INVALID_VALUE;
    }
    return SUCCESS;
}

int cuDeviceTotalMem_v2(std::size_t* bytes, int) {
    GSIM_GUARD;
    *bytes = std::size_t(1) << 30;
    return SUCCESS;
}

int cuDevicePrimaryCtxRetain(void** context, int) {
    GSIM_GUARD;
    *context = &the_module;
    return SUCCESS;
}

int cuDevicePrimaryCtxRelease_v2(int) {
    GSIM_GUARD;
    return SUCCESS;
}

int cuCtxSetCurrent(void*) {
    GSIM_GUARD;
    return SUCCESS;
}

int cuCtxSynchronize() {
    GSIM_GUARD;
    return SUCCESS;
}

int cuMemAlloc_v2(std::uintptr_t* pointer, std::size_t bytes) {
    GSIM_GUARD;
    if (fire(2)) return OUT_OF_MEMORY;
    void* p = std::malloc(bytes == 0 ? 1 : bytes);
    if (p == nullptr) return OUT_OF_MEMORY;
    allocations[reinterpret_cast<std::uintptr_t>(p)] = bytes == 0 ? 1 : bytes;
    *pointer = reinterpret_cast<std::uintptr_t>(p);
    return SUCCESS;
}

int cuMemFree_v2(std::uintptr_t pointer) {
    GSIM_GUARD;
    auto it = allocations.find(pointer);
    if (it == allocations.end()) return INVALID_VALUE;
    std::free(reinterpret_cast<void*>(pointer));
    allocations.erase(it);
    return SUCCESS;
}

int cuMemcpyHtoD_v2(std::uintptr_t dst, const void* src, std::size_t bytes) {
    GSIM_GUARD;
    if (!inside(dst, bytes)) return INVALID_VALUE;
    std::memcpy(reinterpret_cast<void*>(dst), src, bytes);
    return SUCCESS;
}

int cuMemcpyDtoH_v2(void* dst, std::uintptr_t src, std::size_t bytes) {
    GSIM_GUARD;
    if (!inside(src, bytes)) return INVALID_VALUE;
    std::memcpy(dst, reinterpret_cast<const void*>(src), bytes);
    return SUCCESS;
}

int cuMemcpyDtoD_v2(std::uintptr_t dst, std::uintptr_t src, std::size_t bytes) {
    GSIM_GUARD;
    if (!inside(dst, bytes) || !inside(src, bytes)) return INVALID_VALUE;
    std::memmove(reinterpret_cast<void*>(dst), reinterpret_cast<const void*>(src), bytes);
    return SUCCESS;
}

int cuMemsetD8_v2(std::uintptr_t dst, unsigned char value, std::size_t bytes) {
    GSIM_GUARD;
    if (!inside(dst, bytes)) return INVALID_VALUE;
    std::memset(reinterpret_cast<void*>(dst), value, bytes);
    return SUCCESS;
}

int cuModuleLoadData(void** module, const void*) {
    GSIM_GUARD;
    *module = &the_module;
    return SUCCESS;
}

int cuModuleUnload(void*) {
    GSIM_GUARD;
    return SUCCESS;
}

int cuModuleGetFunction(const void** function, void*, const char* name) {
    GSIM_GUARD;
    auto it = kernels().find(name);
    if (it == kernels().end()) return NOT_FOUND;
    *function = &it->second;
    return SUCCESS;
}

int cuLaunchKernel(const void* function, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                   unsigned bz, unsigned, void*, void** params, void**) {
    GSIM_GUARD;
    if (fire(1)) return LAUNCH_OUT_OF_RESOURCES;
    if (fire(3)) {
        sticky = ILLEGAL_ADDRESS;
        return sticky;
    }
    if (gx == 0 || gy == 0 || gz == 0 || bx == 0 || by == 0 || bz == 0 || bx * by * bz > 1024) {
        return INVALID_VALUE;
    }
    launches++;
    const Trampoline& kernel = *static_cast<const Trampoline*>(function);
    return os_threads ? run(kernel, dim3{gx, gy, gz}, dim3{bx, by, bz}, params)
                      : run_fibers(kernel, dim3{gx, gy, gz}, dim3{bx, by, bz}, params);
}

// ---- test hooks ----

// The warp size the device reports (32 or 64); only between launches.
int gsim_set_warp_size(int size) {
    std::lock_guard<std::mutex> g(lock);
    if (size != 32 && size != 64) return INVALID_VALUE;
    gsim::warp_size = size;
    return SUCCESS;
}

// How GPU threads run (see gsim.h): 1 one OS thread each, 0 fibers on the launching thread.
int gsim_set_os_threads(int on) {
    std::lock_guard<std::mutex> g(lock);
    os_threads = on != 0;
    return SUCCESS;
}

// The compute capability the device reports (for tests of code selection); only between launches.
int gsim_set_compute_capability(int major, int minor) {
    std::lock_guard<std::mutex> g(lock);
    compute_major = major;
    compute_minor = minor;
    return SUCCESS;
}

// Makes the call of `kind` after `after` successful ones fail: 1 launch (transient), 2 allocation
// (out of memory), 3 launch with an illegal address that sticks to every later call; 0 clears.
int gsim_inject_fault(int kind, int after) {
    std::lock_guard<std::mutex> g(lock);
    fault_kind = kind;
    fault_countdown = after;
    return SUCCESS;
}

// Forgets a sticky error and any pending fault: a working "device" again for the next test.
int gsim_reset() {
    std::lock_guard<std::mutex> g(lock);
    sticky = SUCCESS;
    fault_kind = 0;
    return SUCCESS;
}

long long gsim_live_allocations() {
    std::lock_guard<std::mutex> g(lock);
    return static_cast<long long>(allocations.size());
}

long long gsim_launches() {
    std::lock_guard<std::mutex> g(lock);
    return launches;
}
}
