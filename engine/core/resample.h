#pragma once
#include "engine/core/volume.h"

#include <array>
#include <optional>

namespace segxai {

// Resamples onto `target` through world coordinates; voxels outside the source are
// `outside`. Linear for images, nearest neighbour for labels.
Volume resampleLinear(const Volume& source, const Geometry& target, float outside = 0.0f);
LabelVolume resampleNearest(const LabelVolume& source, const Geometry& target);
// The value at a world point as resampleLinear reads it; nullopt outside the volume (or where
// it holds NaN).
std::optional<float> sampleLinear(const Volume& volume, const glm::dvec3& world);

// The map from a `target` voxel index to a `source` continuous index that resampleLinear uses.
glm::dmat4 targetToSource(const Geometry& source, const Geometry& target);

// The voxels of `grid` (at most 8) and their weights that resampleLinear reads at continuous
// index `c`; none outside the grid. For values that are not one Volume (a sparse set of classes).
struct LinearTaps {
    std::array<size_t, 8> voxel{};
    std::array<double, 8> weight{};
    int count = 0;
};
LinearTaps linearTaps(const Geometry& grid, const glm::dvec3& c);

// The adjoint of resampleLinear(., from): spreads each voxel value of `values` (on `from`) over
// the voxels of `to` with the same trilinear weights resampleLinear reads them with, so that
// sum(values * resampleLinear(f, from)) == sum(scatterLinear(values, from, to) * f) for any
// f on `to`. Used to pull a target defined on the study grid back onto the model's grid.
std::vector<float> scatterLinear(const std::vector<float>& values, const Geometry& from, const Geometry& to);
std::vector<float> scatterLinear(const std::vector<uint8_t>& mask, const Geometry& from, const Geometry& to);

} // namespace segxai
