#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace segxai {

// Memory the system can still give (MemAvailable), in bytes, at most SEGXAI_MEMORY_LIMIT_MB
// when that is set (a share of a shared node, or a test); 0 if unknown.
uint64_t availableMemoryBytes();

// "1.4 GB", "35 MB" or "1.2 MB": a size for a message (decimal units, as the system monitor shows them).
std::string describeBytes(uint64_t bytes);

// The process's resident memory now (VmRSS), in bytes; 0 if unknown.
uint64_t residentMemoryBytes();

// Hands memory the allocators keep after large frees back to the system (glibc's
// malloc_trim, and every cache registered below), so a long batch's resident size stays what
// it uses.
void releaseFreedMemory();

// Adds a cache of freed memory that releaseFreedMemory empties too (LibTorch's block cache,
// which lives above this layer).
void addFreedMemoryCache(void (*release)());

// The process's peak resident memory since construction (the peak counter is reset), for
// measuring what one sample of a batched computation costs.
class PeakMemoryProbe {
public:
    PeakMemoryProbe();
    uint64_t growthBytes() const; // peak since construction minus resident at construction

private:
    uint64_t m_start = 0;
};

// How many items costing `bytesPerItem` each fit a quarter of the available memory (at most
// `cap`, 2 GiB unless given; 1 GiB when unknown), clamped to [1, max(items, 1)]: targets
// explained together.
size_t itemsForQuarterBudget(uint64_t bytesPerItem, size_t items, uint64_t cap = uint64_t(2) << 30);

// How many samples fit a budget of half the available memory (at most 8 GB), given one
// sample's cost: clamped to [1, maximum].
int batchForBudget(uint64_t bytesPerSample, int maximum);

} // namespace segxai
