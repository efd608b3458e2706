#include "engine/core/huge_pages.h"

#include <cstdint>
#include <sys/mman.h>

namespace segxai {

void adviseHugePages(const void* data, size_t bytes) {
    constexpr uintptr_t kPage = 4096;
    constexpr size_t kHugePage = size_t(2) << 20;
    if (!data || bytes < kHugePage) return;
    const uintptr_t begin = (uintptr_t(data) + kPage - 1) & ~(kPage - 1);
    const uintptr_t end = (uintptr_t(data) + bytes) & ~(kPage - 1);
    // Advice only: where it is refused the buffer works the same on 4 KiB pages.
    if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

} // namespace segxai
