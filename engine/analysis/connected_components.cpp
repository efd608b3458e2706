#include "engine/analysis/connected_components.h"

#include "engine/core/error.h"

#include <array>

namespace segxai {

Components connectedComponents(const Geometry& geometry, const std::vector<uint8_t>& mask, int connectivity) {
    if (connectivity != 6 && connectivity != 18 && connectivity != 26) {
        throw Error("connectivity must be 6, 18 or 26, not " + std::to_string(connectivity));
    }
    std::vector<std::array<int, 3>> offsets;
    for (int dz = -1; dz <= 1; ++dz)
        for (int dy = -1; dy <= 1; ++dy)
            for (int dx = -1; dx <= 1; ++dx) {
                const int order = std::abs(dx) + std::abs(dy) + std::abs(dz);
                if (order == 0 || (connectivity == 6 && order > 1) || (connectivity == 18 && order > 2)) continue;
                offsets.push_back({dx, dy, dz});
            }
    Components c;
    c.geometry = geometry;
    c.labels.assign(geometry.voxelCount(), 0);
    c.sizes = {0};
    const auto& d = geometry.dims;
    std::vector<int64_t> stack;
    for (int64_t start = 0; start < int64_t(mask.size()); ++start) {
        if (!mask[size_t(start)] || c.labels[size_t(start)]) continue;
        const int32_t id = int32_t(c.sizes.size());
        c.sizes.push_back(0);
        c.labels[size_t(start)] = id;
        stack.push_back(start);
        while (!stack.empty()) {
            const int64_t n = stack.back();
            stack.pop_back();
            ++c.sizes[size_t(id)];
            const int64_t i = n % d[0], j = n / d[0] % d[1], k = n / (d[0] * d[1]);
            for (const auto& o : offsets) {
                const int64_t x = i + o[0], y = j + o[1], z = k + o[2];
                if (x < 0 || y < 0 || z < 0 || x >= d[0] || y >= d[1] || z >= d[2]) continue;
                const size_t m = size_t(x + d[0] * (y + d[1] * z));
                if (!mask[m] || c.labels[m]) continue;
                c.labels[m] = id;
                stack.push_back(int64_t(m));
            }
        }
    }
    return c;
}

std::vector<uint8_t> labelMask(const LabelVolume& labels, uint16_t label) {
    std::vector<uint8_t> mask(labels.labels.size());
    for (size_t n = 0; n < mask.size(); ++n)
        mask[n] = labels.labels[n] == label;
    return mask;
}

} // namespace segxai
