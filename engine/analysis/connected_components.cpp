#include "engine/analysis/connected_components.h"

#include "engine/core/error.h"

#include <array>

namespace segxai {
namespace {

std::vector<std::array<int, 3>> neighbourOffsets(int connectivity) {
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
    return offsets;
}

// The root of provisional label `l`, halving the path on the way.
int32_t rootOf(std::vector<int32_t>& parent, int32_t l) {
    while (parent[size_t(l)] != l) {
        parent[size_t(l)] = parent[size_t(parent[size_t(l)])];
        l = parent[size_t(l)];
    }
    return l;
}

// Two passes over the grid in memory order (no flood fill's scattered reads): the first gives
// each voxel whose key is non-zero the label of a neighbour already visited with the same key,
// or a new one, and records which labels meet; the second replaces each by its component's
// number, counted in the scan order of the component's first voxel.
template <typename Key> Components labelComponents(const Geometry& geometry, int connectivity, Key key) {
    const auto& d = geometry.dims;
    // The neighbours visited before a voxel: half of them, those earlier in memory order.
    std::vector<std::array<int, 3>> before;
    std::vector<int64_t> steps;
    for (const auto& o : neighbourOffsets(connectivity)) {
        const int64_t step = o[0] + d[0] * (o[1] + d[1] * o[2]);
        if (step >= 0) continue;
        before.push_back(o);
        steps.push_back(step);
    }
    Components c;
    c.geometry = geometry;
    c.labels = zeroedVector<int32_t>(geometry.voxelCount());
    std::vector<int32_t> parent{0};
    for (int64_t k = 0; k < d[2]; ++k)
        for (int64_t j = 0; j < d[1]; ++j)
            for (int64_t i = 0; i < d[0]; ++i) {
                const int64_t n = i + d[0] * (j + d[1] * k);
                const auto value = key(size_t(n));
                if (!value) continue;
                const bool inner = i > 0 && j > 0 && k > 0 && i < d[0] - 1 && j < d[1] - 1;
                int32_t label = 0;
                for (size_t s = 0; s < steps.size(); ++s) {
                    if (!inner) {
                        const int64_t x = i + before[s][0], y = j + before[s][1], z = k + before[s][2];
                        if (x < 0 || y < 0 || z < 0 || x >= d[0] || y >= d[1]) continue;
                    }
                    const size_t m = size_t(n + steps[s]);
                    if (key(m) != value) continue;
                    const int32_t other = rootOf(parent, c.labels[m]);
                    if (!label) {
                        label = other;
                    } else if (other != label) {
                        // The older label stays the root.
                        const int32_t young = std::max(label, other);
                        label = std::min(label, other);
                        parent[size_t(young)] = label;
                    }
                }
                if (!label) {
                    label = int32_t(parent.size());
                    parent.push_back(label);
                }
                c.labels[size_t(n)] = label;
            }
    std::vector<int32_t> number(parent.size(), 0);
    c.sizes = {0};
    for (int32_t& label : c.labels) {
        if (!label) continue;
        int32_t& id = number[size_t(rootOf(parent, label))];
        if (!id) {
            id = int32_t(c.sizes.size());
            c.sizes.push_back(0);
        }
        label = id;
        ++c.sizes[size_t(id)];
    }
    return c;
}

} // namespace

Components connectedComponents(const Geometry& geometry, const std::vector<uint8_t>& mask, int connectivity) {
    return labelComponents(geometry, connectivity, [&](size_t n) { return mask[n] != 0; });
}

Components connectedRegions(const LabelVolume& labels, int connectivity) {
    return labelComponents(labels.geometry, connectivity, [&](size_t n) { return labels.labels[n]; });
}

std::vector<uint8_t> labelMask(const LabelVolume& labels, uint16_t label) {
    std::vector<uint8_t> mask(labels.labels.size());
    for (size_t n = 0; n < mask.size(); ++n)
        mask[n] = labels.labels[n] == label;
    return mask;
}

} // namespace segxai
