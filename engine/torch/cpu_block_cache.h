#pragma once
#include <cstddef>

// Engine-internal: LibTorch's large CPU buffers, each mapped on its own and reused by size.
//
// Why: a sliding-window forward allocates and frees the same buffers (tens of megabytes to
// gigabytes) in every window. In glibc's heap (kept for reuse, engine/core/memory_budget.cpp)
// they fragment it: the same binary and command on 105 classes at Colin27 peaked anywhere from
// 1.9 to 3.9 GB, because a buffer that no longer fits a hole extends the heap's top. Here a
// freed buffer waits for the next request it holds; after the first windows nearly every
// request finds one, so the memory mapped follows what one window needs at once (within 1.5
// times), the same from run to run (docs/performance.md#allocator).

namespace segxai {

// Makes LibTorch allocate CPU buffers of 1 MiB and more through the block cache (smaller ones
// stay with its default allocator). Idempotent; does nothing when SEGXAI_SYSTEM_MALLOC=1.
// Cached blocks go back to the system with releaseFreedMemory (engine/core/memory_budget.h).
void useCpuBlockCache();

// What the block cache holds now, in bytes (page-rounded): mapped in all, in use by tensors,
// and the most in use at once since it was last emptied; and how much it has mapped afresh
// since the process started (new blocks and the growth of resized ones: pages the system had
// to fault in and zero, where a reused block costs nothing).
struct CpuBlockCacheBytes {
    size_t mapped = 0, inUse = 0, peakInUse = 0, freshBytes = 0;
};
CpuBlockCacheBytes cpuBlockCacheBytes();

} // namespace segxai
