#include "engine/explain/map_statistics.h"

#include "engine/core/resample.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace segxai {
namespace {

const Volume& onGrid(const Volume& a, const Volume& b, Volume& storage) {
    if (b.geometry.sameGrid(a.geometry)) return b;
    storage = resampleLinear(b, a.geometry);
    return storage;
}

} // namespace

double pearsonCorrelation(const Volume& a, const Volume& bIn) {
    Volume storage;
    const Volume& b = onGrid(a, bIn, storage);
    const size_t n = a.voxels.size();
    if (n == 0) return 0.0;
    double ma = 0.0, mb = 0.0;
    for (size_t i = 0; i < n; ++i) {
        ma += a.voxels[i];
        mb += b.voxels[i];
    }
    ma /= double(n);
    mb /= double(n);
    double sab = 0.0, saa = 0.0, sbb = 0.0;
    for (size_t i = 0; i < n; ++i) {
        const double x = a.voxels[i] - ma, y = b.voxels[i] - mb;
        sab += x * y;
        saa += x * x;
        sbb += y * y;
    }
    return saa > 0.0 && sbb > 0.0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

std::vector<float> normalisedRanks(const std::vector<float>& values) {
    std::vector<size_t> order(values.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return values[x] < values[y]; });
    std::vector<float> ranks(values.size());
    const double scale = values.size() > 1 ? 1.0 / double(values.size() - 1) : 0.0;
    for (size_t i = 0; i < order.size();) {
        size_t j = i;
        while (j + 1 < order.size() && values[order[j + 1]] == values[order[i]])
            ++j;
        const float rank = float(0.5 * double(i + j) * scale);
        for (size_t k = i; k <= j; ++k)
            ranks[order[k]] = rank;
        i = j + 1;
    }
    return ranks;
}

Volume mapDifference(const Volume& a, const Volume& bIn, bool ranks) {
    Volume storage;
    const Volume& b = onGrid(a, bIn, storage);
    Volume d(a.geometry, "difference");
    if (ranks) {
        const auto ra = normalisedRanks(a.voxels), rb = normalisedRanks(b.voxels);
        for (size_t i = 0; i < d.voxels.size(); ++i)
            d.voxels[i] = ra[i] - rb[i];
        return d;
    }
    auto largest = [](const std::vector<float>& v) {
        float m = 0.0f;
        for (float x : v)
            m = std::max(m, std::abs(x));
        return m > 0.0f ? m : 1.0f;
    };
    const float sa = largest(a.voxels), sb = largest(b.voxels);
    for (size_t i = 0; i < d.voxels.size(); ++i)
        d.voxels[i] = a.voxels[i] / sa - b.voxels[i] / sb;
    return d;
}

} // namespace segxai
