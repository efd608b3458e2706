#pragma once
#include "engine/core/geometry.h"

#include <array>
#include <cmath>
#include <vector>

namespace segxai {

// Which voxel axes a grid is mirrored along (test-time augmentation by flips). Mirroring twice
// along the same axes is the identity, so a flipped prediction is read back exactly.
using FlipAxes = std::array<bool, 3>;

inline bool anyFlip(const FlipAxes& flip) {
    return flip[0] || flip[1] || flip[2];
}

// The index of voxel (i, j, k) of `grid` mirrored along `flip`.
inline size_t mirroredIndex(const Geometry& grid, int64_t i, int64_t j, int64_t k, const FlipAxes& flip) {
    return grid.linearIndex(flip[0] ? grid.dims[0] - 1 - i : i, flip[1] ? grid.dims[1] - 1 - j : j,
                            flip[2] ? grid.dims[2] - 1 - k : k);
}

// `voxels` (in `grid`'s voxel order) mirrored along `flip`.
template <typename T>
std::vector<T> mirrored(const std::vector<T>& voxels, const Geometry& grid, const FlipAxes& flip) {
    std::vector<T> out(voxels.size());
    for (int64_t k = 0; k < grid.dims[2]; ++k)
        for (int64_t j = 0; j < grid.dims[1]; ++j)
            for (int64_t i = 0; i < grid.dims[0]; ++i)
                out[grid.linearIndex(i, j, k)] = voxels[mirroredIndex(grid, i, j, k, flip)];
    return out;
}

// The flip of `to`'s voxel axes that mirrors what `flip` mirrors of `from`'s: each axis of
// `from` matched with the axis of `to` closest to it in direction (grids of one study, e.g. a
// model's reoriented grid).
inline FlipAxes flipOnGrid(const FlipAxes& flip, const Geometry& from, const Geometry& to) {
    FlipAxes out{false, false, false};
    for (int a = 0; a < 3; ++a) {
        if (!flip[size_t(a)]) continue;
        int best = 0;
        for (int b = 1; b < 3; ++b) {
            if (std::abs(glm::dot(from.direction[a], to.direction[b])) >
                std::abs(glm::dot(from.direction[a], to.direction[best])))
                best = b;
        }
        out[size_t(best)] = true;
    }
    return out;
}

} // namespace segxai
