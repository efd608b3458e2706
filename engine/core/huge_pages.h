#pragma once
// Large buffers on 2 MiB pages. A buffer's first touch costs a page fault per page; on a
// virtual machine each fault costs microseconds, so zeroing a 512 x 512 x 400 float32 volume
// (420 MB, 100,000 faults of 4 KiB) took one core 1.1 s, and 0.36 s with 2 MiB pages
// (docs/performance.md#the-scale-benchmark). Where the system grants them on request
// (Debian's default, "madvise"), advising a range is enough; elsewhere it changes nothing.
#include <cstddef>
#include <vector>

namespace segxai {

// Asks the kernel for 2 MiB pages over the whole 4 KiB pages of [data, data + bytes), when
// the range is large enough to hold one.
void adviseHugePages(const void* data, size_t bytes);

// `count` value-initialised elements (zeros for numbers), faulted in on 2 MiB pages.
template <typename T, typename Allocator = std::allocator<T>> std::vector<T, Allocator> zeroedVector(size_t count) {
    std::vector<T, Allocator> out;
    out.reserve(count);
    adviseHugePages(out.data(), count * sizeof(T));
    out.resize(count);
    return out;
}

} // namespace segxai
