#include "engine/torch/cpu_block_cache.h"

#include "engine/core/huge_pages.h"
#include "engine/core/memory_budget.h"

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <c10/util/Exception.h>
#include <cstdlib>
#include <mutex>
#include <string>
#include <sys/mman.h>
#include <unordered_map>
#include <vector>

namespace segxai {
namespace {

constexpr size_t kSmallest = size_t(1) << 20; // below this, LibTorch's default allocator (glibc's heap)
constexpr size_t kPage = 4096;

// Blocks mapped one by one. A request takes the smallest waiting block that holds it and is
// at most kLargestFit times its size (the most recently freed of equal ones): a window's buffers
// come back in the same sizes, so after the first windows nearly every request finds one. The
// mapped total stays within kMappedOverUsed of the most this cache has had in use at once since
// it was last emptied; past that, requests nothing fits reuse waiting blocks resized. The figures
// come from replaying every buffer of `segxai segment` and `segxai explain` (Seg-Grad-CAM) on the
// scale benchmark and of `segxai segment` on 105 classes at Colin27 (docs/performance.md#allocator):
// at 1.125 the CAM's windows (a forward cut at the layer alternating with a forward and
// backward) faulted in 46.7 GiB afresh, the same blocks unmapped and mapped again; at 1.5 each
// block once (3.5 GiB).
constexpr size_t kLargestFit = 4;
constexpr double kMappedOverUsed = 1.5, kMostOverUsed = 4.0;
constexpr size_t kThrashing = 8;

class BlockCache {
public:
    void* take(size_t bytes) {
        const size_t size = (bytes + kPage - 1) / kPage * kPage;
        std::unique_lock lock(m_mutex);
        m_used += size;
        m_peakUsed = std::max(m_peakUsed, m_used);
        Block block = takeWaiting(size);
        if (block.address == nullptr) block = mapOrResize(size);
        if (block.address == nullptr) {
            m_used -= size;
            lock.unlock();
            TORCH_CHECK(false, "not enough memory: tried to allocate ", describeBytes(bytes), " (",
                        describeBytes(availableMemoryBytes()), " available)");
        }
        m_inUse.emplace(block.address, InUse{block.size, size});
        return block.address;
    }

    // False when `address` is not one of this cache's.
    bool give(void* address) {
        std::lock_guard lock(m_mutex);
        const auto found = m_inUse.find(address);
        if (found == m_inUse.end()) return false;
        m_waiting.push_back({address, found->second.capacity});
        m_used -= found->second.used;
        m_inUse.erase(found);
        return true;
    }

    CpuBlockCacheBytes bytes() {
        std::lock_guard lock(m_mutex);
        return {m_mapped, m_used, m_peakUsed, m_freshBytes};
    }

    void release() {
        std::lock_guard lock(m_mutex);
        unmapWhileOver(0);
        m_peakUsed = m_used;
        m_freshSinceAllowance = 0;
    }

private:
    struct Block {
        void* address = nullptr;
        size_t size = 0;
    };
    struct InUse {
        size_t capacity = 0, used = 0;
    };

    Block takeWaiting(size_t size) {
        size_t best = m_waiting.size();
        for (size_t i = m_waiting.size(); i-- > 0;) {
            const size_t fits = m_waiting[i].size;
            if (fits >= size && fits / kLargestFit <= size && (best == m_waiting.size() || fits < m_waiting[best].size))
                best = i;
        }
        if (best == m_waiting.size()) return {};
        const Block block = m_waiting[best];
        m_waiting.erase(m_waiting.begin() + std::ptrdiff_t(best));
        return block;
    }

    // Under the limit, a new block is mapped. Over it, a waiting block is resized for the
    // request with mremap (the pages it keeps are not faulted in again): the smallest that
    // holds it, shrunk, else the largest, grown; then the longest waiting go back to the system
    // while the total is still over.
    Block mapOrResize(size_t size) {
        const auto limit = size_t(double(m_peakUsed) * m_allowance);
        if (m_mapped + size > limit && !m_waiting.empty()) {
            const size_t chosen = resizeCandidate(size);
            const Block old = m_waiting[chosen];
            m_waiting.erase(m_waiting.begin() + std::ptrdiff_t(chosen));
            void* moved = mremap(old.address, old.size, size, MREMAP_MAYMOVE);
            if (moved != MAP_FAILED) {
                m_mapped = m_mapped - old.size + size;
                if (size > old.size) faultedIn(size - old.size);
                unmapWhileOver(limit);
                return {moved, size};
            }
            unmap(old);
        }
        unmapWhileOver(limit > size ? limit - size : 0);
        void* address = map(size);
        if (address == nullptr && !m_waiting.empty()) { // the system is short: every waiting block goes back first
            unmapWhileOver(0);
            address = map(size);
        }
        return {address, address ? size : 0};
    }

