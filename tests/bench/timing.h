#pragma once
// Wall-clock timing for the benchmarks: one run, or the median of repeats after a warm-up
// (as the Python peers time theirs).
#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace segxai::bench {

inline double seconds(const std::function<void()>& run) {
    const auto start = std::chrono::steady_clock::now();
    run();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

inline double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values.empty() ? 0.0 : values[values.size() / 2];
}

// One warm-up run, then the median of `repeats` timed runs.
inline double medianSeconds(int repeats, const std::function<void()>& run) {
    run();
    std::vector<double> t;
    for (int r = 0; r < repeats; ++r)
        t.push_back(seconds(run));
    return median(t);
}

} // namespace segxai::bench
