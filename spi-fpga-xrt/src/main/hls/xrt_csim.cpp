// The csim device: the subset of XRT's C API (xrt_device.h, xrt_bo.h, xrt_kernel.h of XRT 2.13) that
// mempipe's Java binding calls, with the same names and signatures, running the kernels of this folder as
// compiled by g++. Buffer objects keep a separate "card" copy: xrtBOWrite/xrtBORead touch the host copy only,
// kernels see the card copy, and only xrtBOSync moves bytes between them, so a missing sync shows as a wrong
// answer exactly as on a card. Runs execute synchronously inside xrtRunStart.
//
// Test hooks (not part of XRT): mempipe_csim_fault() injects a fault, mempipe_csim_interface() returns the
// interface table, mempipe_csim_syncs() counts syncs, mempipe_csim_runs() counts kernel runs started.
// Thread-safe: one lock around every call.
#include "mempipe_interface.h"
#include "mempipe_kernels.h"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

namespace {
std::mutex lock_;

enum ert_state { NEW = 1, QUEUED = 2, RUNNING = 3, COMPLETED = 4, ERROR = 5, ABORT = 6, TIMEOUT = 8 };
enum fault_kind { NONE = 0, RUN_ERROR = 1, RUN_TIMEOUT = 2, RUN_ABORT = 3, BO_ALLOC = 4, SYNC = 5, NO_STATUS = 6 };

struct device { bool loaded = false; };
struct buffer {
    std::vector<uint8_t> host;
    std::vector<uint8_t> card;
    int group;
};
struct kernel { const mempipe_kernel_entry* entry; };
struct run {
    kernel* k;
    uint64_t scalars[64] = {};
    double reals[64] = {};
    buffer* buffers[64] = {};
    bool set[64] = {};
    int state = NEW;
};

int fault = NONE;
long faultAfter = 0;  // operations of the fault's kind that still succeed
long syncs = 0;
long runs = 0;

bool inject(int kind) {
    if (fault != kind) return false;
    if (faultAfter > 0) {
        faultAfter--;
        return false;
    }
    fault = NONE;
    return true;
}

template <typename T>
T* card(buffer* b) { return b == nullptr ? nullptr : reinterpret_cast<T*>(b->card.data()); }

// The score kernel's arguments after its C key ports, in table order.
#define MP_SCORE_REST(C)                                                                                         \
    card<float>(B(C)), card<float>(B(C + 1)), card<int32_t>(B(C + 2)), card<float>(B(C + 3)),                 \
        card<float>(B(C + 4)), card<float>(B(C + 5)), card<int32_t>(B(C + 6)), card<float>(B(C + 7)),          \
        card<uint64_t>(B(C + 8)), card<uint64_t>(B(C + 9)), I(C + 10), I(C + 11), I(C + 12), I(C + 13),         \
        I(C + 14), I(C + 15), I(C + 16), L(C + 17), I(C + 18), I(C + 19), I(C + 20), I(C + 21), I(C + 22),     \
        r->reals[C + 23]

void execute(run* r) {
    const std::string& name = r->k->entry->name;
    auto I = [r](int a) { return static_cast<int>(static_cast<int32_t>(r->scalars[a])); };
    auto L = [r](int a) { return static_cast<int64_t>(r->scalars[a]); };
    auto B = [r](int a) { return r->buffers[a]; };
    auto K = [r](int c) { return card<word512>(r->buffers[c]); };
    if (name == "score8") {
        score8(K(0), K(1), K(2), K(3), K(4), K(5), K(6), K(7), MP_SCORE_REST(8));
    } else if (name == "score16") {
        score16(K(0), K(1), K(2), K(3), K(4), K(5), K(6), K(7), K(8), K(9), K(10), K(11), K(12), K(13), K(14), K(15),
                MP_SCORE_REST(16));
    } else if (name == "score32") {
        score32(K(0), K(1), K(2), K(3), K(4), K(5), K(6), K(7), K(8), K(9), K(10), K(11), K(12), K(13), K(14), K(15),
                K(16), K(17), K(18), K(19), K(20), K(21), K(22), K(23), K(24), K(25), K(26), K(27), K(28), K(29),
                K(30), K(31), MP_SCORE_REST(32));
    } else if (name == "topk") {
        topk(card<float>(B(0)), card<int32_t>(B(1)), card<float>(B(2)), card<uint64_t>(B(3)), I(4), I(5), I(6));
    } else if (name == "groupmax") {
        groupmax(card<float>(B(0)), card<float>(B(1)), card<uint64_t>(B(2)), I(3), I(4), I(5));
    } else if (name == "threshold") {
        threshold(card<float>(B(0)), card<uint64_t>(B(1)), card<uint64_t>(B(2)), L(3), r->reals[4]);
    } else {
        bm25(card<uint32_t>(B(0)), card<uint32_t>(B(1)), card<uint32_t>(B(2)), card<int32_t>(B(3)),
             card<double>(B(4)), card<float>(B(5)), card<int32_t>(B(6)), card<float>(B(7)), card<uint64_t>(B(8)),
             I(9), I(10), r->reals[11], r->reals[12], r->reals[13], I(14));
    }
}
}  // namespace

