#include "engine/core/memory_budget.h"

#include <algorithm>
#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <limits>
#include <malloc.h>
#include <mutex>
#include <string>
#include <vector>

namespace segxai {
namespace {

uint64_t statusKilobytes(const char* file, const char* key) {
    std::ifstream in(file);
    const std::string prefix(key);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(prefix, 0) == 0) return std::stoull(line.substr(prefix.size())) * 1024;
    }
    return 0;
}

// LibTorch's CPU convolutions allocate and free buffers of tens to hundreds of megabytes in
// every forward. glibc maps each such block afresh (above its mmap threshold, and always on
// threads other than the first, whose arenas cannot grow that far) and returns it on free, so
// the kernel faults in and zeroes every page again each time: on this machine a 96^3 window of a
// 105-class network spent as long in the kernel as in the convolutions. Keeping freed blocks in
// one heap for reuse made `segxai segment` of that model 5 times faster (docs/performance.md,
// "Allocator"); memory is handed back after large jobs (releaseFreedMemory) and at exit.
// Since LibTorch's buffers of 1 MiB and more go through its block cache
// (engine/torch/cpu_block_cache.h), this heap holds the smaller ones and SegXAI's own data.
// SEGXAI_SYSTEM_MALLOC=1 keeps glibc's defaults (to measure the difference).
struct ReuseFreedMemory {
    ReuseFreedMemory() {
#if defined(__GLIBC__)
        if (const char* off = std::getenv("SEGXAI_SYSTEM_MALLOC"); off && std::string(off) == "1") return;
        // mallopt's largest value (2 GiB): a 128^3 window's convolutions use buffers above 1 GiB.
        constexpr int kLargest = std::numeric_limits<int>::max();
        mallopt(M_ARENA_MAX, 1);
        mallopt(M_MMAP_THRESHOLD, kLargest);
        mallopt(M_TRIM_THRESHOLD, kLargest);
#endif
    }
};
const ReuseFreedMemory kReuseFreedMemory;

} // namespace

uint64_t availableMemoryBytes() {
    uint64_t available = statusKilobytes("/proc/meminfo", "MemAvailable:");
    if (const char* limit = std::getenv("SEGXAI_MEMORY_LIMIT_MB")) {
        char* end = nullptr;
        const unsigned long long mb = std::strtoull(limit, &end, 10);
        if (end != limit && *end == '\0' && mb > 0)
            available = available ? std::min<uint64_t>(available, mb << 20) : mb << 20;
    }
    return available;
}

std::string describeBytes(uint64_t bytes) {
    if (bytes >= 1000000000) return fmt::format("{:.1f} GB", double(bytes) / 1e9);
    if (bytes >= 10000000) return fmt::format("{:.0f} MB", double(bytes) / 1e6);
    return fmt::format("{:.1f} MB", double(bytes) / 1e6);
}

uint64_t residentMemoryBytes() {
    return statusKilobytes("/proc/self/status", "VmRSS:");
}

namespace {

std::mutex& freedMemoryCachesMutex() {
    static std::mutex mutex;
    return mutex;
}
std::vector<void (*)()>& freedMemoryCaches() {
    static std::vector<void (*)()> caches;
    return caches;
}

} // namespace

void addFreedMemoryCache(void (*release)()) {
    std::lock_guard lock(freedMemoryCachesMutex());
    auto& caches = freedMemoryCaches();
    if (std::find(caches.begin(), caches.end(), release) == caches.end()) caches.push_back(release);
}

void releaseFreedMemory() {
    {
        std::lock_guard lock(freedMemoryCachesMutex());
        for (auto release : freedMemoryCaches())
            release();
    }
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

PeakMemoryProbe::PeakMemoryProbe() {
    std::ofstream("/proc/self/clear_refs") << "5"; // resets VmHWM to the current resident size
    m_start = statusKilobytes("/proc/self/status", "VmRSS:");
}

uint64_t PeakMemoryProbe::growthBytes() const {
    const uint64_t peak = statusKilobytes("/proc/self/status", "VmHWM:");
    return peak > m_start ? peak - m_start : 0;
}

namespace {

// A share (1 / `divisor`) of the available memory, at most `cap`; 1 GB when it is unknown.
uint64_t shareOfAvailable(uint64_t divisor, uint64_t cap) {
    const uint64_t available = availableMemoryBytes();
    return std::min<uint64_t>(available ? available / divisor : uint64_t(1) << 30, cap);
}

} // namespace

size_t itemsForQuarterBudget(uint64_t bytesPerItem, size_t items, uint64_t cap) {
    const uint64_t budget = shareOfAvailable(4, cap);
    return std::clamp<size_t>(size_t(budget / std::max<uint64_t>(bytesPerItem, 1)), 1, std::max<size_t>(items, 1));
}

int batchForBudget(uint64_t bytesPerSample, int maximum) {
    const uint64_t budget = shareOfAvailable(2, uint64_t(8) << 30);
    if (bytesPerSample == 0) return std::max(1, std::min(maximum, 4));
    return int(std::clamp<uint64_t>(budget / bytesPerSample, 1, uint64_t(std::max(1, maximum))));
}

} // namespace segxai
