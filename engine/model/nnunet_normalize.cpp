#include "engine/model/nnunet_normalize.h"

#include "engine/core/error.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace segxai {
namespace {

// numpy's pairwise_sum_FLOAT: plain below 8 values, 8 accumulators up to 128, halves above.
float pairwise(const float* a, int64_t n) {
    if (n < 8) {
        float r = 0.0f;
        for (int64_t i = 0; i < n; ++i)
            r += a[i];
        return r;
    }
    if (n <= 128) {
        float r[8];
        for (int j = 0; j < 8; ++j)
            r[j] = a[j];
        int64_t i = 8;
        for (; i < n - n % 8; i += 8)
            for (int j = 0; j < 8; ++j)
                r[j] += a[i + j];
        float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; ++i)
            res += a[i];
        return res;
    }
    int64_t half = n / 2;
    half -= half % 8;
    return pairwise(a, half) + pairwise(a + half, n - half);
}

// numpy's float32 mean and population standard deviation.
struct Moments {
    float mean = 0.0f, sd = 0.0f;
};

Moments moments(const std::vector<float>& v) {
    Moments m;
    if (v.empty()) return m;
    const float n = float(v.size());
    m.mean = numpyFloat32Sum(v.data(), int64_t(v.size())) / n;
    std::vector<float> squares(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
        const float d = v[i] - m.mean;
        squares[i] = d * d;
    }
    m.sd = std::sqrt(numpyFloat32Sum(squares.data(), int64_t(squares.size())) / n);
    return m;
}

// Python's max(std, 1e-8) with a float32 std, then used on a float32 array.
float atLeastEpsilon(float sd) {
    return 1e-8 > double(sd) ? float(1e-8) : sd;
}

} // namespace

float numpyFloat32Sum(const float* values, int64_t count) {
    constexpr int64_t kBlock = 8192; // numpy's reduction buffer
    float total = 0.0f;
    for (int64_t start = 0; start < count; start += kBlock)
        total += pairwise(values + start, std::min(kBlock, count - start));
    return total;
}

void normalizeNnunetChannel(std::vector<float>& x, const std::vector<uint8_t>& mask, const NnunetNormalization& n,
                            const std::string& origin) {
    using Scheme = NnunetNormalization::Scheme;
    switch (n.scheme) {
    case Scheme::CT: {
        // np.clip, then -= mean and /= max(std, 1e-8), all in float32 (python floats cast first).
        const float lower = float(n.lower), upper = float(n.upper), mean = float(n.mean);
        const float sd = float(std::max(n.sd, 1e-8));
        for (float& v : x)
            v = (std::min(std::max(v, lower), upper) - mean) / sd;
        return;
    }
    case Scheme::ZScore: {
        if (n.useMask) {
            std::vector<float> inside;
            for (size_t i = 0; i < x.size(); ++i)
                if (mask[i]) inside.push_back(x[i]);
            const Moments m = moments(inside);
            const float sd = atLeastEpsilon(m.sd);
            for (size_t i = 0; i < x.size(); ++i)
                if (mask[i]) x[i] = (x[i] - m.mean) / sd;
            return;
        }
        const Moments m = moments(x);
        const float sd = atLeastEpsilon(m.sd);
        for (float& v : x)
            v = (v - m.mean) / sd;
        return;
    }
    case Scheme::RescaleTo01: {
        if (x.empty()) return;
        const float low = *std::min_element(x.begin(), x.end());
        for (float& v : x)
            v -= low;
        const float high = std::max(*std::max_element(x.begin(), x.end()), float(1e-8));
        for (float& v : x)
            v /= high;
        return;
    }
    case Scheme::RgbTo01:
        for (float& v : x) {
            if (v < 0.0f || v > 255.0f)
                throw Error(fmt::format("{}: RGBTo01Normalization needs intensities from 0 to 255, the study has {}",
                                        origin, v));
            v /= 255.0f;
        }
        return;
    case Scheme::None:
        return;
    }
}

uint16_t nnunetVoxel(std::vector<float>& v, const NnunetLabels& labels) {
    const size_t classes = v.size();
    if (labels.regions) {
        uint16_t label = 0;
        float most = 0.0f;
        for (size_t c = 1; c < classes; ++c) {
            v[c] = 1.0f / (1.0f + std::exp(-v[c]));
            most = std::max(most, v[c]);
        }
        for (int c : labels.regionOrder)
            if (v[size_t(c)] > 0.5f) label = uint16_t(c);
        v[0] = 1.0f - most;
        return label;
    }
    size_t best = 0;
    for (size_t c = 1; c < classes; ++c)
        if (v[c] > v[best]) best = c;
    const float top = v[best];
    float sum = 0.0f;
    for (size_t c = 0; c < classes; ++c) {
        v[c] = std::exp(v[c] - top);
        sum += v[c];
    }
    for (size_t c = 0; c < classes; ++c)
        v[c] /= sum;
    return uint16_t(best);
}

} // namespace segxai
