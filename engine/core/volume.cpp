#include "engine/core/volume.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace segxai {

ValueRange finiteRange(const std::vector<float>& values) {
    float lo = std::numeric_limits<float>::infinity();
    float hi = -std::numeric_limits<float>::infinity();
    for (float v : values) {
        if (!std::isfinite(v)) continue;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    if (lo > hi) return {};
    return {lo, hi};
}

ValueRange percentileRange(const std::vector<float>& values, double lowPercent, double highPercent) {
    // A strided sample keeps this fast on large CT volumes; display ranges need no more.
    const size_t stride = std::max<size_t>(1, values.size() / 1'000'000);
    std::vector<float> sample;
    sample.reserve(values.size() / stride + 1);
    for (size_t n = 0; n < values.size(); n += stride) {
        if (std::isfinite(values[n])) sample.push_back(values[n]);
    }
    if (sample.empty()) return {};
    auto pick = [&](double percent) {
        const size_t rank =
            std::min(sample.size() - 1, size_t(std::round(percent / 100.0 * double(sample.size() - 1))));
        std::nth_element(sample.begin(), sample.begin() + ptrdiff_t(rank), sample.end());
        return sample[rank];
    };
    return {pick(lowPercent), pick(highPercent)};
}

} // namespace segxai
