#pragma once
#include "engine/core/cpu_cores.h"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace segxai {

// Runs body(begin, end) over [0, count) split into contiguous chunks on every usable core. The first
// exception thrown by any chunk is rethrown on the caller's thread.
template <typename Body> void parallelFor(int64_t count, Body&& body, int64_t minChunk = 1) {
    const int64_t threads =
        std::clamp<int64_t>(std::min<int64_t>(usableCores(), count / std::max<int64_t>(1, minChunk)), 1, 64);
    if (threads <= 1) {
        body(int64_t(0), count);
        return;
    }
    std::exception_ptr failure;
    std::mutex failureMutex;
    std::vector<std::thread> pool;
    const int64_t chunk = (count + threads - 1) / threads;
    for (int64_t t = 0; t < threads; ++t) {
        const int64_t begin = t * chunk;
        const int64_t end = std::min(count, begin + chunk);
        if (begin >= end) break;
        pool.emplace_back([&, begin, end] {
            try {
                body(begin, end);
            } catch (...) {
                std::lock_guard lock(failureMutex);
                if (!failure) failure = std::current_exception();
            }
        });
    }
    for (auto& thread : pool)
        thread.join();
    if (failure) std::rethrow_exception(failure);
}

} // namespace segxai
