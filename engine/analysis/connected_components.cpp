#include "engine/analysis/connected_components.h"

#include "engine/core/cpu_cores.h"
#include "engine/core/error.h"
#include "engine/core/parallel.h"

#include <algorithm>
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

// Unites the sets of provisional labels `a` and `b`; the older label stays the root.
int32_t unite(std::vector<int32_t>& parent, int32_t a, int32_t b) {
    a = rootOf(parent, a);
    b = rootOf(parent, b);
    if (a == b) return a;
    parent[size_t(std::max(a, b))] = std::min(a, b);
    return std::min(a, b);
}

// The neighbours visited before a voxel in memory order: half of them.
struct EarlierNeighbours {
    std::vector<std::array<int, 3>> offsets;
    std::vector<int64_t> steps;
};

EarlierNeighbours earlierNeighbours(const Geometry& geometry, int connectivity) {
    const auto& d = geometry.dims;
    EarlierNeighbours earlier;
    for (const auto& o : neighbourOffsets(connectivity)) {
        const int64_t step = o[0] + d[0] * (o[1] + d[1] * o[2]);
        if (step >= 0) continue;
        earlier.offsets.push_back(o);
        earlier.steps.push_back(step);
    }
    return earlier;
}

// The first pass over planes [k0, k1) in memory order (no flood fill's scattered reads): each
// voxel whose key is non-zero gets the label of a neighbour already visited with the same key
// (in these planes only), or a new one; `parent` records which labels meet.
template <typename Key>
std::vector<int32_t> labelSlab(const Geometry& geometry, const EarlierNeighbours& earlier, int64_t k0, int64_t k1,
                               const Key& key, std::vector<int32_t>& labels) {
    const auto& d = geometry.dims;
    std::vector<int32_t> parent{0};
    for (int64_t k = k0; k < k1; ++k)
        for (int64_t j = 0; j < d[1]; ++j)
            for (int64_t i = 0; i < d[0]; ++i) {
                const int64_t n = i + d[0] * (j + d[1] * k);
                const auto value = key(size_t(n));
                if (!value) continue;
                const bool inner = i > 0 && j > 0 && k > k0 && i < d[0] - 1 && j < d[1] - 1;
                int32_t label = 0;
                for (size_t s = 0; s < earlier.steps.size(); ++s) {
                    if (!inner) {
                        const auto& o = earlier.offsets[s];
                        const int64_t x = i + o[0], y = j + o[1], z = k + o[2];
                        if (x < 0 || y < 0 || z < k0 || x >= d[0] || y >= d[1]) continue;
                    }
                    const size_t m = size_t(n + earlier.steps[s]);
                    if (key(m) != value) continue;
                    label = label ? unite(parent, label, labels[m]) : rootOf(parent, labels[m]);
                }
                if (!label) {
                    label = int32_t(parent.size());
                    parent.push_back(label);
                }
                labels[size_t(n)] = label;
            }
    return parent;
}

// Slabs of planes labelled at once on every core, each with labels of its own; then the labels
// of neighbours across each slab's first plane united, and every label replaced by its
// component's number, counted in the scan order of the component's first voxel (as one pass
// over the whole grid would: the test compares with a plain union-find).
template <typename Key> Components labelComponents(const Geometry& geometry, int connectivity, Key key) {
    const auto& d = geometry.dims;
    const EarlierNeighbours earlier = earlierNeighbours(geometry, connectivity);
    Components c;
    c.geometry = geometry;
    c.labels = zeroedVector<int32_t>(geometry.voxelCount());
    const int64_t slabs = std::clamp<int64_t>(usableCores(), 1, std::max<int64_t>(1, d[2]));
    const auto firstPlane = [&](int64_t slab) { return slab * d[2] / slabs; };
    std::vector<std::vector<int32_t>> parents(static_cast<size_t>(slabs));
    parallelFor(slabs, [&](int64_t first, int64_t last) {
        for (int64_t slab = first; slab < last; ++slab)
            parents[size_t(slab)] = labelSlab(geometry, earlier, firstPlane(slab), firstPlane(slab + 1), key, c.labels);
    });
    // One label space: each slab's labels after the ones before it.
    std::vector<int32_t> parent{0};
    std::vector<int32_t> offsets(size_t(slabs), 0);
    for (int64_t slab = 0; slab < slabs; ++slab) {
        offsets[size_t(slab)] = int32_t(parent.size()) - 1;
        for (size_t l = 1; l < parents[size_t(slab)].size(); ++l)
            parent.push_back(parents[size_t(slab)][l] + offsets[size_t(slab)]);
        parents[size_t(slab)] = {};
    }
    const int64_t planeVoxels = d[0] * d[1];
    parallelFor(slabs, [&](int64_t first, int64_t last) {
        for (int64_t slab = first; slab < last; ++slab) {
            const int32_t offset = offsets[size_t(slab)];
            if (offset == 0) continue;
            for (int64_t n = firstPlane(slab) * planeVoxels; n < firstPlane(slab + 1) * planeVoxels; ++n)
                if (c.labels[size_t(n)]) c.labels[size_t(n)] += offset;
        }
    });
    for (int64_t slab = 1; slab < slabs; ++slab) {
        const int64_t k = firstPlane(slab);
        for (int64_t j = 0; j < d[1]; ++j)
            for (int64_t i = 0; i < d[0]; ++i) {
                const int64_t n = i + d[0] * (j + d[1] * k);
                const auto value = key(size_t(n));
                if (!value) continue;
                for (size_t s = 0; s < earlier.steps.size(); ++s) {
                    const auto& o = earlier.offsets[s];
                    const int64_t x = i + o[0], y = j + o[1];
                    if (o[2] != -1 || x < 0 || y < 0 || x >= d[0] || y >= d[1]) continue;
                    const size_t m = size_t(n + earlier.steps[s]);
                    if (key(m) == value) unite(parent, c.labels[size_t(n)], c.labels[m]);
                }
            }
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
