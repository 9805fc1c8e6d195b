// hnswlib side of HnswComparisonHarness (issue 16): the same 100k x 384 clustered unit vectors, inner product,
// M = 16, ef_construction = 100, seed 42, one query thread. Build: g++ -O3 -march=native -std=c++17 -pthread
// (bench/hnswlib/build.sh). Debian's libhnswlib-dev 0.6.2 headers.
//
// Usage: hnswlib_bench DATA_FILE [BUILD_THREADS] [INDEX_CACHE]
//   INDEX_CACHE: loaded instead of building when it exists, else written after the build (hnswlib's saveIndex).
//   DATA_FILE (written by HnswComparisonHarness): int32 n, q, d, k; n*d float32 rows; q*d float32 queries;
//   q*k int32 exact top-k rows (little-endian, as x86 reads them).
// It builds the index (timed), tunes ef to the smallest of the harness's ladder reaching recall@10 >= 0.95, prints
// one "ready ..." line, then answers commands on stdin, one per line, so that the Java harness can interleave its own
// measurements with these in one run: "measure SECONDS" prints "qps X cpuqps Y" (one thread cycling through the
// queries; Y: searches per CPU second of that thread);
// "quit" exits.
#include <hnswlib/hnswlib.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

namespace {

constexpr int kTopK = 10;
constexpr double kTargetRecall = 0.95;

struct Data {
    int n = 0, q = 0, d = 0, k = 0;
    std::vector<float> rows, queries;
    std::vector<int> truth;
};

Data read(const char* path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "cannot open %s\n", path);
        std::exit(2);
    }
    Data data;
    int header[4];
    in.read(reinterpret_cast<char*>(header), sizeof header);
    data.n = header[0];
    data.q = header[1];
    data.d = header[2];
    data.k = header[3];
    data.rows.resize(static_cast<size_t>(data.n) * data.d);
    data.queries.resize(static_cast<size_t>(data.q) * data.d);
    data.truth.resize(static_cast<size_t>(data.q) * data.k);
    in.read(reinterpret_cast<char*>(data.rows.data()), data.rows.size() * sizeof(float));
    in.read(reinterpret_cast<char*>(data.queries.data()), data.queries.size() * sizeof(float));
    in.read(reinterpret_cast<char*>(data.truth.data()), data.truth.size() * sizeof(int));
    if (!in || data.k < kTopK) {
        std::fprintf(stderr, "%s is short or has k < %d\n", path, kTopK);
        std::exit(2);
    }
    return data;
}

double recall(hnswlib::HierarchicalNSW<float>& index, const Data& data) {
    long found = 0;
    for (int i = 0; i < data.q; i++) {
        auto result = index.searchKnn(&data.queries[static_cast<size_t>(i) * data.d], kTopK);
        std::unordered_set<int> truth(&data.truth[static_cast<size_t>(i) * data.k],
                                      &data.truth[static_cast<size_t>(i) * data.k] + kTopK);
        while (!result.empty()) {
            found += truth.count(static_cast<int>(result.top().second));
            result.pop();
        }
    }
    return static_cast<double>(found) / (static_cast<double>(data.q) * kTopK);
}

// Tunes ef to the harness's ladder, prints the "ready" line, then answers the harness's commands.
void serve(hnswlib::HierarchicalNSW<float>& index, const Data& data, double buildSeconds, int threads) {
    // the harness's beam ladder: every ef from 10 to 64, then coarser
    std::vector<int> ladder;
    for (int ef = 10; ef <= 64; ef++) ladder.push_back(ef);
    for (int ef : {72, 80, 96, 112, 128, 160, 192, 256, 320, 384, 512, 768}) ladder.push_back(ef);
    int chosen = -1;
    double r = 0;
    for (int ef : ladder) {
        index.setEf(ef);
        r = recall(index, data);
        if (r >= kTargetRecall) {
            chosen = ef;
            break;
        }
    }
    // bytes per vector: the level-0 record (links, vector, label) plus the upper levels' links
    size_t bytes = static_cast<size_t>(data.n) * index.size_data_per_element_;
    for (int i = 0; i < data.n; i++) {
        bytes += static_cast<size_t>(index.element_levels_[i]) * index.size_links_per_element_;
    }
    std::printf("ready ef=%d recall=%.4f buildSeconds=%.2f buildThreads=%d bytesPerVector=%.1f vectorBytes=%zu\n",
                chosen, r, buildSeconds, threads, static_cast<double>(bytes) / data.n, index.data_size_);
    std::fflush(stdout);

    std::string command;
    while (std::cin >> command) {
        if (command == "measure") {
            double seconds;
            std::cin >> seconds;
            long searches = 0;
            int q = 0;
            timespec cpuBegin{}, cpuEnd{};
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpuBegin);
            auto begin = std::chrono::steady_clock::now();
            double elapsed = 0;
            while (elapsed < seconds) {
                for (int i = 0; i < 64; i++) {  // check the clock every 64 searches
                    auto result = index.searchKnn(&data.queries[static_cast<size_t>(q) * data.d], kTopK);
                    q = q + 1 == data.q ? 0 : q + 1;
                    searches++;
                }
                elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
            }
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpuEnd);
            double cpu = (cpuEnd.tv_sec - cpuBegin.tv_sec) + (cpuEnd.tv_nsec - cpuBegin.tv_nsec) / 1e9;
            // searches per CPU second of this thread: on a shared machine its share of a core varies, this does not
            std::printf("qps %.1f cpuqps %.1f\n", searches / elapsed, searches / cpu);
            std::fflush(stdout);
        } else if (command == "quit") {
            return;
        } else {
            std::fprintf(stderr, "unknown command %s\n", command.c_str());
            std::exit(2);
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s DATA_FILE [BUILD_THREADS]\n", argv[0]);
        return 2;
    }
    int threads = argc > 2 ? std::atoi(argv[2]) : 1;
    const char* cache = argc > 3 ? argv[3] : nullptr;  // saveIndex after a build, loadIndex when it exists
    Data data = read(argv[1]);
    hnswlib::InnerProductSpace space(data.d);
    if (cache != nullptr && std::ifstream(cache).good()) {
        hnswlib::HierarchicalNSW<float> index(&space, cache);
        serve(index, data, 0.0, 0);  // loaded, not built: buildSeconds 0
        return 0;
    }
    hnswlib::HierarchicalNSW<float> index(&space, data.n, 16, 100, 42);

    auto start = std::chrono::steady_clock::now();
    std::atomic<int> next{0};
    auto insert = [&] {
        for (int i = next++; i < data.n; i = next++) {
            index.addPoint(&data.rows[static_cast<size_t>(i) * data.d], static_cast<hnswlib::labeltype>(i));
        }
    };
    std::vector<std::thread> workers;
    for (int t = 1; t < threads; t++) {
        workers.emplace_back(insert);
    }
    insert();
    for (auto& w : workers) {
        w.join();
    }
    double buildSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    if (cache != nullptr) {
        index.saveIndex(cache);
    }
    serve(index, data, buildSeconds, threads);
    return 0;
}
