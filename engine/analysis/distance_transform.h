#pragma once
#include "engine/core/geometry.h"

#include <cstdint>
#include <vector>

namespace segxai {

// Exact Euclidean distance, in mm with the grid's true (anisotropic) spacing, from every voxel
// centre to the nearest voxel centre where `mask` is non-zero (0 there). Infinity everywhere
// when the mask is empty. Separable lower-envelope transform (Felzenszwalb and Huttenlocher),
// linear in the voxel count.
std::vector<float> distanceToMask(const Geometry& grid, const std::vector<uint8_t>& mask);

// Voxels within `radiusMm` of the mask (the mask dilated by a ball of that radius).
std::vector<uint8_t> dilateMm(const Geometry& grid, const std::vector<uint8_t>& mask, double radiusMm);

} // namespace segxai
