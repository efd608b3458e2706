#pragma once
#include "engine/core/volume.h"

#include <optional>

namespace segxai {

// Resamples onto `target` through world coordinates; voxels outside the source are
// `outside`. Linear for images, nearest neighbour for labels.
Volume resampleLinear(const Volume& source, const Geometry& target, float outside = 0.0f);
LabelVolume resampleNearest(const LabelVolume& source, const Geometry& target);
// The value at a world point as resampleLinear reads it; nullopt outside the volume (or where
// it holds NaN).
std::optional<float> sampleLinear(const Volume& volume, const glm::dvec3& world);

// The adjoint of resampleLinear(., from): spreads each voxel value of `values` (on `from`) over
// the voxels of `to` with the same trilinear weights resampleLinear reads them with, so that
// sum(values * resampleLinear(f, from)) == sum(scatterLinear(values, from, to) * f) for any
// f on `to`. Used to pull a target defined on the study grid back onto the model's grid.
std::vector<float> scatterLinear(const std::vector<float>& values, const Geometry& from, const Geometry& to);
std::vector<float> scatterLinear(const std::vector<uint8_t>& mask, const Geometry& from, const Geometry& to);

} // namespace segxai