    size_t resizeCandidate(size_t size) const {
        size_t smallestHolding = m_waiting.size(), largest = 0;
        for (size_t i = 0; i < m_waiting.size(); ++i) {
            const size_t fits = m_waiting[i].size;
            if (fits >= size && (smallestHolding == m_waiting.size() || fits < m_waiting[smallestHolding].size))
                smallestHolding = i;
            if (fits > m_waiting[largest].size) largest = i;
        }
        return smallestHolding < m_waiting.size() ? smallestHolding : largest;
    }

    // Pages the system must fault in and zero. Past kThrashing times the peak in use since the
    // cache was last emptied, the requests keep missing the waiting blocks' sizes: the cache
    // allows itself more (up to kMostOverUsed), trading memory for not zeroing pages again.
    void faultedIn(size_t bytes) {
        m_freshBytes += bytes;
        m_freshSinceAllowance += bytes;
        if (m_freshSinceAllowance > kThrashing * std::max(m_peakUsed, kSmallest)) {
            m_allowance = std::min(m_allowance * 1.5, kMostOverUsed);
            m_freshSinceAllowance = 0;
        }
    }

    void* map(size_t size) {
        void* block = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (block == MAP_FAILED) return nullptr;
        // 2 MiB pages where the system allows them on request (Debian's default): a fresh block
        // costs 512 times fewer page faults (segment at the scale benchmark: 0.69 M against 1.70 M).
        adviseHugePages(block, size);
        m_mapped += size;
        faultedIn(size);
        return block;
    }
    // The longest waiting blocks go back to the system until at most `limit` is mapped (0: all).
    void unmapWhileOver(size_t limit) {
        size_t unmapped = 0;
        for (; unmapped < m_waiting.size() && m_mapped > limit; ++unmapped)
            unmap(m_waiting[unmapped]);
        m_waiting.erase(m_waiting.begin(), m_waiting.begin() + std::ptrdiff_t(unmapped));
    }
    void unmap(const Block& block) {
        munmap(block.address, block.size);
        m_mapped -= block.size;
    }

    std::mutex m_mutex;
    std::unordered_map<void*, InUse> m_inUse;
    std::vector<Block> m_waiting; // longest waiting first
    size_t m_used = 0, m_peakUsed = 0, m_mapped = 0, m_freshBytes = 0, m_freshSinceAllowance = 0;
    double m_allowance = kMappedOverUsed;
};

// Never destroyed: tensors may be freed during static destruction.
BlockCache& blockCache() {
    static auto* cache = new BlockCache;
    return *cache;
}

void freeBuffer(void* data) {
    if (!blockCache().give(data)) c10::free_cpu(data);
}

class BlockCacheAllocator final : public c10::Allocator {
public:
    c10::DataPtr allocate(size_t bytes) const override {
        if (bytes < kSmallest) {
            void* data = c10::alloc_cpu(bytes);
            return {data, data, &c10::free_cpu, c10::Device(c10::DeviceType::CPU)};
        }
        void* data = blockCache().take(bytes);
        return {data, data, &freeBuffer, c10::Device(c10::DeviceType::CPU)};
    }
    // oneDNN's buffers come through raw_allocate and go back through this.
    c10::DeleterFnPtr raw_deleter() const override { return &freeBuffer; }
};

void releaseBlockCache() {
    blockCache().release();
}

} // namespace

void useCpuBlockCache() {
    static const bool installed = [] {
        if (const char* off = std::getenv("SEGXAI_SYSTEM_MALLOC"); off && std::string(off) == "1") return false;
        static auto* allocator = new BlockCacheAllocator;
        c10::SetCPUAllocator(allocator, /*priority=*/1);
        addFreedMemoryCache(&releaseBlockCache);
        return true;
    }();
    (void)installed;
}

CpuBlockCacheBytes cpuBlockCacheBytes() {
    return blockCache().bytes();
}

} // namespace segxai