extern "C" {
typedef void* xrtDeviceHandle;
typedef void* xrtBufferHandle;
typedef void* xrtKernelHandle;
typedef void* xrtRunHandle;
typedef unsigned char xuid_t[16];

xrtDeviceHandle xrtDeviceOpen(unsigned int index) {
    std::lock_guard<std::mutex> g(lock_);
    if (index != 0) {
        errno = ENODEV;
        return nullptr;
    }
    return new device();
}

int xrtDeviceClose(xrtDeviceHandle d) {
    std::lock_guard<std::mutex> g(lock_);
    delete static_cast<device*>(d);
    return 0;
}

int xrtDeviceLoadXclbinFile(xrtDeviceHandle d, const char* path) {
    std::lock_guard<std::mutex> g(lock_);
    FILE* f = std::fopen(path, "rb");
    if (f == nullptr) return -ENOENT;
    std::fclose(f);
    static_cast<device*>(d)->loaded = true;
    return 0;
}

int xrtDeviceGetXclbinUUID(xrtDeviceHandle d, xuid_t out) {
    std::lock_guard<std::mutex> g(lock_);
    if (!static_cast<device*>(d)->loaded) return -EINVAL;
    for (int b = 0; b < 16; b++) out[b] = static_cast<unsigned char>(0xc5 ^ b);
    return 0;
}

xrtKernelHandle xrtPLKernelOpen(xrtDeviceHandle d, const xuid_t, const char* name) {
    std::lock_guard<std::mutex> g(lock_);
    if (!static_cast<device*>(d)->loaded) return nullptr;
    for (const mempipe_kernel_entry& e : mempipe_kernels())
        if (e.name == name) return new kernel{&e};
    errno = ENOENT;
    return nullptr;
}

int xrtKernelClose(xrtKernelHandle k) {
    std::lock_guard<std::mutex> g(lock_);
    delete static_cast<kernel*>(k);
    return 0;
}

int xrtKernelArgGroupId(xrtKernelHandle k, int argno) {
    std::lock_guard<std::mutex> g(lock_);
    const mempipe_kernel_entry* e = static_cast<kernel*>(k)->entry;
    if (argno < 0 || argno >= static_cast<int>(e->args.size()) || e->args[argno].kind != 'B') return -EINVAL;
    return e->args[argno].bank;
}

xrtBufferHandle xrtBOAlloc(xrtDeviceHandle, size_t size, uint64_t, uint32_t group) {
    std::lock_guard<std::mutex> g(lock_);
    if (inject(BO_ALLOC)) {
        errno = ENOMEM;
        return nullptr;
    }
    buffer* b = new buffer();
    b->host.assign(size, 0);
    // the card copy starts as garbage, not zeros: reading unsynced device memory must not look right
    b->card.assign(size, 0xA5);
    b->group = static_cast<int>(group);
    return b;
}

int xrtBOFree(xrtBufferHandle b) {
    std::lock_guard<std::mutex> g(lock_);
    delete static_cast<buffer*>(b);
    return 0;
}

int xrtBOWrite(xrtBufferHandle h, const void* src, size_t size, size_t seek) {
    std::lock_guard<std::mutex> g(lock_);
    buffer* b = static_cast<buffer*>(h);
    if (seek + size > b->host.size()) return -EINVAL;
    std::memcpy(b->host.data() + seek, src, size);
    return 0;
}

int xrtBORead(xrtBufferHandle h, void* dst, size_t size, size_t skip) {
    std::lock_guard<std::mutex> g(lock_);
    buffer* b = static_cast<buffer*>(h);
    if (skip + size > b->host.size()) return -EINVAL;
    std::memcpy(dst, b->host.data() + skip, size);
    return 0;
}

// direction: 0 = XCL_BO_SYNC_BO_TO_DEVICE, 1 = XCL_BO_SYNC_BO_FROM_DEVICE
int xrtBOSync(xrtBufferHandle h, int direction, size_t size, size_t offset) {
    std::lock_guard<std::mutex> g(lock_);
    buffer* b = static_cast<buffer*>(h);
    if (offset + size > b->host.size() || (direction != 0 && direction != 1)) return -EINVAL;
    if (inject(SYNC)) return -EIO;
    syncs++;
    if (direction == 0) {
        std::memcpy(b->card.data() + offset, b->host.data() + offset, size);
    } else {
        std::memcpy(b->host.data() + offset, b->card.data() + offset, size);
    }
    return 0;
}

xrtRunHandle xrtRunOpen(xrtKernelHandle k) {
    std::lock_guard<std::mutex> g(lock_);
    run* r = new run();
    r->k = static_cast<kernel*>(k);
    return r;
}

int xrtRunSetArg(xrtRunHandle h, int index, ...) {
    std::lock_guard<std::mutex> g(lock_);
    run* r = static_cast<run*>(h);
    const mempipe_kernel_entry* e = r->k->entry;
    if (index < 0 || index >= static_cast<int>(e->args.size())) return -EINVAL;
    va_list args;
    va_start(args, index);
    switch (e->args[index].kind) {
        case 'B': r->buffers[index] = static_cast<buffer*>(va_arg(args, xrtBufferHandle)); break;
        case 'I': r->scalars[index] = static_cast<uint32_t>(va_arg(args, int)); break;
        case 'L': r->scalars[index] = static_cast<uint64_t>(va_arg(args, long long)); break;
        default: r->reals[index] = va_arg(args, double); break;
    }
    va_end(args);
    r->set[index] = true;
    return 0;
}

int xrtRunStart(xrtRunHandle h) {
    std::lock_guard<std::mutex> g(lock_);
    run* r = static_cast<run*>(h);
    for (size_t a = 0; a < r->k->entry->args.size(); a++)
        if (!r->set[a]) return -EINVAL;  // XRT also refuses a run with unset arguments
    if (inject(RUN_ERROR)) {
        r->state = ERROR;
    } else if (inject(RUN_TIMEOUT)) {
        r->state = TIMEOUT;
    } else if (inject(RUN_ABORT)) {
        r->state = ABORT;
    } else if (inject(NO_STATUS)) {
        r->state = COMPLETED;  // like XRT's noop device: completes, computes nothing
    } else {
        execute(r);
        r->state = COMPLETED;
    }
    runs++;
    return 0;
}

int xrtRunWait(xrtRunHandle h) {
    std::lock_guard<std::mutex> g(lock_);
    return static_cast<run*>(h)->state;
}

int xrtRunClose(xrtRunHandle h) {
    std::lock_guard<std::mutex> g(lock_);
    delete static_cast<run*>(h);
    return 0;
}

// ---- test hooks ----

void mempipe_csim_fault(int kind, long after) {
    std::lock_guard<std::mutex> g(lock_);
    fault = kind;
    faultAfter = after;
}

long mempipe_csim_syncs() {
    std::lock_guard<std::mutex> g(lock_);
    return syncs;
}

long mempipe_csim_runs() {
    std::lock_guard<std::mutex> g(lock_);
    return runs;
}

// The argument kinds of a top function, deduced from its C++ parameter list.
}
namespace {
template <typename T>
char kind_of() {
    if (std::is_pointer<T>::value) return 'B';
    if (std::is_same<T, int>::value) return 'I';
    if (std::is_same<T, int64_t>::value) return 'L';
    if (std::is_same<T, double>::value) return 'D';
    return '?';
}

template <typename... A>
std::string kinds(void (*)(A...)) {
    return std::string{kind_of<A>()...};
}
}  // namespace
extern "C" {

// Empty when every top function's parameter list has the kinds the interface table gives its arguments, else
// what disagrees.
const char* mempipe_csim_check() {
    static std::string result;
    std::lock_guard<std::mutex> g(lock_);
    result.clear();
    const std::string actual[] = {kinds(&score8), kinds(&score16), kinds(&score32), kinds(&topk), kinds(&bm25),
                                  kinds(&threshold), kinds(&groupmax)};
    const std::vector<mempipe_kernel_entry>& table = mempipe_kernels();
    if (table.size() != sizeof actual / sizeof actual[0]) {
        result += "the table lists " + std::to_string(table.size()) + " kernels, the csim device builds "
                  + std::to_string(sizeof actual / sizeof actual[0]) + "; ";
    }
    for (size_t k = 0; k < table.size() && k < sizeof actual / sizeof actual[0]; k++) {
        std::string kindsInTable;
        for (const mempipe_arg& arg : table[k].args) kindsInTable += arg.kind;
        if (kindsInTable != actual[k]) {
            result += table[k].name + ": table " + kindsInTable + ", top function " + actual[k] + "; ";
        }
    }
    return result.c_str();
}

// "kernel(arg:kind:bank,...);..." for the Java binding's check of its own table.
const char* mempipe_csim_interface() {
    static std::string table;
    std::lock_guard<std::mutex> g(lock_);
    if (table.empty()) {
        for (const mempipe_kernel_entry& e : mempipe_kernels()) {
            table += e.name;
            table += '(';
            for (size_t a = 0; a < e.args.size(); a++) {
                const mempipe_arg& arg = e.args[a];
                table += std::string(a ? "," : "") + arg.name + ":" + arg.kind + ":" + std::to_string(arg.bank);
            }
            table += ");";
        }
    }
    return table.c_str();
}
}
