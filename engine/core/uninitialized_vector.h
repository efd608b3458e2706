#pragma once
// A std::vector whose new elements of trivial type are left unwritten by resize, so that a
// large buffer is filled, and its pages first touched, by every core (parallelFill) instead of
// by the constructor on one: zeroing the 1.7 GB of the scale benchmark's kept probabilities took
// one core 6 s at the end of every segmentation (docs/performance.md#threads).
#include "engine/core/huge_pages.h"
#include "engine/core/parallel.h"

#include <algorithm>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace segxai {

template <typename T> class DefaultInitAllocator : public std::allocator<T> {
public:
    template <typename U> struct rebind { using other = DefaultInitAllocator<U>; };
    DefaultInitAllocator() = default;
    template <typename U> DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}
    template <typename U> void construct(U* at) noexcept(std::is_nothrow_default_constructible_v<U>) {
        ::new (static_cast<void*>(at)) U;
    }
    template <typename U, typename... Args> void construct(U* at, Args&&... args) {
        ::new (static_cast<void*>(at)) U(std::forward<Args>(args)...);
    }
};

template <typename T> using UninitializedVector = std::vector<T, DefaultInitAllocator<T>>;

// `count` copies of `value`, written by every core.
template <typename T> UninitializedVector<T> parallelFilled(size_t count, T value) {
    UninitializedVector<T> out;
    out.reserve(count);
    adviseHugePages(out.data(), count * sizeof(T));
    out.resize(count);
    parallelFor(
        int64_t(count), [&](int64_t begin, int64_t end) { std::fill(out.begin() + begin, out.begin() + end, value); },
        1 << 20);
    return out;
}

} // namespace segxai
