#pragma once
#include "engine/core/geometry.h"

namespace segxai {

// The grid covering the same physical box as `g` with another voxel spacing: same direction,
// dims = max(1, round(extent / spacing)), the box's first corner kept in place. This is the
// grid a model card's spacing_mm asks for, and the one demo training data are written in.
Geometry gridWithSpacing(const Geometry& g, const glm::dvec3& spacing);

// The grid covering `g`'s box with axes along RAS (LPS direction diag(-1, -1, 1)), each axis
// taking the spacing of the source axis closest to it: what "orientation": "RAS" asks for.
Geometry rasGrid(const Geometry& g);

} // namespace segxai
